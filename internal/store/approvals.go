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

// ErrPasswordSetByRequester is returned when the decider's password was
// set by the requester (or the requester's by the decider), directly or
// through a chain of accounts whose passwords each set the next: one
// person may then hold both accounts, so the decision is not a second
// operator's.
var ErrPasswordSetByRequester = errors.New("the decider's password was set by the requester, or the requester's by the decider")

// ErrApprovalExpired is returned for a download of an export approved
// longer ago than ExportValidity.
var ErrApprovalExpired = errors.New("the approval has expired")

// ExportValidity is how long an approved export may be downloaded.
const ExportValidity = 7 * 24 * time.Hour

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
	LeaseUntil  time.Time // a destruction's run in progress holds it until then
}

// Expired reports whether an approved export can no longer be
// downloaded at now.
func (a Approval) Expired(now time.Time) bool {
	return a.Kind == ApprovalBatchExport && a.State == ApprovalApproved && !now.Before(a.DecidedAt.Add(ExportValidity))
}

const approvalCols = `id, kind, params, reason, requested_by, state, decided_by, note, result, created_at, decided_at, executed_at, lease_until`

func scanApproval(sc interface{ Scan(...any) error }) (Approval, error) {
	var a Approval
	var decidedBy sql.NullString
	var created int64
	var decided, executed, lease sql.NullInt64
	if err := sc.Scan(&a.ID, &a.Kind, &a.Params, &a.Reason, &a.RequestedBy, &a.State, &decidedBy, &a.Note, &a.Result, &created, &decided, &executed, &lease); err != nil {
		return Approval{}, err
	}
	a.DecidedBy, a.CreatedAt = decidedBy.String, fromMicros(created)
	if decided.Valid {
		a.DecidedAt = fromMicros(decided.Int64)
	}
	if executed.Valid {
		a.ExecutedAt = fromMicros(executed.Int64)
	}
	if lease.Valid {
		a.LeaseUntil = fromMicros(lease.Int64)
	}
	return a, nil
}

// CreateApproval stores a pending approval.
func (s *Store) CreateApproval(ctx context.Context, a Approval, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO approvals (org_id, id, kind, params, reason, requested_by, state, note, result, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, '', '', ?)`),
			s.org, a.ID, a.Kind, a.Params, a.Reason, a.RequestedBy, ApprovalPending, micros(a.CreatedAt))
		if err != nil {
			return fmt.Errorf("create approval: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
}

// Approval returns one approval.
func (s *Store) Approval(ctx context.Context, id string) (Approval, error) {
	a, err := scanApproval(s.rd().QueryRowContext(ctx, s.q(`SELECT `+approvalCols+` FROM approvals WHERE org_id = ? AND id = ?`), s.org, id))
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
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT `+approvalCols+` FROM approvals WHERE org_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`), s.org, limit)
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

// passwordSetters returns the usernames that set the password of the
// account with id, following password_set_by from account to account
// until a password its owner set, one set by the CLI or the system, or a
// loop; and the account's own username.
func (s *Store) passwordSetters(ctx context.Context, tx *sql.Tx, id string) (string, map[string]bool, error) {
	var username, setBy string
	err := tx.QueryRowContext(ctx, s.q(`SELECT username, password_set_by FROM operators WHERE org_id = ? AND id = ?`), s.org, id).Scan(&username, &setBy)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	seen := map[string]bool{username: true}
	setters := map[string]bool{}
	for setBy != "" && !seen[setBy] {
		setters[setBy] = true
		seen[setBy] = true
		var next string
		err := tx.QueryRowContext(ctx, s.q(`SELECT password_set_by FROM operators WHERE org_id = ? AND username = ?`), s.org, setBy).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			break // "cli", "system": no account
		}
		if err != nil {
			return "", nil, err
		}
		setBy = next
	}
	return username, setters, nil
}

// DecideApproval approves or rejects a pending approval. The decider must
// not be the requester (ErrSelfApproval; the table's check constraint
// holds the same rule), nor hold an account whose password the requester
// set, or the other way round (ErrPasswordSetByRequester); an approval
// already decided is ErrApprovalState.
func (s *Store) DecideApproval(ctx context.Context, id, decidedBy string, approve bool, note string, at time.Time, entries ...audit.Entry) error {
	return s.DecideApprovalThen(ctx, id, decidedBy, approve, note, at, nil, entries...)
}

// DecideApprovalThen is DecideApproval that also runs also in the
// decision's transaction, after it: what the decision allows (lifting a
// legal hold) happens with it or not at all.
func (s *Store) DecideApprovalThen(ctx context.Context, id, decidedBy string, approve bool, note string, at time.Time, also []TxFn, entries ...audit.Entry) error {
	state := ApprovalRejected
	if approve {
		state = ApprovalApproved
	}
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		var requestedBy, cur string
		err := tx.QueryRowContext(ctx, s.q(`SELECT requested_by, state FROM approvals WHERE org_id = ? AND id = ?`), s.org, id).Scan(&requestedBy, &cur)
		if err != nil {
			return fmt.Errorf("decide approval: %w", mapErr(err))
		}
		if requestedBy == decidedBy {
			return fmt.Errorf("decide approval: %w", ErrSelfApproval)
		}
		if cur != ApprovalPending {
			return fmt.Errorf("decide approval: %w", ErrApprovalState)
		}
		reqName, reqSetters, err := s.passwordSetters(ctx, tx, requestedBy)
		if err != nil {
			return fmt.Errorf("decide approval: %w", mapErr(err))
		}
		decName, decSetters, err := s.passwordSetters(ctx, tx, decidedBy)
		if err != nil {
			return fmt.Errorf("decide approval: %w", mapErr(err))
		}
		if (reqName != "" && decSetters[reqName]) || (decName != "" && reqSetters[decName]) {
			return fmt.Errorf("decide approval: %w", ErrPasswordSetByRequester)
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE approvals SET state = ?, decided_by = ?, note = ?, decided_at = ? WHERE org_id = ? AND id = ? AND state = ?`),
			state, decidedBy, note, micros(at), s.org, id, ApprovalPending)
		if err != nil {
			return fmt.Errorf("decide approval: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("decide approval: %w", ErrApprovalState)
		}
		for _, fn := range also {
			if err := fn(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	}, Audit: entries})
}

// ExecuteApproval marks an approved approval executed, with its result.
// It succeeds once: a second call (a second download of an export, a
// destruction run twice) is ErrApprovalState. by, when not empty, must be
// the requester (only they may download an export). An export approved
// ExportValidity or longer before at is ErrApprovalExpired.
func (s *Store) ExecuteApproval(ctx context.Context, id, by, result string, at time.Time, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		q := `UPDATE approvals SET state = ?, result = ?, executed_at = ?, lease_until = NULL WHERE org_id = ? AND id = ? AND state = ? AND (kind <> ? OR decided_at > ?)`
		args := []any{ApprovalExecuted, result, micros(at), s.org, id, ApprovalApproved, ApprovalBatchExport, micros(at.Add(-ExportValidity))}
		if by != "" {
			q, args = q+` AND requested_by = ?`, append(args, by)
		}
		res, err := tx.ExecContext(ctx, s.q(q), args...)
		if err != nil {
			return fmt.Errorf("execute approval: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var kind, state string
			var decided sql.NullInt64
			err := tx.QueryRowContext(ctx, s.q(`SELECT kind, state, decided_at FROM approvals WHERE org_id = ? AND id = ?`), s.org, id).Scan(&kind, &state, &decided)
			if err == nil && kind == ApprovalBatchExport && state == ApprovalApproved && decided.Valid && decided.Int64 <= micros(at.Add(-ExportValidity)) {
				return fmt.Errorf("execute approval: %w", ErrApprovalExpired)
			}
			return fmt.Errorf("execute approval: %w", ErrApprovalState)
		}
		return nil
	}, Audit: entries})
}

// ClaimApproval takes the lease on an approved destruction's run until
// until, if no other run holds it at now: a run that stopped half-way
// (the server restarted, an error) can be resumed once its lease has
// passed or been released. Otherwise ErrApprovalState.
func (s *Store) ClaimApproval(ctx context.Context, id string, now, until time.Time, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE approvals SET lease_until = ? WHERE org_id = ? AND id = ? AND state = ? AND kind = ? AND (lease_until IS NULL OR lease_until <= ?)`),
			micros(until), s.org, id, ApprovalApproved, ApprovalBatchDestruction, micros(now))
		if err != nil {
			return fmt.Errorf("claim approval: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("claim approval: %w", ErrApprovalState)
		}
		return nil
	}, Audit: entries})
}

// RecordApprovalProgress stores what a destruction's run has done so far
// (result), while the approval is approved and not yet executed.
func (s *Store) RecordApprovalProgress(ctx context.Context, id, result string) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE approvals SET result = ? WHERE org_id = ? AND id = ? AND state = ?`), result, s.org, id, ApprovalApproved)
		if err != nil {
			return fmt.Errorf("approval progress: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("approval progress: %w", ErrApprovalState)
		}
		return nil
	}})
}

// ReleaseApproval gives up a destruction run's lease, so that it can be
// resumed at once.
func (s *Store) ReleaseApproval(ctx context.Context, id string, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE approvals SET lease_until = NULL WHERE org_id = ? AND id = ? AND state = ?`), s.org, id, ApprovalApproved); err != nil {
			return fmt.Errorf("release approval: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
}

// LedgerCount counts the consent-ledger events recorded in [from, to)
// and returns the highest sequence number among them, to bound a
// StreamLedgerEvents that must see exactly those.
func (s *Store) LedgerCount(ctx context.Context, from, to time.Time) (int64, int64, error) {
	var n int64
	var last sql.NullInt64
	err := s.rd().QueryRowContext(ctx, s.q(`SELECT COUNT(*), MAX(seq) FROM consent_events WHERE org_id = ? AND at >= ? AND at < ?`), s.org, micros(from), micros(to)).Scan(&n, &last)
	if err != nil {
		return 0, 0, fmt.Errorf("ledger count: %w", mapErr(err))
	}
	return n, last.Int64, nil
}

// StreamLedgerEvents calls fn with each consent-ledger event recorded in
// [from, to) with a sequence number up to maxSeq, oldest first, as they
// are read: a period's ledger is never held in memory whole.
func (s *Store) StreamLedgerEvents(ctx context.Context, from, to time.Time, maxSeq int64, fn func(ConsentEvent) error) error {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT `+consentCols+` FROM consent_events WHERE org_id = ? AND at >= ? AND at < ? AND seq <= ? ORDER BY seq`), s.org, micros(from), micros(to), maxSeq)
	if err != nil {
		return fmt.Errorf("ledger events: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanConsent(rows)
		if err != nil {
			return fmt.Errorf("ledger events: %w", mapErr(err))
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CountApprovals counts the approvals in a state.
func (s *Store) CountApprovals(ctx context.Context, state string) (int64, error) {
	var n int64
	if err := s.rd().QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM approvals WHERE org_id = ? AND state = ?`), s.org, state).Scan(&n); err != nil {
		return 0, fmt.Errorf("count approvals: %w", mapErr(err))
	}
	return n, nil
}
