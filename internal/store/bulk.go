package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/custos-privacy/custos/internal/audit"
)

// Bulk is many registrations, consent events, requests and audit entries
// written as one: the batched form of CreateSubject, AppendConsents and
// CreateRequest, for imports and for populating a database at scale. It
// goes through the same writer (group commit, chains numbered and linked
// in commit order), with multi-row statements instead of one per row.
type Bulk struct {
	Subjects      []Subject // with their identities; CreatedAt is the time of registration
	Requests      []Request
	RequestEvents []RequestEvent
	Events        []ConsentEvent
	Audit         []audit.Entry
}

// WriteBulk writes b in one transaction: all of it lands or none.
// Subjects come first, so a guardian may be registered in the same bulk
// as the minors in their care, before them.
func (s *Store) WriteBulk(ctx context.Context, b Bulk) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		if err := s.insertSubjects(ctx, tx, b.Subjects); err != nil {
			return err
		}
		if err := s.insertRequests(ctx, tx, b.Requests); err != nil {
			return err
		}
		return s.insertRequestEvents(ctx, tx, b.RequestEvents)
	}, Events: b.Events, Audit: b.Audit})
}

// insertRows runs one multi-row INSERT per chunkRows rows; row appends the
// arguments of row i.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, what, head string, n, cols int, row func(args []any, i int) []any) error {
	for start := 0; start < n; start += chunkRows {
		end := min(start+chunkRows, n)
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			args = row(args, i)
		}
		if _, err := tx.ExecContext(ctx, s.q(head+values(end-start, cols)), args...); err != nil {
			return fmt.Errorf("%s: %w", what, mapErr(err))
		}
	}
	return nil
}

func (s *Store) insertSubjects(ctx context.Context, tx *sql.Tx, subs []Subject) error {
	err := s.insertRows(ctx, tx, "create subjects",
		`INSERT INTO subjects (org_id, id, birth_date, age_band, guardian_id, jurisdiction, language, restricted, created_at, updated_at) VALUES `,
		len(subs), 10, func(args []any, i int) []any {
			sub := &subs[i]
			at := micros(sub.CreatedAt)
			return append(args, s.org, sub.ID, nullString(sub.BirthDate), nullString(sub.AgeBand), nullString(sub.GuardianID),
				nullString(sub.Jurisdiction), nullString(sub.Language), boolInt(sub.Restricted), at, at)
		})
	if err != nil {
		return err
	}
	type ref struct{ sub, id int }
	var ids []ref
	for i := range subs {
		for j := range subs[i].Identities {
			ids = append(ids, ref{i, j})
		}
	}
	return s.insertRows(ctx, tx, "add identities",
		`INSERT INTO identities (org_id, hash, kind, subject_id, sealed, created_at) VALUES `,
		len(ids), 6, func(args []any, i int) []any {
			sub := &subs[ids[i].sub]
			id := &sub.Identities[ids[i].id]
			return append(args, s.org, id.Hash, id.Kind, sub.ID, id.Sealed, micros(sub.CreatedAt))
		})
}

func (s *Store) insertRequests(ctx context.Context, tx *sql.Tx, reqs []Request) error {
	return s.insertRows(ctx, tx, "create requests", `INSERT INTO requests (org_id, `+requestCols+`) VALUES `,
		len(reqs), 26, func(args []any, i int) []any {
			return append(append(args, s.org), requestArgs(&reqs[i])...)
		})
}

func (s *Store) insertRequestEvents(ctx context.Context, tx *sql.Tx, evs []RequestEvent) error {
	return s.insertRows(ctx, tx, "request events",
		`INSERT INTO request_events (org_id, request_id, at, actor, from_state, to_state, note) VALUES `,
		len(evs), 7, func(args []any, i int) []any {
			ev := &evs[i]
			return append(args, s.org, ev.RequestID, micros(ev.At), ev.Actor, ev.From, ev.To, ev.Note)
		})
}

// sizedTables are the tables TableBytes measures.
var sizedTables = []string{"subjects", "identities", "consent_events", "consent_state", "audit_log", "requests", "request_events"}

// TableBytes is the space table takes on disk with its indexes, for the
// whole database (every organisation's rows): PostgreSQL's
// pg_total_relation_size, SQLite's pages of the table and its indexes.
func (s *Store) TableBytes(ctx context.Context, table string) (int64, error) {
	if !slices.Contains(sizedTables, table) {
		return 0, fmt.Errorf("table bytes: %q is not a measured table", table)
	}
	q := `SELECT pg_total_relation_size(to_regclass($1))`
	if s.dialect != Postgres {
		q = `SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name = ?)`
	}
	var n int64
	if err := s.rd().QueryRowContext(ctx, q, table).Scan(&n); err != nil {
		return 0, fmt.Errorf("table bytes of %s: %w", table, mapErr(err))
	}
	return n, nil
}

// HasSubjects says whether the organisation has registered anyone.
func (s *Store) HasSubjects(ctx context.Context) (bool, error) {
	var n int
	err := s.rd().QueryRowContext(ctx, s.q(`SELECT 1 FROM subjects WHERE org_id = ? LIMIT 1`), s.org).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("has subjects: %w", mapErr(err))
	}
	return true, nil
}
