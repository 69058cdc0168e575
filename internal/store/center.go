package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Wards lists the subjects whose registered guardian is guardianID, in id
// order: the minors a guardian manages in the privacy center. Erased
// subjects have no guardian any more and so are never listed.
func (s *Store) Wards(ctx context.Context, guardianID string) ([]string, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT id FROM subjects WHERE org_id = ? AND guardian_id = ? ORDER BY id LIMIT 100`), s.org, guardianID)
	if err != nil {
		return nil, fmt.Errorf("wards: %w", mapErr(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("wards: %w", mapErr(err))
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("wards: %w", mapErr(err))
	}
	return out, nil
}

// Signin is a privacy-center sign-in waiting for its one-time code.
type Signin struct {
	ID        string
	SubjectID string // empty when the identity is not on file
	CodeHash  []byte
	Attempts  int
	ExpiresAt time.Time
	CreatedAt time.Time
}

// PutSignin stores a sign-in, and drops the organisation's expired ones on
// the way.
func (s *Store) PutSignin(ctx context.Context, si Signin) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM center_signins WHERE org_id = ? AND expires_at < ?`), s.org, micros(si.CreatedAt)); err != nil {
			return fmt.Errorf("signin: %w", mapErr(err))
		}
		var subject any
		if si.SubjectID != "" {
			subject = si.SubjectID
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO center_signins (org_id, id, subject_id, code_hash, attempts, expires_at, created_at) VALUES (?, ?, ?, ?, 0, ?, ?)`),
			s.org, si.ID, subject, si.CodeHash, micros(si.ExpiresAt), micros(si.CreatedAt))
		if err != nil {
			return fmt.Errorf("signin: %w", mapErr(err))
		}
		return nil
	}})
}

// SigninAttempt durably counts one attempt at a sign-in's code and
// returns the sign-in with the attempts so far, before the code is
// compared: neither a crash nor another instance can give a guesser extra
// tries.
func (s *Store) SigninAttempt(ctx context.Context, id string) (Signin, error) {
	var si Signin
	err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE center_signins SET attempts = attempts + 1 WHERE org_id = ? AND id = ?`), s.org, id)
		if err != nil {
			return fmt.Errorf("signin attempt: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("signin: %w", ErrNotFound)
		}
		var subject sql.NullString
		var exp, created int64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT id, subject_id, code_hash, attempts, expires_at, created_at FROM center_signins WHERE org_id = ? AND id = ?`), s.org, id).
			Scan(&si.ID, &subject, &si.CodeHash, &si.Attempts, &exp, &created); err != nil {
			return fmt.Errorf("signin: %w", mapErr(err))
		}
		si.SubjectID, si.ExpiresAt, si.CreatedAt = subject.String, fromMicros(exp), fromMicros(created)
		return nil
	}})
	return si, err
}

// DeleteSignin ends a sign-in.
func (s *Store) DeleteSignin(ctx context.Context, id string) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`DELETE FROM center_signins WHERE org_id = ? AND id = ?`), s.org, id)
		return mapErr(err)
	}})
}
