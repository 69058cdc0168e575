package store

import (
	"context"
	"fmt"

	"github.com/custos-privacy/custos/internal/audit"
)

// AppendAudit durably appends entries to the audit trail.
func (s *Store) AppendAudit(ctx context.Context, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Audit: entries})
}

// EnqueueAudit appends entries without waiting for the commit.
func (s *Store) EnqueueAudit(ctx context.Context, entries ...audit.Entry) error {
	return s.Enqueue(ctx, &Write{Audit: entries})
}

// AuditFilter selects entries. The audit package owns it, so that the
// trail can list entries through an interface without importing the store.
type AuditFilter = audit.Filter

// AuditEntries lists entries in sequence order.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter) ([]audit.Entry, error) {
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	const cols = `SELECT seq, at, actor, role, place, action, object, purpose, outcome, detail, prev_hash, hash FROM audit_log`
	query, args := cols+` WHERE seq > ? ORDER BY seq LIMIT ?`, []any{f.After, f.Limit}
	if !f.Since.IsZero() {
		query, args = cols+` WHERE seq > ? AND at >= ? ORDER BY seq LIMIT ?`, []any{f.After, micros(f.Since), f.Limit}
	}
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", mapErr(err))
	}
	defer rows.Close()
	out := []audit.Entry{}
	for rows.Next() {
		var e audit.Entry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Role, &e.Place, &e.Action, &e.Object, &e.Purpose, &e.Outcome, &e.Detail, &e.Prev, &e.Hash); err != nil {
			return nil, fmt.Errorf("audit entries: %w", mapErr(err))
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditHead returns the recorded head of the chain.
func (s *Store) AuditHead(ctx context.Context) (audit.Chain, error) {
	var c audit.Chain
	if err := s.r.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&c.Seq, &c.Hash); err != nil {
		return audit.Chain{}, fmt.Errorf("audit head: %w", mapErr(err))
	}
	return c, nil
}

// VerifyAudit walks the whole trail in sequence order and checks every link.
// progress, if not nil, is called after each page with the entries checked.
// anchor, if not nil, is a head recorded earlier that the trail must still contain.
func (s *Store) VerifyAudit(ctx context.Context, anchor *audit.Chain, progress func(checked int64)) (audit.Report, error) {
	// Read the head first: entries appended while we walk come after it.
	head, err := s.AuditHead(ctx)
	if err != nil {
		return audit.Report{}, err
	}
	v := audit.Verifier{Key: s.auditKey, Anchor: anchor}
	after := int64(-1 << 62)
	for {
		page, err := s.AuditEntries(ctx, AuditFilter{After: after, Limit: 5000})
		if err != nil {
			return audit.Report{}, err
		}
		for i := range page {
			if page[i].Seq > head.Seq {
				return v.Finish(head), nil
			}
			v.Add(&page[i])
		}
		if progress != nil {
			progress(int64(len(page)))
		}
		if len(page) < 5000 {
			return v.Finish(head), nil
		}
		after = page[len(page)-1].Seq
	}
}

// Change is a state change seen in the trail, for other instances' caches.
type Change struct {
	Seq    int64
	Action string
	Object string
}

// ChangesSince lists state-changing entries after seq (decision records are
// skipped) and returns the last sequence number examined.
func (s *Store) ChangesSince(ctx context.Context, after int64, limit int) ([]Change, int64, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT seq, action, object FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`), after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("changes: %w", mapErr(err))
	}
	defer rows.Close()
	var out []Change
	last := after
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.Seq, &c.Action, &c.Object); err != nil {
			return nil, after, fmt.Errorf("changes: %w", mapErr(err))
		}
		last = c.Seq
		if len(c.Action) > 6 && c.Action[:6] == "check." {
			continue
		}
		out = append(out, c)
	}
	return out, last, rows.Err()
}
