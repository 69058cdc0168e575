package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// Transmission is a portability export on its way to the third party the
// person named. Sealed holds the endpoint and the export, sealed under the
// person's key; it is emptied once the transmission is delivered, and
// kept while it failed, so that staff may retry it, until the request
// expires or the person is erased.
type Transmission struct {
	ID         string
	RequestID  string
	SubjectID  string
	Recipient  string // the name the person gave the third party
	Host       string // the endpoint's host, never its path or query
	Sealed     []byte
	State      string // pending, delivered, failed
	Attempts   int
	NextAt     time.Time
	LastStatus int // the receiver's last HTTP status, 0 when it gave none
	LastError  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ErrSettled is returned when an attempt at a transmission is recorded
// after it was settled (by another instance's attempt, or an erasure).
var ErrSettled = errors.New("the transmission was settled meanwhile")

const transmissionCols = `id, request_id, subject_id, recipient, host, sealed, state, attempts, next_at, last_status, last_error, created_at, updated_at`

// PutTransmissionFn records a transmission inside a request change.
func (s *Store) PutTransmissionFn(t Transmission) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO transmissions (org_id, `+transmissionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			s.org, t.ID, t.RequestID, t.SubjectID, t.Recipient, t.Host, t.Sealed, t.State, t.Attempts, micros(t.NextAt), t.LastStatus, t.LastError,
			micros(t.CreatedAt), micros(t.UpdatedAt))
		if err != nil {
			return fmt.Errorf("transmission: %w", mapErr(err))
		}
		return nil
	}
}

// Transmissions lists a request's transmissions, oldest first.
func (s *Store) Transmissions(ctx context.Context, requestID string) ([]Transmission, error) {
	return s.transmissions(ctx, s.q(`SELECT `+transmissionCols+` FROM transmissions WHERE org_id = ? AND request_id = ? ORDER BY created_at, id`), s.org, requestID)
}

// DueTransmissions lists up to limit of the organisation's pending
// transmissions whose next attempt is due by now, oldest first.
func (s *Store) DueTransmissions(ctx context.Context, now time.Time, limit int) ([]Transmission, error) {
	return s.transmissions(ctx, s.q(`SELECT `+transmissionCols+` FROM transmissions WHERE org_id = ? AND state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?`),
		s.org, micros(now), limit)
}

func (s *Store) transmissions(ctx context.Context, q string, args ...any) ([]Transmission, error) {
	rows, err := s.rd().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("transmissions: %w", mapErr(err))
	}
	defer rows.Close()
	var out []Transmission
	for rows.Next() {
		var t Transmission
		var next, created, updated int64
		if err := rows.Scan(&t.ID, &t.RequestID, &t.SubjectID, &t.Recipient, &t.Host, &t.Sealed, &t.State, &t.Attempts, &next, &t.LastStatus, &t.LastError,
			&created, &updated); err != nil {
			return nil, fmt.Errorf("transmissions: %w", mapErr(err))
		}
		t.NextAt, t.CreatedAt, t.UpdatedAt = fromMicros(next), fromMicros(created), fromMicros(updated)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("transmissions: %w", mapErr(err))
	}
	return out, nil
}

// TransmissionMark is the outcome of an attempt at a transmission.
type TransmissionMark struct {
	ID         string
	State      string
	Attempts   int
	NextAt     time.Time
	LastStatus int
	LastError  string
	At         time.Time
}

// MarkTransmissionFn records the outcome of an attempt inside a request
// change; a delivered transmission loses its sealed export, a failed one
// keeps it for a retry (RetryTransmissionFn). A
// transmission settled meanwhile (by another instance, or an erasure) is
// left as it is: ErrSettled, and the change it was part of does not land.
func (s *Store) MarkTransmissionFn(m TransmissionMark) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		q := `UPDATE transmissions SET state = ?, attempts = ?, next_at = ?, last_status = ?, last_error = ?, updated_at = ? WHERE org_id = ? AND id = ? AND state = 'pending'`
		if m.State == "delivered" {
			q = `UPDATE transmissions SET sealed = NULL, state = ?, attempts = ?, next_at = ?, last_status = ?, last_error = ?, updated_at = ? WHERE org_id = ? AND id = ? AND state = 'pending'`
		}
		res, err := tx.ExecContext(ctx, s.q(q), m.State, m.Attempts, micros(m.NextAt), m.LastStatus, m.LastError, micros(m.At), s.org, m.ID)
		if err != nil {
			return fmt.Errorf("mark transmission: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("mark transmission: %w", ErrSettled)
		}
		return nil
	}
}

// MarkTransmission records the outcome of an attempt that leaves the
// transmission pending, with the attempt's audit entries.
func (s *Store) MarkTransmission(ctx context.Context, m TransmissionMark, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: s.MarkTransmissionFn(m), Audit: entries})
}

// RetryTransmissionFn puts a failed transmission that still holds its
// export back in the queue, due at now, inside a request change. Its
// attempts count from zero again: the retry is a new run of the job's
// whole schedule. The last status and error stay until the next attempt
// replaces them. A transmission not failed, or without its export (it
// failed before exports were kept, or the person was erased), is left as
// it is: ErrSettled, and the change it was part of does not land.
func (s *Store) RetryTransmissionFn(id string, now time.Time) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE transmissions SET state = 'pending', attempts = 0, next_at = ?, updated_at = ? WHERE org_id = ? AND id = ? AND state = 'failed' AND sealed IS NOT NULL`),
			micros(now), micros(now), s.org, id)
		if err != nil {
			return fmt.Errorf("retry transmission: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("retry transmission: %w", ErrSettled)
		}
		return nil
	}
}
