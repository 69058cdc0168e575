package store

import (
	"context"
	"database/sql"
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

const auditCols = `seq, at, actor, role, place, action, object, purpose, outcome, detail, prev_hash, hash`

func scanEntry(sc interface{ Scan(...any) error }) (audit.Entry, error) {
	var e audit.Entry
	var at int64
	err := sc.Scan(&e.Seq, &at, &e.Actor, &e.Role, &e.Place, &e.Action, &e.Object, &e.Purpose, &e.Outcome, &e.Detail, &e.Prev, &e.Hash)
	e.At = fromMicros(at)
	return e, err
}

// AuditEntries lists entries in sequence order.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter) ([]audit.Entry, error) {
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	query, args := `SELECT `+auditCols+` FROM audit_log WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?`, []any{s.org, f.After, f.Limit}
	if !f.Since.IsZero() {
		// Entries are chained in commit order and an entry's time is taken
		// before it is queued, so times are not quite in sequence order:
		// the first entry of the period is found through the time index,
		// exactly, and the trail is read on from there in sequence order.
		indexed := ""
		if s.dialect == SQLite {
			indexed = " INDEXED BY audit_log_at"
		}
		var first sql.NullInt64
		if err := s.rd().QueryRowContext(ctx, s.q(`SELECT MIN(seq) FROM audit_log`+indexed+` WHERE at >= ? AND org_id = ?`), micros(f.Since), s.org).Scan(&first); err != nil {
			return nil, fmt.Errorf("audit entries: %w", mapErr(err))
		}
		if !first.Valid {
			return []audit.Entry{}, nil
		}
		query, args = `SELECT `+auditCols+` FROM audit_log WHERE org_id = ? AND seq > ? AND at >= ? ORDER BY seq LIMIT ?`, []any{s.org, max(f.After, first.Int64-1), micros(f.Since), f.Limit}
	}
	rows, err := s.rd().QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", mapErr(err))
	}
	defer rows.Close()
	out := []audit.Entry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("audit entries: %w", mapErr(err))
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditHead returns the recorded head of the chain.
func (s *Store) AuditHead(ctx context.Context) (audit.Chain, error) {
	var c audit.Chain
	if err := s.rd().QueryRowContext(ctx, s.q(`SELECT seq, hash FROM audit_head WHERE org_id = ?`), s.org).Scan(&c.Seq, &c.Hash); err != nil {
		return audit.Chain{}, fmt.Errorf("audit head: %w", mapErr(err))
	}
	return c, nil
}

// Change is a state change seen in the trail, for other instances' caches.
type Change struct {
	Seq    int64
	Action string
	Object string
}

// ChangesSince lists state-changing entries after seq, at most limit, and
// returns the sequence number to ask after next time: the last change
// listed, or after itself when there is none. Decision records and the
// vault's entries are skipped (isChange): no instance keeps state that
// they change, and a busy vault would otherwise empty every instance's
// decision cache of its subjects. The action terms are those of the
// partial index audit_log_changes (migration 0025), which holds the
// changes alone, so a poll reads no decision record however many were
// made since the last one.
func (s *Store) ChangesSince(ctx context.Context, after int64, limit int) ([]Change, int64, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT seq, action, object FROM audit_log
		WHERE org_id = ? AND seq > ? AND action NOT LIKE 'check.%' AND action NOT LIKE 'vault.%'
		ORDER BY seq LIMIT ?`), s.org, after, limit)
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
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("changes: %w", mapErr(err))
	}
	return out, last, nil
}

// isChange reports whether an entry of action changes state another
// instance keeps: everything but decision records (check.*) and the
// vault's entries (vault.*). ChangesSince's SQL says the same.
func isChange(action string) bool {
	return !(len(action) > 6 && (action[:6] == "check." || action[:6] == "vault."))
}
