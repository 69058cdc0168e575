package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// Approval kinds and states.
const (
	ApprovalBatchExport      = "batch_export"
	ApprovalBatchDestruction = "batch_destruction"

	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalRejected = "rejected"
	ApprovalExecuted = "executed"
)

// ErrSelfApproval is returned when the operator who asked for an action
// tries to decide on it: batch exports and destructions need a second
// operator.
var ErrSelfApproval = errors.New("the requester cannot decide on their own request")

// ErrApprovalState is returned when an approval is not in the state the
// change needs (deciding twice, executing before approval, a second download).
var ErrApprovalState = errors.New("the approval is not in a state that allows this")

// Approval is a batch action waiting for, or carried out after, a second
// operator's decision.
type Approval struct {
	ID          string
	Kind        string
	Params      string // JSON: subject ids, or a ledger period
	Reason      string
	RequestedBy string // operator id
	State       string
	DecidedBy   string
	Note        string
	Result      string // JSON: what execution did (request ids, counts)
	CreatedAt   time.Time
	DecidedAt   time.Time
	ExecutedAt  time.Time
}

const approvalCols = `id, kind, params, reason, requested_by, state, decided_by, note, result, created_at, decided_at, executed_at`

func scanApproval(sc interface{ Scan(...any) error }) (Approval, error) {
	var a Approval
	var decidedBy sql.NullString
	var created int64
	var decided, executed sql.NullInt64
	if err := sc.Scan(&a.ID, &a.Kind, &a.Params, &a.Reason, &a.RequestedBy, &a.State, &decidedBy, &a.Note, &a.Result, &created, &decided, &executed); err != nil {
		return Approval{}, err
	}
	a.DecidedBy, a.CreatedAt = decidedBy.String, fromMicros(created)
	if decided.Valid {
		a.DecidedAt = fromMicros(decided.Int64)
	}
	if executed.Valid {
		a.ExecutedAt = fromMicros(executed.Int64)
	}
	return a, nil
}

// CreateApproval stores a pending approval.
func (s *Store) CreateApproval(ctx context.Context, a Approval, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO approvals (id, kind, params, reason, requested_by, state, note, result, created_at) VALUES (?, ?, ?, ?, ?, ?, '', '', ?)`),
			a.ID, a.Kind, a.Params, a.Reason, a.RequestedBy, ApprovalPending, micros(a.CreatedAt))
		if err != nil {
			return fmt.Errorf("create approval: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
}

// Approval returns one approval.
func (s *Store) Approval(ctx context.Context, id string) (Approval, error) {
	a, err := scanApproval(s.w.QueryRowContext(ctx, s.q(`SELECT `+approvalCols+` FROM approvals WHERE id = ?`), id))
	if err != nil {
		return Approval{}, fmt.Errorf("approval: %w", mapErr(err))
	}
	return a, nil
}

// Approvals lists approvals, newest first, at most limit.
func (s *Store) Approvals(ctx context.Context, limit int) ([]Approval, error) {
	if limit <= 0 {
		limit = 200
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+approvalCols+` FROM approvals ORDER BY created_at DESC, id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("approvals: %w", mapErr(err))
	}
	defer rows.Close()
	out := []Approval{}
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, fmt.Errorf("approvals: %w", mapErr(err))
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// DecideApproval approves or rejects a pending approval. The decider must
// not be the requester (ErrSelfApproval; the table's check constraint
// holds the same rule); an approval already decided is ErrApprovalState.
func (s *Store) DecideApproval(ctx context.Context, id, decidedBy string, approve bool, note string, at time.Time, entries ...audit.Entry) error {
	state := ApprovalRejected
	if approve {
		state = ApprovalApproved
	}
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		var requestedBy, cur string
		err := tx.QueryRowContext(ctx, s.q(`SELECT requested_by, state FROM approvals WHERE id = ?`), id).Scan(&requestedBy, &cur)
		if err != nil {
			return fmt.Errorf("decide approval: %w", mapErr(err))
		}
		if requestedBy == decidedBy {
			return fmt.Errorf("decide approval: %w", ErrSelfApproval)
		}
		if cur != ApprovalPending {
			return fmt.Errorf("decide approval: %w", ErrApprovalState)
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE approvals SET state = ?, decided_by = ?, note = ?, decided_at = ? WHERE id = ? AND state = ?`),
			state, decidedBy, note, micros(at), id, ApprovalPending)
		if err != nil {
			return fmt.Errorf("decide approval: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("decide approval: %w", ErrApprovalState)
		}
		return nil
	}, Audit: entries})
}

// ExecuteApproval marks an approved approval executed, with its result.
// It succeeds once: a second call (a second download of an export, a
// destruction run twice) is ErrApprovalState. by, when not empty, must be
// the requester (only they may download an export).
func (s *Store) ExecuteApproval(ctx context.Context, id, by, result string, at time.Time, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		q, args := `UPDATE approvals SET state = ?, result = ?, executed_at = ? WHERE id = ? AND state = ?`, []any{ApprovalExecuted, result, micros(at), id, ApprovalApproved}
		if by != "" {
			q, args = q+` AND requested_by = ?`, append(args, by)
		}
		res, err := tx.ExecContext(ctx, s.q(q), args...)
		if err != nil {
			return fmt.Errorf("execute approval: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("execute approval: %w", ErrApprovalState)
		}
		return nil
	}, Audit: entries})
}

// LedgerEvents lists consent-ledger events recorded in [from, to), oldest
// first, at most limit: the consent ledger for a period, for exports.
func (s *Store) LedgerEvents(ctx context.Context, from, to time.Time, limit int) ([]ConsentEvent, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+consentCols+` FROM consent_events WHERE at >= ? AND at < ? ORDER BY seq LIMIT ?`), micros(from), micros(to), limit)
	if err != nil {
		return nil, fmt.Errorf("ledger events: %w", mapErr(err))
	}
	defer rows.Close()
	out := []ConsentEvent{}
	for rows.Next() {
		e, err := scanConsent(rows)
		if err != nil {
			return nil, fmt.Errorf("ledger events: %w", mapErr(err))
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
