package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// RequestExpiry selects the closed requests whose records have been kept
// long enough (keep.Requests).
type RequestExpiry struct {
	// States are the closed states.
	States []string
	// Before: a request last changed, and taking effect, before it.
	Before time.Time
	// KeepSubjects are people whose requests stay whatever their age
	// (a legal hold names them).
	KeepSubjects []string
	// KeepPeriods keep the requests last changed in [From, To).
	KeepPeriods []Span
	// Limit bounds one batch (500 when not positive).
	Limit int
}

// Span is a period [From, To); a zero end is open.
type Span struct{ From, To time.Time }

// DeleteExpiredRequests deletes one batch of the requests f selects, the
// oldest first, with their history, one-time code, export bundles,
// recipient notices and transmissions, in one transaction with the audit entry that
// entry(n) returns when n > 0. It returns how many requests went: fewer
// than the limit when none is left.
func (s *Store) DeleteExpiredRequests(ctx context.Context, f RequestExpiry, entry func(n int64) audit.Entry) (int64, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	if len(f.States) == 0 {
		return 0, fmt.Errorf("expired requests: no closed state given")
	}
	before := micros(f.Before)
	q := `SELECT id FROM requests WHERE org_id = ? AND state IN (` + marks(len(f.States)) + `)
		AND updated_at < ? AND (effective_at IS NULL OR effective_at < ?)`
	args := []any{s.org}
	for _, st := range f.States {
		args = append(args, st)
	}
	args = append(args, before, before)
	if len(f.KeepSubjects) > 0 {
		q += ` AND (subject_id IS NULL OR subject_id NOT IN (` + marks(len(f.KeepSubjects)) + `))`
		for _, id := range f.KeepSubjects {
			args = append(args, id)
		}
	}
	for _, p := range f.KeepPeriods {
		from, to := int64(0), int64(1<<62)
		if !p.From.IsZero() {
			from = micros(p.From)
		}
		if !p.To.IsZero() {
			to = micros(p.To)
		}
		q += ` AND NOT (updated_at >= ? AND updated_at < ?)`
		args = append(args, from, to)
	}
	q += ` ORDER BY updated_at, id LIMIT ?`
	args = append(args, f.Limit)

	// The count crosses from the writer's goroutine, which may still be
	// running Fn when a cancelled ctx has made Submit return.
	var n atomic.Int64
	w := &Write{}
	w.Fn = func(ctx context.Context, tx *sql.Tx) error {
		w.Audit = nil
		rows, err := tx.QueryContext(ctx, s.q(q), args...)
		if err != nil {
			return fmt.Errorf("expired requests: %w", mapErr(err))
		}
		var ids []any
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("expired requests: %w", mapErr(err))
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("expired requests: %w", mapErr(err))
		}
		if len(ids) == 0 {
			n.Store(0)
			return nil
		}
		in := marks(len(ids))
		del := append([]any{s.org}, ids...)
		for _, stmt := range []string{
			`DELETE FROM request_events WHERE org_id = ? AND request_id IN (` + in + `)`,
			`DELETE FROM otps WHERE org_id = ? AND request_id IN (` + in + `)`,
			`DELETE FROM bundles WHERE org_id = ? AND request_id IN (` + in + `)`,
			`DELETE FROM recipient_tasks WHERE org_id = ? AND request_id IN (` + in + `)`,
			`DELETE FROM transmissions WHERE org_id = ? AND request_id IN (` + in + `)`,
			`DELETE FROM requests WHERE org_id = ? AND id IN (` + in + `)`,
		} {
			if _, err := tx.ExecContext(ctx, s.q(stmt), del...); err != nil {
				return fmt.Errorf("expired requests: %w", mapErr(err))
			}
		}
		n.Store(int64(len(ids)))
		if entry != nil {
			w.Audit = []audit.Entry{entry(int64(len(ids)))}
		}
		return nil
	}
	err := s.Submit(ctx, w)
	return n.Load(), err
}

// marks is "?, ?, …" for n placeholders.
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
