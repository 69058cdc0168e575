package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/notify"
)

// NoticeTarget is a subject a notice of a policy change may reach: one
// with an identity whose value is kept (sealed).
type NoticeTarget struct {
	ID         string
	Language   string
	Identities []Identity // kept ones only
}

// NoticeTargets returns up to limit subjects after the id after, in id
// order, that have a kept identity. With keys, only subjects holding
// ledger state for one of those keys are returned.
func (s *Store) NoticeTargets(ctx context.Context, after string, limit int, keys []string) ([]NoticeTarget, error) {
	inner := `SELECT id, language FROM subjects WHERE org_id = ? AND id > ?
		AND EXISTS (SELECT 1 FROM identities k WHERE k.org_id = subjects.org_id AND k.subject_id = subjects.id AND k.sealed IS NOT NULL)`
	args := []any{s.org, after}
	if len(keys) > 0 {
		args = append(args, s.org)
		inner += ` AND id IN (SELECT subject_id FROM consent_state WHERE org_id = ? AND purpose IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ") + `))`
		for _, k := range keys {
			args = append(args, k)
		}
	}
	inner += ` ORDER BY id LIMIT ?`
	args = append(args, limit)
	q := `SELECT s.id, s.language, i.kind, i.hash, i.sealed FROM (` + inner + `) s
		JOIN identities i ON i.org_id = ? AND i.subject_id = s.id AND i.sealed IS NOT NULL
		ORDER BY s.id, i.kind, i.created_at, i.hash`
	rows, err := s.rd().QueryContext(ctx, s.q(q), append(args, s.org)...)
	if err != nil {
		return nil, fmt.Errorf("notice targets: %w", mapErr(err))
	}
	defer rows.Close()
	var out []NoticeTarget
	for rows.Next() {
		var id string
		var lang sql.NullString
		var idn Identity
		if err := rows.Scan(&id, &lang, &idn.Kind, &idn.Hash, &idn.Sealed); err != nil {
			return nil, fmt.Errorf("notice targets: %w", mapErr(err))
		}
		if n := len(out); n == 0 || out[n-1].ID != id {
			out = append(out, NoticeTarget{ID: id, Language: lang.String})
		}
		out[len(out)-1].Identities = append(out[len(out)-1].Identities, idn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notice targets: %w", mapErr(err))
	}
	return out, nil
}

// QueueNotices commits one batch of a version's change notices: the
// deliveries, and the version's cursor moved from from to to (the batch's
// last subject), with the version done when done is set. It fails with
// ErrConflict when the cursor is no longer at from: another instance
// committed the batch first, and this one must not be sent twice.
func (s *Store) QueueNotices(ctx context.Context, seq int64, from, to string, done bool, ds []notify.Delivery, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE policy_versions SET notices_cursor = ?, notices_pending = ? WHERE org_id = ? AND seq = ? AND notices_cursor = ? AND notices_pending = 1`),
			to, boolInt(!done), s.org, seq, from)
		if err != nil {
			return fmt.Errorf("queue notices: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("queue notices for version %d: %w", seq, ErrConflict)
		}
		for _, d := range ds {
			if err := s.OutboxFn(d)(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	}, Audit: entries})
}

// NoticesCursor returns where a version's change notices stand.
func (s *Store) NoticesCursor(ctx context.Context, seq int64) (cursor string, pending bool, err error) {
	var p int
	if err := s.rd().QueryRowContext(ctx, s.q(`SELECT notices_cursor, notices_pending FROM policy_versions WHERE org_id = ? AND seq = ?`), s.org, seq).Scan(&cursor, &p); err != nil {
		return "", false, fmt.Errorf("notices cursor: %w", mapErr(err))
	}
	return cursor, p != 0, nil
}
