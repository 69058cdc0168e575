package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// ErrNotOnTrail is returned by CutAudit for a start the trail does not
// pass through: no entry has that sequence number and hash.
var ErrNotOnTrail = errors.New("the trail does not pass through that entry")

// AuditStart returns where the organisation's kept trail begins: the last
// entry cut (its sequence number and hash); ok is false while nothing has
// been cut.
func (s *Store) AuditStart(ctx context.Context) (start audit.Chain, ok bool, err error) {
	err = s.rd().QueryRowContext(ctx, s.q(`SELECT seq, hash FROM audit_starts WHERE org_id = ?`), s.org).Scan(&start.Seq, &start.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Chain{}, false, nil
	}
	if err != nil {
		return audit.Chain{}, false, fmt.Errorf("audit start: %w", mapErr(err))
	}
	return start, true, nil
}

// CutAudit moves the start of the organisation's trail forward to at (an
// entry the trail passes through: ErrNotOnTrail otherwise), and deletes
// one batch of at most limit entries up to the start, the oldest first,
// in one transaction with the audit entry entry(n) returns when n > 0.
// The trail's first entry and its key rotations stay (the chain key in
// force at the start is read from them). A start already further along
// stays where it is; calling again with the same at deletes the next
// batch, so a cut interrupted by a crash goes on where it stopped. It
// returns how many entries went: fewer than limit when none is left.
func (s *Store) CutAudit(ctx context.Context, at audit.Chain, limit int, now time.Time, entry func(n int64) audit.Entry) (int64, error) {
	if limit <= 0 {
		limit = 1000
	}
	var n atomic.Int64 // set on the writer's goroutine
	w := &Write{}
	w.Fn = func(ctx context.Context, tx *sql.Tx) error {
		w.Audit = nil
		n.Store(0)
		var cur int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT seq FROM audit_starts WHERE org_id = ?`), s.org).Scan(&cur)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("cut audit: %w", mapErr(err))
		}
		if at.Seq > cur {
			var hash []byte
			err := tx.QueryRowContext(ctx, s.q(`SELECT hash FROM audit_log WHERE org_id = ? AND seq = ?`), s.org, at.Seq).Scan(&hash)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && !bytes.Equal(hash, at.Hash)) {
				return fmt.Errorf("cut audit at entry %d: %w", at.Seq, ErrNotOnTrail)
			}
			if err != nil {
				return fmt.Errorf("cut audit: %w", mapErr(err))
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO audit_starts (org_id, seq, hash, at) VALUES (?, ?, ?, ?)
				ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, at = excluded.at`),
				s.org, at.Seq, at.Hash, micros(now)); err != nil {
				return fmt.Errorf("cut audit: %w", mapErr(err))
			}
			cur = at.Seq
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM audit_log WHERE org_id = ? AND seq IN (
			SELECT seq FROM audit_log WHERE org_id = ? AND seq > 1 AND seq <= ? AND action <> '`+audit.ActionKeyRotate+`'
			ORDER BY seq LIMIT ?)`), s.org, s.org, cur, limit)
		if err != nil {
			return fmt.Errorf("cut audit: %w", mapErr(err))
		}
		deleted, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("cut audit: %w", mapErr(err))
		}
		n.Store(deleted)
		if deleted > 0 && entry != nil {
			w.Audit = []audit.Entry{entry(deleted)}
		}
		return nil
	}
	err := s.Submit(ctx, w)
	return n.Load(), err
}
