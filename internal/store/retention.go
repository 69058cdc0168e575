package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// ApprovalDiscontinue is the kind of approval that ends a service: the
// erasure of what it alone collected runs only once a second operator
// approves its plan.
const ApprovalDiscontinue = "retention_discontinue"

// States of a retention run.
const (
	RetentionRunning   = "running"
	RetentionDone      = "done"
	RetentionFailed    = "failed"
	RetentionAbandoned = "abandoned"
)

// RetentionRun is one retention sweep of the organisation's databases.
type RetentionRun struct {
	ID         string
	Instance   string // the host that ran it
	State      string
	StartedAt  time.Time
	LeaseUntil time.Time
	FinishedAt time.Time // zero while running
	// Report is the run's counts as JSON, never a value swept.
	Report string
}

// ErrRetentionRunning is returned when another run holds the
// organisation's sweep and its lease has not passed.
var ErrRetentionRunning = fmt.Errorf("another retention run holds the sweep: %w", ErrConflict)

const retentionCols = `id, instance, state, started_at, lease_until, finished_at, report`

func scanRetentionRun(sc interface{ Scan(...any) error }) (RetentionRun, error) {
	var r RetentionRun
	var started, lease int64
	var finished sql.NullInt64
	if err := sc.Scan(&r.ID, &r.Instance, &r.State, &started, &lease, &finished, &r.Report); err != nil {
		return r, err
	}
	r.StartedAt, r.LeaseUntil = fromMicros(started), fromMicros(lease)
	if finished.Valid {
		r.FinishedAt = fromMicros(finished.Int64)
	}
	return r, nil
}

// StartRetentionRun records run as running, holding the organisation's
// sweep until run.LeaseUntil. A run still running past its lease is
// marked abandoned first: its holder stopped without finishing. While
// another run's lease lasts, the result is ErrRetentionRunning, whichever
// instance asks: the unique index on running runs decides, inside the
// database, so two instances cannot both win.
func (s *Store) StartRetentionRun(ctx context.Context, run RetentionRun, entries ...audit.Entry) error {
	err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE retention_runs SET state = ?, finished_at = ? WHERE org_id = ? AND state = ? AND lease_until < ?`),
			RetentionAbandoned, micros(run.StartedAt), s.org, RetentionRunning, micros(run.StartedAt)); err != nil {
			return fmt.Errorf("retention run: %w", mapErr(err))
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM retention_runs WHERE org_id = ? AND state = ?`), s.org, RetentionRunning).Scan(&n); err != nil {
			return fmt.Errorf("retention run: %w", mapErr(err))
		}
		if n > 0 {
			return ErrRetentionRunning
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO retention_runs (org_id, `+retentionCols+`) VALUES `+values(1, 8)),
			s.org, run.ID, run.Instance, RetentionRunning, micros(run.StartedAt), micros(run.LeaseUntil), nil, run.Report)
		if err != nil {
			if err = mapErr(err); errors.Is(err, ErrConflict) {
				return ErrRetentionRunning
			}
			return fmt.Errorf("retention run: %w", err)
		}
		return nil
	}, Audit: entries})
	return err
}

// RenewRetentionRun extends a running run's lease; entries (what the run
// has done since) go on the trail with it. A run no longer running
// (abandoned by another instance after its lease passed) is ErrConflict:
// its holder must stop.
func (s *Store) RenewRetentionRun(ctx context.Context, id string, until time.Time, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE retention_runs SET lease_until = ? WHERE org_id = ? AND id = ? AND state = ?`),
			micros(until), s.org, id, RetentionRunning)
		if err != nil {
			return fmt.Errorf("retention run %s: %w", id, mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("retention run %s is no longer running: %w", id, ErrConflict)
		}
		return nil
	}, Audit: entries})
}

// FinishRetentionRun records how a running run ended, with its report;
// entries go on the trail with it.
func (s *Store) FinishRetentionRun(ctx context.Context, id, state string, at time.Time, report string, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE retention_runs SET state = ?, finished_at = ?, report = ? WHERE org_id = ? AND id = ? AND state = ?`),
			state, micros(at), report, s.org, id, RetentionRunning)
		if err != nil {
			return fmt.Errorf("retention run %s: %w", id, mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("retention run %s is no longer running: %w", id, ErrConflict)
		}
		return nil
	}, Audit: entries})
}

// RetentionRuns lists the organisation's latest runs, newest first.
func (s *Store) RetentionRuns(ctx context.Context, limit int) ([]RetentionRun, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT `+retentionCols+` FROM retention_runs WHERE org_id = ? ORDER BY started_at DESC, id DESC LIMIT ?`), s.org, limit)
	if err != nil {
		return nil, fmt.Errorf("retention runs: %w", mapErr(err))
	}
	defer rows.Close()
	out := []RetentionRun{}
	for rows.Next() {
		r, err := scanRetentionRun(rows)
		if err != nil {
			return nil, fmt.Errorf("retention runs: %w", mapErr(err))
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Withdrawal is a person's consent to a purpose, withdrawn and not given again.
type Withdrawal struct {
	SubjectID string
	Purpose   string
	At        time.Time
}

// Withdrawals lists the consents to one of purposes whose latest event is
// a withdrawal made in [from, to), oldest first: the people whose data
// kept for those purposes goes with their consent.
func (s *Store) Withdrawals(ctx context.Context, purposes []string, from, to time.Time) ([]Withdrawal, error) {
	out := []Withdrawal{}
	if len(purposes) == 0 {
		return out, nil
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(purposes)), ", ")
	args := []any{s.org, s.org, ActionWithdraw, micros(from), micros(to)}
	for _, p := range purposes {
		args = append(args, p)
	}
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT cs.subject_id, cs.purpose, ce.at FROM consent_state cs
		JOIN consent_events ce ON ce.id = cs.event_id AND ce.org_id = cs.org_id
		WHERE cs.org_id = ? AND ce.org_id = ? AND cs.granted = 0 AND ce.action = ? AND ce.at >= ? AND ce.at < ?
		AND cs.purpose IN (`+in+`) ORDER BY ce.at, cs.subject_id`), args...)
	if err != nil {
		return nil, fmt.Errorf("withdrawals: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var w Withdrawal
		var at int64
		if err := rows.Scan(&w.SubjectID, &w.Purpose, &at); err != nil {
			return nil, fmt.Errorf("withdrawals: %w", mapErr(err))
		}
		w.At = fromMicros(at)
		out = append(out, w)
	}
	return out, rows.Err()
}
