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

// verifyPage is how many links verification checks between progress reports.
const verifyPage = 5000

// VerifyAudit checks, in one snapshot of the database, the audit trail's
// chain, the consent ledger's chain, and the current consent state against
// the state the ledger gives. anchors, if not nil, are heads recorded
// earlier outside the database that the chains must still contain.
// progress, if not nil, is told the entries and events checked as it goes.
func (s *Store) VerifyAudit(ctx context.Context, anchors *audit.Anchors, progress func(checked int64)) (audit.Report, error) {
	if anchors == nil {
		anchors = &audit.Anchors{}
	}
	// One snapshot: writes committed meanwhile are not seen, so the trail,
	// the ledger, the state and the heads all describe the same moment.
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	} else {
		opts = nil // the read pool is read-only already; SQLite takes its snapshot at the first read
	}
	tx, err := s.r.BeginTx(ctx, opts)
	if err != nil {
		return audit.Report{}, fmt.Errorf("verify: %w", mapErr(err))
	}
	defer tx.Rollback()
	if err := s.scope(ctx, tx, s.org); err != nil {
		return audit.Report{}, err
	}
	rep, epochs, err := s.verifyTrail(ctx, tx, anchors.Trail, progress)
	if err != nil {
		return audit.Report{}, err
	}
	ledger, problems, err := s.verifyLedger(ctx, tx, epochs, anchors.Ledger, progress)
	if err != nil {
		return audit.Report{}, err
	}
	rep.Ledger = ledger
	rep.Problems = append(rep.Problems, problems...)
	rep.Ledger.States, problems, err = s.verifyState(ctx, tx)
	if err != nil {
		return audit.Report{}, err
	}
	rep.Problems = append(rep.Problems, problems...)
	rep.Anchors = len(anchors.Trail) + len(anchors.Ledger)
	rep.Finish()
	return rep, nil
}

func (s *Store) verifyTrail(ctx context.Context, tx *sql.Tx, anchors []audit.Anchor, progress func(int64)) (audit.Report, []audit.Epoch, error) {
	var head audit.Chain
	if err := tx.QueryRowContext(ctx, s.q(`SELECT seq, hash FROM audit_head WHERE org_id = ?`), s.org).Scan(&head.Seq, &head.Hash); err != nil {
		return audit.Report{}, nil, fmt.Errorf("verify audit: head: %w", mapErr(err))
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT `+auditCols+` FROM audit_log WHERE org_id = ? ORDER BY seq`), s.org)
	if err != nil {
		return audit.Report{}, nil, fmt.Errorf("verify audit: %w", mapErr(err))
	}
	defer rows.Close()
	v := audit.Verifier{Key: s.auditKey, Prior: s.prior, Anchors: anchors}
	var n int64
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return audit.Report{}, nil, fmt.Errorf("verify audit: %w", mapErr(err))
		}
		v.Add(&e)
		if n++; progress != nil && n%verifyPage == 0 {
			progress(verifyPage)
		}
	}
	if err := rows.Err(); err != nil {
		return audit.Report{}, nil, fmt.Errorf("verify audit: %w", mapErr(err))
	}
	if progress != nil && n%verifyPage != 0 {
		progress(n % verifyPage)
	}
	rep := v.Finish(head)
	return rep, v.LedgerEpochs(), nil
}

// Change is a state change seen in the trail, for other instances' caches.
type Change struct {
	Seq    int64
	Action string
	Object string
}

// ChangesSince lists state-changing entries after seq and returns the last
// sequence number examined. Decision records and the vault's entries are
// skipped: no instance keeps state that they change, and a busy vault
// would otherwise empty every instance's decision cache of its subjects.
func (s *Store) ChangesSince(ctx context.Context, after int64, limit int) ([]Change, int64, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT seq, action, object FROM audit_log WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?`), s.org, after, limit)
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
		if len(c.Action) > 6 && (c.Action[:6] == "check." || c.Action[:6] == "vault.") {
			continue
		}
		out = append(out, c)
	}
	return out, last, rows.Err()
}
