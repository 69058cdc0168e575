package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// VaultValue is the value of one vault field kept for a subject: sealed
// under the subject's own key, with the token that stands for it in joins.
type VaultValue struct {
	SubjectID string
	Field     string
	Sealed    []byte
	Token     string
	UpdatedAt time.Time
}

var (
	// ErrErased is returned for a subject whose information was erased:
	// nothing is kept for them any more, and nothing new is.
	ErrErased = errors.New("subject erased")
	// ErrNoSubject is returned when no subject has the id; it is an
	// ErrNotFound, told apart from a subject without the value asked for.
	ErrNoSubject = fmt.Errorf("subject: %w", ErrNotFound)
)

// subjectLive checks, inside tx, that the subject is registered and not
// erased. Erasure and vault writes go through the same writer, so a value
// cannot land after the erasure that deletes the subject's values.
func (s *Store) subjectLive(ctx context.Context, tx *sql.Tx, id string) error {
	var erased sql.NullInt64
	err := tx.QueryRowContext(ctx, s.q(`SELECT erased_at FROM subjects WHERE org_id = ? AND id = ?`), s.org, id).Scan(&erased)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNoSubject
	case err != nil:
		return fmt.Errorf("subject: %w", mapErr(err))
	case erased.Valid:
		return ErrErased
	}
	return nil
}

// PutVault keeps v, replacing the field's earlier value, with its audit
// entries. It fails with ErrNoSubject or ErrErased.
func (s *Store) PutVault(ctx context.Context, v VaultValue, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		if err := s.subjectLive(ctx, tx, v.SubjectID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO vault_values (org_id, subject_id, field, sealed, token, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, subject_id, field) DO UPDATE SET sealed = excluded.sealed, token = excluded.token, updated_at = excluded.updated_at`),
			s.org, v.SubjectID, v.Field, v.Sealed, v.Token, micros(v.UpdatedAt))
		if err != nil {
			return fmt.Errorf("put vault value: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
}

// VaultValue reads a subject's value of field, in one query that also
// tells an unknown subject (ErrNoSubject) and an erased one (ErrErased)
// from a subject without the value (ErrNotFound).
func (s *Store) VaultValue(ctx context.Context, subjectID, field string) (VaultValue, error) {
	var erased, updated sql.NullInt64
	var token sql.NullString
	v := VaultValue{SubjectID: subjectID, Field: field}
	err := s.rd().QueryRowContext(ctx, s.q(`SELECT s.erased_at, v.sealed, v.token, v.updated_at FROM subjects s
		LEFT JOIN vault_values v ON v.org_id = s.org_id AND v.subject_id = s.id AND v.field = ? WHERE s.org_id = ? AND s.id = ?`), field, s.org, subjectID).
		Scan(&erased, &v.Sealed, &token, &updated)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return VaultValue{}, ErrNoSubject
	case err != nil:
		return VaultValue{}, fmt.Errorf("vault value: %w", mapErr(err))
	case erased.Valid:
		return VaultValue{}, ErrErased
	case !token.Valid:
		return VaultValue{}, fmt.Errorf("vault value: %w", ErrNotFound)
	}
	v.Token, v.UpdatedAt = token.String, fromMicros(updated.Int64)
	return v, nil
}

// VaultValues lists the values kept for a subject, by field, for their
// own export. It fails with ErrNoSubject or ErrErased, told apart in the
// same query as in VaultValue; a subject without values has none.
func (s *Store) VaultValues(ctx context.Context, subjectID string) ([]VaultValue, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT s.erased_at, v.field, v.sealed, v.token, v.updated_at FROM subjects s
		LEFT JOIN vault_values v ON v.org_id = s.org_id AND v.subject_id = s.id WHERE s.org_id = ? AND s.id = ? ORDER BY v.field`), s.org, subjectID)
	if err != nil {
		return nil, fmt.Errorf("vault values: %w", mapErr(err))
	}
	defer rows.Close()
	var out []VaultValue
	found := false
	for rows.Next() {
		var erased, updated sql.NullInt64
		var field, token sql.NullString
		var sealed []byte
		if err := rows.Scan(&erased, &field, &sealed, &token, &updated); err != nil {
			return nil, fmt.Errorf("vault values: %w", mapErr(err))
		}
		found = true
		if erased.Valid {
			return nil, ErrErased
		}
		if field.Valid {
			out = append(out, VaultValue{SubjectID: subjectID, Field: field.String, Sealed: sealed, Token: token.String, UpdatedAt: fromMicros(updated.Int64)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vault values: %w", mapErr(err))
	}
	if !found {
		return nil, ErrNoSubject
	}
	return out, nil
}

// DeleteVault deletes a subject's value of field, if there is one, with
// its audit entries. It fails with ErrNoSubject or ErrErased.
func (s *Store) DeleteVault(ctx context.Context, subjectID, field string, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		if err := s.subjectLive(ctx, tx, subjectID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM vault_values WHERE org_id = ? AND subject_id = ? AND field = ?`), s.org, subjectID, field); err != nil {
			return fmt.Errorf("delete vault value: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
}

// vaultExpireBatch bounds the rows one retention transaction deletes, so
// that a sweep over a large vault holds the writer for short spells.
var vaultExpireBatch = 500

// ExpireVault deletes the values of field last written before cutoff, in
// transactions of at most vaultExpireBatch rows, and returns how many in
// all. Each transaction that deletes any carries one audit entry, made by
// entry with the number it deleted: the writer takes a write's entries
// after its Fn has run, so the count is the one committed.
func (s *Store) ExpireVault(ctx context.Context, field string, cutoff time.Time, entry func(n int) audit.Entry) (int, error) {
	return s.ExpireVaultKeeping(ctx, field, cutoff, nil, entry)
}

// ExpireVaultKeeping is ExpireVault that keeps the values of the subjects
// in keep (those a legal hold covers).
func (s *Store) ExpireVaultKeeping(ctx context.Context, field string, cutoff time.Time, keep []string, entry func(n int) audit.Entry) (int, error) {
	except, args := "", []any{s.org, s.org, field, micros(cutoff)}
	if len(keep) > 0 {
		except = ` AND subject_id NOT IN (?` + strings.Repeat(`, ?`, len(keep)-1) + `)`
		for _, k := range keep {
			args = append(args, k)
		}
	}
	args = append(args, vaultExpireBatch)
	total := 0
	for {
		// The count crosses from the writer's goroutine, which may still
		// be running Fn when a cancelled ctx has made Submit return.
		var count atomic.Int64
		w := &Write{}
		w.Fn = func(ctx context.Context, tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, s.q(`DELETE FROM vault_values WHERE org_id = ? AND (subject_id, field) IN
				(SELECT subject_id, field FROM vault_values WHERE org_id = ? AND field = ? AND updated_at < ?`+except+` LIMIT ?)`), args...)
			if err != nil {
				return fmt.Errorf("expire vault values: %w", mapErr(err))
			}
			affected, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("expire vault values: %w", mapErr(err))
			}
			count.Store(affected)
			w.Audit = nil
			if affected > 0 {
				w.Audit = []audit.Entry{entry(int(affected))}
			}
			return nil
		}
		err := s.Submit(ctx, w)
		n := int(count.Load())
		if err != nil {
			return total, err
		}
		total += n
		if n < vaultExpireBatch {
			return total, nil
		}
	}
}
