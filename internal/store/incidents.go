package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/notify"
)

// IncidentRow is a security incident as stored: the columns lists and
// clocks select by, and the record its domain keeps (JSON), which names
// categories, datastores and counts, never a person.
type IncidentRow struct {
	ID           string
	State        string
	DiscoveredAt time.Time
	Record       string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// IncidentFilter selects incidents: with Open, those not closed; with
// From or To, those discovered in [From, To).
type IncidentFilter struct {
	Open     bool
	From, To time.Time
	Limit    int // 500 when not positive
}

// IncidentSubject is a subject an incident affects, with the notice queued
// to them ("" until one is).
type IncidentSubject struct {
	SubjectID  string
	DeliveryID string
}

// IncidentEscalation is an escalation sent for one clock of an incident at
// one stage (warning, overdue).
type IncidentEscalation struct {
	Clock      string
	Stage      string
	Deliveries int
	SentAt     time.Time
}

const incidentCols = `id, state, discovered_at, record, created_at, updated_at`

func scanIncident(sc interface{ Scan(...any) error }) (IncidentRow, error) {
	var r IncidentRow
	var disc, created, updated int64
	if err := sc.Scan(&r.ID, &r.State, &disc, &r.Record, &created, &updated); err != nil {
		return IncidentRow{}, err
	}
	r.DiscoveredAt, r.CreatedAt, r.UpdatedAt = fromMicros(disc), fromMicros(created), fromMicros(updated)
	return r, nil
}

// CreateIncident stores a new incident with its audit entries; a taken id
// is ErrConflict.
func (s *Store) CreateIncident(ctx context.Context, r IncidentRow, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO incidents (org_id, `+incidentCols+`) VALUES `+values(1, 7)),
			s.org, r.ID, r.State, micros(r.DiscoveredAt), r.Record, micros(r.CreatedAt), micros(r.UpdatedAt))
		if err != nil {
			return fmt.Errorf("create incident: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
}

// UpdateIncident replaces an incident's state and record, provided it is
// still in state from and unchanged since prev (its updated_at): else
// ErrConflict, and nothing changes. also run in the same transaction.
func (s *Store) UpdateIncident(ctx context.Context, r IncidentRow, from string, prev time.Time, also []TxFn, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE incidents SET state = ?, discovered_at = ?, record = ?, updated_at = ? WHERE org_id = ? AND id = ? AND state = ? AND updated_at = ?`),
			r.State, micros(r.DiscoveredAt), r.Record, micros(r.UpdatedAt), s.org, r.ID, from, micros(prev))
		if err != nil {
			return fmt.Errorf("update incident: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("update incident: %w", ErrConflict)
		}
		for _, fn := range also {
			if err := fn(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	}, Audit: entries})
}

// Incident returns one incident, or ErrNotFound.
func (s *Store) Incident(ctx context.Context, id string) (IncidentRow, error) {
	r, err := scanIncident(s.rd().QueryRowContext(ctx, s.q(`SELECT `+incidentCols+` FROM incidents WHERE org_id = ? AND id = ?`), s.org, id))
	if err != nil {
		return IncidentRow{}, fmt.Errorf("incident: %w", mapErr(err))
	}
	return r, nil
}

// Incidents lists the incidents f selects, the latest discovered first.
func (s *Store) Incidents(ctx context.Context, f IncidentFilter) ([]IncidentRow, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	q, args := `SELECT `+incidentCols+` FROM incidents WHERE org_id = ?`, []any{s.org}
	if f.Open {
		q, args = q+` AND state <> ?`, append(args, "closed")
	}
	if !f.From.IsZero() {
		q, args = q+` AND discovered_at >= ?`, append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		q, args = q+` AND discovered_at < ?`, append(args, micros(f.To))
	}
	rows, err := s.rd().QueryContext(ctx, s.q(q+` ORDER BY discovered_at DESC, id DESC LIMIT ?`), append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("incidents: %w", mapErr(err))
	}
	defer rows.Close()
	out := []IncidentRow{}
	for rows.Next() {
		r, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("incidents: %w", mapErr(err))
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ClearIncidentSubjectsFn forgets the subjects selected for an incident
// whose notice is not queued yet, so that a new selection replaces them.
func (s *Store) ClearIncidentSubjectsFn(incidentID string) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM incident_subjects WHERE org_id = ? AND incident_id = ? AND delivery_id = ''`), s.org, incidentID); err != nil {
			return fmt.Errorf("clear incident subjects: %w", mapErr(err))
		}
		return nil
	}
}

// AddIncidentSubjects records subjects an incident affects; one recorded
// already stays as it is.
func (s *Store) AddIncidentSubjects(ctx context.Context, incidentID string, subjects []string) error {
	if len(subjects) == 0 {
		return nil
	}
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		for _, id := range subjects {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO incident_subjects (org_id, incident_id, subject_id, delivery_id) VALUES (?, ?, ?, '') ON CONFLICT DO NOTHING`),
				s.org, incidentID, id); err != nil {
				return fmt.Errorf("add incident subjects: %w", mapErr(err))
			}
		}
		return nil
	}})
}

// IncidentSubjects lists, by subject id, at most limit subjects of an
// incident after the id after; with pending, only those without a notice.
func (s *Store) IncidentSubjects(ctx context.Context, incidentID, after string, pending bool, limit int) ([]IncidentSubject, error) {
	q := `SELECT subject_id, delivery_id FROM incident_subjects WHERE org_id = ? AND incident_id = ? AND subject_id > ?`
	if pending {
		q += ` AND delivery_id = ''`
	}
	rows, err := s.rd().QueryContext(ctx, s.q(q+` ORDER BY subject_id LIMIT ?`), s.org, incidentID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("incident subjects: %w", mapErr(err))
	}
	defer rows.Close()
	var out []IncidentSubject
	for rows.Next() {
		var x IncidentSubject
		if err := rows.Scan(&x.SubjectID, &x.DeliveryID); err != nil {
			return nil, fmt.Errorf("incident subjects: %w", mapErr(err))
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// CountIncidentSubjects counts the subjects recorded for an incident.
func (s *Store) CountIncidentSubjects(ctx context.Context, incidentID string) (int, error) {
	var n int
	err := s.rd().QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM incident_subjects WHERE org_id = ? AND incident_id = ?`), s.org, incidentID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count incident subjects: %w", mapErr(err))
	}
	return n, nil
}

// QueueIncidentNotices queues the notices of an incident's subjects (each
// delivery's Subject names its subject) and marks them queued, in one
// transaction with the audit entries.
func (s *Store) QueueIncidentNotices(ctx context.Context, incidentID string, ds []notify.Delivery, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		for _, d := range ds {
			if err := s.OutboxFn(d)(ctx, tx); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, s.q(`UPDATE incident_subjects SET delivery_id = ? WHERE org_id = ? AND incident_id = ? AND subject_id = ? AND delivery_id = ''`),
				d.ID, s.org, incidentID, d.Subject)
			if err != nil {
				return fmt.Errorf("queue incident notice: %w", mapErr(err))
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("queue incident notice: %w", ErrConflict)
			}
		}
		return nil
	}, Audit: entries})
}

// IncidentDeliveries counts the notices of an incident's subjects by
// outbox status (pending, sent, dead), and as "none" those with no notice
// queued.
func (s *Store) IncidentDeliveries(ctx context.Context, incidentID string) (map[string]int, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT COALESCE(o.status, 'none'), COUNT(*) FROM incident_subjects i
		LEFT JOIN outbox o ON o.org_id = i.org_id AND o.id = i.delivery_id
		WHERE i.org_id = ? AND i.incident_id = ? GROUP BY COALESCE(o.status, 'none')`), s.org, incidentID)
	if err != nil {
		return nil, fmt.Errorf("incident deliveries: %w", mapErr(err))
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("incident deliveries: %w", mapErr(err))
		}
		out[st] += n
	}
	return out, rows.Err()
}

// RecordIncidentEscalation records that an incident's clock reached stage
// and queues its messages, in one transaction: a stage recorded already
// is ErrConflict, and nothing is queued again.
func (s *Store) RecordIncidentEscalation(ctx context.Context, incidentID string, e IncidentEscalation, ds []notify.Delivery, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO incident_escalations (org_id, incident_id, clock, stage, deliveries, sent_at) VALUES (?, ?, ?, ?, ?, ?)`),
			s.org, incidentID, e.Clock, e.Stage, len(ds), micros(e.SentAt)); err != nil {
			return fmt.Errorf("record incident escalation: %w", mapErr(err))
		}
		for _, d := range ds {
			if err := s.OutboxFn(d)(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	}, Audit: entries})
}

// IncidentEscalations lists the escalations sent for an incident, oldest first.
func (s *Store) IncidentEscalations(ctx context.Context, incidentID string) ([]IncidentEscalation, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT clock, stage, deliveries, sent_at FROM incident_escalations WHERE org_id = ? AND incident_id = ? ORDER BY sent_at, clock, stage`),
		s.org, incidentID)
	if err != nil {
		return nil, fmt.Errorf("incident escalations: %w", mapErr(err))
	}
	defer rows.Close()
	var out []IncidentEscalation
	for rows.Next() {
		var e IncidentEscalation
		var at int64
		if err := rows.Scan(&e.Clock, &e.Stage, &e.Deliveries, &at); err != nil {
			return nil, fmt.Errorf("incident escalations: %w", mapErr(err))
		}
		e.SentAt = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// VaultSubjects calls fn with each subject that keeps a value of the vault
// field written in [from, to) (a zero bound leaves that side open), one
// row at a time.
func (s *Store) VaultSubjects(ctx context.Context, field string, from, to time.Time, fn func(subjectID string) error) error {
	q, args := `SELECT subject_id FROM vault_values WHERE org_id = ? AND field = ?`, []any{s.org, field}
	if !from.IsZero() {
		q, args = q+` AND updated_at >= ?`, append(args, micros(from))
	}
	if !to.IsZero() {
		q, args = q+` AND updated_at < ?`, append(args, micros(to))
	}
	rows, err := s.rd().QueryContext(ctx, s.q(q+` ORDER BY subject_id`), args...)
	if err != nil {
		return fmt.Errorf("vault subjects: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("vault subjects: %w", mapErr(err))
		}
		if err := fn(id); err != nil {
			return err
		}
	}
	return rows.Err()
}
