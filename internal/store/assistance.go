package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// Assistance task states.
const (
	AssistanceOpen = "open"
	AssistanceDone = "done"
)

// AssistanceTask is a processor's part in a rights request that came to it
// about data it holds for a controller: the request went to the
// controller's queue, and the processor owes the controller its help by
// DueDate.
type AssistanceTask struct {
	ID                string
	Entrustment       string
	Controller        string // the controller organisation
	ControllerRequest string // the request in the controller's queue
	RequestID         string // the request as received here
	Kind              string
	DueDate           string
	State             string
	Note              string
	CreatedAt         time.Time
	DoneAt            time.Time
}

const assistCols = `id, entrustment_id, controller_org, controller_request, request_id, kind, due_date, state, note, created_at, done_at`

// AssistanceTaskFn stores a new assistance task of this organisation, as
// part of another write.
func (s *Store) AssistanceTaskFn(t AssistanceTask) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO assistance_tasks (org_id, `+assistCols+`) VALUES `+values(1, 12)),
			s.org, t.ID, t.Entrustment, t.Controller, t.ControllerRequest, t.RequestID, t.Kind, t.DueDate, t.State, t.Note, micros(t.CreatedAt), nullMicros(t.DoneAt))
		if err != nil {
			return fmt.Errorf("assistance task: %w", mapErr(err))
		}
		return nil
	}
}

func scanAssist(sc interface{ Scan(...any) error }) (AssistanceTask, error) {
	var t AssistanceTask
	var created int64
	var done sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Entrustment, &t.Controller, &t.ControllerRequest, &t.RequestID, &t.Kind, &t.DueDate, &t.State, &t.Note, &created, &done); err != nil {
		return AssistanceTask{}, err
	}
	t.CreatedAt = fromMicros(created)
	if done.Valid {
		t.DoneAt = fromMicros(done.Int64)
	}
	return t, nil
}

// AssistanceTasks lists the organisation's assistance tasks in a state
// ("" for all), soonest due first.
func (s *Store) AssistanceTasks(ctx context.Context, state string) ([]AssistanceTask, error) {
	q, args := `SELECT `+assistCols+` FROM assistance_tasks WHERE org_id = ? ORDER BY due_date, id`, []any{s.org}
	if state != "" {
		q, args = `SELECT `+assistCols+` FROM assistance_tasks WHERE org_id = ? AND state = ? ORDER BY due_date, id`, []any{s.org, state}
	}
	rows, err := s.rd().QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("assistance tasks: %w", mapErr(err))
	}
	defer rows.Close()
	out := []AssistanceTask{}
	for rows.Next() {
		t, err := scanAssist(rows)
		if err != nil {
			return nil, fmt.Errorf("assistance tasks: %w", mapErr(err))
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// FinishAssistanceTask records an open task as done with a note; entries
// go on the trail with it. A task that does not exist is ErrNotFound, one
// already done ErrConflict.
func (s *Store) FinishAssistanceTask(ctx context.Context, id, note string, at time.Time, entries ...audit.Entry) (AssistanceTask, error) {
	var out AssistanceTask
	err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		t, err := scanAssist(tx.QueryRowContext(ctx, s.q(`SELECT `+assistCols+` FROM assistance_tasks WHERE org_id = ? AND id = ?`), s.org, id))
		if err != nil {
			return fmt.Errorf("assistance task %s: %w", id, mapErr(err))
		}
		if t.State != AssistanceOpen {
			return fmt.Errorf("assistance task %s is %s: %w", id, t.State, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE assistance_tasks SET state = ?, note = ?, done_at = ? WHERE org_id = ? AND id = ?`),
			AssistanceDone, note, micros(at), s.org, id); err != nil {
			return fmt.Errorf("assistance task %s: %w", id, mapErr(err))
		}
		t.State, t.Note, t.DoneAt = AssistanceDone, note, at.UTC()
		out = t
		return nil
	}, Audit: entries})
	return out, err
}
