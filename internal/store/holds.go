package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// ApprovalHoldLift is the kind of approval that lifts a legal hold: one
// operator asks, a second decides, and the hold is lifted in the
// decision's transaction.
const ApprovalHoldLift = "hold_lift"

// LegalHold is a legal hold as stored: what it covers (every field given
// must match; a subject id is the opaque id), why, on whose authority,
// and when it was placed, expires and was lifted.
type LegalHold struct {
	ID         string
	SubjectID  string
	Datastore  string
	Collection string
	Category   string
	From, To   time.Time // zero: open
	Reason     string
	Authority  string
	Basis      string
	PlacedBy   string
	PlacedAt   time.Time
	Expires    time.Time // zero: until lifted
	LiftedAt   time.Time // zero: not lifted
	LiftedBy   string
}

// HoldFilter selects legal holds. With ActiveAt set, only the holds not
// lifted and not expired at that time; with Subject set, only those
// that cover the subject (naming it, or naming no subject at all).
type HoldFilter struct {
	ActiveAt time.Time
	Subject  string
	Limit    int // 500 when not positive
}

const holdCols = `id, subject_id, datastore, collection, category, from_at, to_at, reason, authority, basis, placed_by, placed_at, expires_at, lifted_at, lifted_by`

func fromNull(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

func scanHold(sc interface{ Scan(...any) error }) (LegalHold, error) {
	var h LegalHold
	var from, to, expires, lifted sql.NullInt64
	var placed int64
	if err := sc.Scan(&h.ID, &h.SubjectID, &h.Datastore, &h.Collection, &h.Category, &from, &to, &h.Reason, &h.Authority, &h.Basis,
		&h.PlacedBy, &placed, &expires, &lifted, &h.LiftedBy); err != nil {
		return LegalHold{}, err
	}
	h.From, h.To, h.Expires, h.LiftedAt, h.PlacedAt = fromNull(from), fromNull(to), fromNull(expires), fromNull(lifted), fromMicros(placed)
	return h, nil
}

// CreateLegalHold stores a legal hold; a taken id is ErrConflict.
func (s *Store) CreateLegalHold(ctx context.Context, h LegalHold, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO legal_holds (org_id, `+holdCols+`) VALUES `+values(1, 16)),
			s.org, h.ID, h.SubjectID, h.Datastore, h.Collection, h.Category, nullMicros(h.From), nullMicros(h.To), h.Reason, h.Authority, h.Basis,
			h.PlacedBy, micros(h.PlacedAt), nullMicros(h.Expires), nil, "")
		if err != nil {
			return fmt.Errorf("create legal hold: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
}

// LegalHold returns one legal hold, or ErrNotFound.
func (s *Store) LegalHold(ctx context.Context, id string) (LegalHold, error) {
	h, err := scanHold(s.rd().QueryRowContext(ctx, s.q(`SELECT `+holdCols+` FROM legal_holds WHERE org_id = ? AND id = ?`), s.org, id))
	if err != nil {
		return LegalHold{}, fmt.Errorf("legal hold: %w", mapErr(err))
	}
	return h, nil
}

// LegalHolds lists the legal holds f selects, newest first.
func (s *Store) LegalHolds(ctx context.Context, f HoldFilter) ([]LegalHold, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	q, args := `SELECT `+holdCols+` FROM legal_holds WHERE org_id = ?`, []any{s.org}
	if !f.ActiveAt.IsZero() {
		q, args = q+` AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`, append(args, micros(f.ActiveAt))
	}
	if f.Subject != "" {
		q, args = q+` AND (subject_id = ? OR subject_id = '')`, append(args, f.Subject)
	}
	rows, err := s.rd().QueryContext(ctx, s.q(q+` ORDER BY placed_at DESC, id DESC LIMIT ?`), append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("legal holds: %w", mapErr(err))
	}
	defer rows.Close()
	out := []LegalHold{}
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, fmt.Errorf("legal holds: %w", mapErr(err))
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// LiftLegalHoldFn lifts a legal hold by the operator by at at, and marks
// the approval that allowed it executed, inside a decision's
// transaction: both or neither. A hold lifted already, or an approval
// not approved, is ErrApprovalState.
func (s *Store) LiftLegalHoldFn(id, approvalID, by string, at time.Time) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE legal_holds SET lifted_at = ?, lifted_by = ? WHERE org_id = ? AND id = ? AND lifted_at IS NULL`),
			micros(at), by, s.org, id)
		if err != nil {
			return fmt.Errorf("lift legal hold: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("lift legal hold: %w", ErrApprovalState)
		}
		res, err = tx.ExecContext(ctx, s.q(`UPDATE approvals SET state = ?, result = ?, executed_at = ? WHERE org_id = ? AND id = ? AND kind = ? AND state = ?`),
			ApprovalExecuted, `{"hold":"`+id+`"}`, micros(at), s.org, approvalID, ApprovalHoldLift, ApprovalApproved)
		if err != nil {
			return fmt.Errorf("lift legal hold: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("lift legal hold: %w", ErrApprovalState)
		}
		return nil
	}
}
