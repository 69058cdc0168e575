package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// SetOrganisationGroup puts an organisation in a group of companies ("" takes
// it out); entries go on this handle's trail. It reports whether anything
// changed.
func (s *Store) SetOrganisationGroup(ctx context.Context, id, group string, entries ...audit.Entry) (bool, error) {
	err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		var cur string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT group_id FROM organisations WHERE id = ?`), id).Scan(&cur); err != nil {
			return fmt.Errorf("organisation %s: %w", id, mapErr(err))
		}
		if cur == group {
			return errUnchanged
		}
		_, err := tx.ExecContext(ctx, s.q(`UPDATE organisations SET group_id = ?, updated_at = ? WHERE id = ?`), group, micros(time.Now()), id)
		if err != nil {
			return fmt.Errorf("organisation %s: %w", id, mapErr(err))
		}
		return nil
	}, Audit: entries})
	if errors.Is(err, errUnchanged) {
		return false, nil
	}
	return err == nil, err
}

// Entrustment states.
const (
	EntrustmentActive = "active"
	EntrustmentEnded  = "ended"
)

// Entrustment is a controller's instruction to a processor to handle
// personal information on its behalf: which categories, for which
// purposes, under which instructions and sub-processors, for which term,
// and how fast the processor must help the controller answer a rights
// request. It is the deployment's record, read and changed through any
// handle, as the registry is.
type Entrustment struct {
	ID            string
	Controller    string
	Processor     string
	Categories    []string
	Purposes      []string
	Instructions  string
	SubProcessors []string
	// AssistCount and AssistUnit are the processor's deadline to assist
	// with a request (e.g. 5 working_days), counted from the request's
	// receipt.
	AssistCount int
	AssistUnit  string
	StartsOn    string // civil date
	EndsOn      string // civil date, "" while open-ended
	State       string
	// EndAction is what the controller instructed at the end: delete or
	// return.
	EndAction string
	// CustomerKey is the value the processor's databases hold for this
	// customer in the collections held for customers (dataset held_for);
	// "" when none are.
	CustomerKey string
	EndedAt     time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const entrustmentCols = `id, controller_org, processor_org, categories, purposes, instructions, sub_processors, assist_count, assist_unit, starts_on, ends_on, state, end_action, ended_at, created_at, updated_at, customer_key`

func scanEntrustment(sc interface{ Scan(...any) error }) (Entrustment, error) {
	var e Entrustment
	var cats, purposes, subs string
	var ended sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&e.ID, &e.Controller, &e.Processor, &cats, &purposes, &e.Instructions, &subs, &e.AssistCount, &e.AssistUnit,
		&e.StartsOn, &e.EndsOn, &e.State, &e.EndAction, &ended, &created, &updated, &e.CustomerKey); err != nil {
		return Entrustment{}, err
	}
	json.Unmarshal([]byte(cats), &e.Categories)
	json.Unmarshal([]byte(purposes), &e.Purposes)
	json.Unmarshal([]byte(subs), &e.SubProcessors)
	if ended.Valid {
		e.EndedAt = fromMicros(ended.Int64)
	}
	e.CreatedAt, e.UpdatedAt = fromMicros(created), fromMicros(updated)
	return e, nil
}

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// CreateEntrustment records an entrustment between two registered
// organisations; entries go on this handle's trail. A taken id is
// ErrConflict, an unknown organisation ErrNotFound.
func (s *Store) CreateEntrustment(ctx context.Context, e Entrustment, entries ...audit.Entry) (Entrustment, error) {
	now := time.Now().UTC()
	e.State, e.CreatedAt, e.UpdatedAt = EntrustmentActive, now, now
	err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		for _, org := range []string{e.Controller, e.Processor} {
			var one int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM organisations WHERE id = ?`), org).Scan(&one); err != nil {
				return fmt.Errorf("organisation %s: %w", org, mapErr(err))
			}
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO entrustments (`+entrustmentCols+`) VALUES `+values(1, 17)),
			e.ID, e.Controller, e.Processor, jsonList(e.Categories), jsonList(e.Purposes), e.Instructions, jsonList(e.SubProcessors),
			e.AssistCount, e.AssistUnit, e.StartsOn, e.EndsOn, e.State, e.EndAction, nil, micros(now), micros(now), e.CustomerKey)
		if err != nil {
			return fmt.Errorf("create entrustment: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
	if err != nil {
		return Entrustment{}, err
	}
	return e, nil
}

// Entrustments lists the entrustments an organisation is a party to, as
// controller or processor ("" lists every one), oldest first.
func (s *Store) Entrustments(ctx context.Context, org string) ([]Entrustment, error) {
	q, args := `SELECT `+entrustmentCols+` FROM entrustments ORDER BY created_at, id`, []any{}
	if org != "" {
		q, args = `SELECT `+entrustmentCols+` FROM entrustments WHERE controller_org = ? OR processor_org = ? ORDER BY created_at, id`, []any{org, org}
	}
	rows, err := s.r.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("entrustments: %w", mapErr(err))
	}
	defer rows.Close()
	out := []Entrustment{}
	for rows.Next() {
		e, err := scanEntrustment(rows)
		if err != nil {
			return nil, fmt.Errorf("entrustments: %w", mapErr(err))
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Entrustment returns one entrustment, or ErrNotFound.
func (s *Store) Entrustment(ctx context.Context, id string) (Entrustment, error) {
	e, err := scanEntrustment(s.r.QueryRowContext(ctx, s.q(`SELECT `+entrustmentCols+` FROM entrustments WHERE id = ?`), id))
	if err != nil {
		return Entrustment{}, fmt.Errorf("entrustment %s: %w", id, mapErr(err))
	}
	return e, nil
}

// EndEntrustment marks an active entrustment ended with the controller's
// instruction (delete or return); also runs in the same transaction and
// entries go on this handle's trail. An entrustment already ended is
// ErrConflict.
func (s *Store) EndEntrustment(ctx context.Context, id, action string, at time.Time, also []TxFn, entries ...audit.Entry) (Entrustment, error) {
	var out Entrustment
	err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		e, err := scanEntrustment(tx.QueryRowContext(ctx, s.q(`SELECT `+entrustmentCols+` FROM entrustments WHERE id = ?`), id))
		if err != nil {
			return fmt.Errorf("entrustment %s: %w", id, mapErr(err))
		}
		if e.State != EntrustmentActive {
			return fmt.Errorf("entrustment %s is %s: %w", id, e.State, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE entrustments SET state = ?, end_action = ?, ended_at = ?, updated_at = ? WHERE id = ?`),
			EntrustmentEnded, action, micros(at), micros(at), id); err != nil {
			return fmt.Errorf("entrustment %s: %w", id, mapErr(err))
		}
		for _, fn := range also {
			if err := fn(ctx, tx); err != nil {
				return err
			}
		}
		e.State, e.EndAction, e.EndedAt, e.UpdatedAt = EntrustmentEnded, action, at.UTC(), at.UTC()
		out = e
		return nil
	}, Audit: entries})
	return out, err
}
