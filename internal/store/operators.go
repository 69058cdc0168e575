package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// Operator is a console account. PasswordHash is a PHC string; the
// password itself is never stored.
type Operator struct {
	ID           string
	Username     string
	DisplayName  string
	Role         string
	PasswordHash string
	// PasswordSetBy says who last set the password: an admin's username,
	// "cli", "system", or the operator's own username after they changed
	// it themselves.
	PasswordSetBy string
	FailedCount   int
	LockedUntil   time.Time // zero when not locked
	Disabled      bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Session is a signed-in operator's session. Only the SHA-256 hash of
// the token is stored.
type Session struct {
	TokenHash  []byte
	OperatorID string
	CreatedAt  time.Time
	LastSeen   time.Time
	ExpiresAt  time.Time // absolute expiry
}

const operatorCols = `id, username, display_name, role, password_hash, password_set_by, failed_count, locked_until, disabled, created_at, updated_at`

func scanOperator(sc interface{ Scan(...any) error }) (Operator, error) {
	var o Operator
	var locked sql.NullInt64
	var disabled int
	var created, updated int64
	if err := sc.Scan(&o.ID, &o.Username, &o.DisplayName, &o.Role, &o.PasswordHash, &o.PasswordSetBy, &o.FailedCount, &locked, &disabled, &created, &updated); err != nil {
		return Operator{}, err
	}
	if locked.Valid {
		o.LockedUntil = fromMicros(locked.Int64)
	}
	o.Disabled, o.CreatedAt, o.UpdatedAt = disabled != 0, fromMicros(created), fromMicros(updated)
	return o, nil
}

// CreateOperator stores a new account. A taken username is ErrConflict.
func (s *Store) CreateOperator(ctx context.Context, o Operator, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO operators (org_id, `+operatorCols+`) VALUES `+values(1, 12)),
			s.org, o.ID, o.Username, o.DisplayName, o.Role, o.PasswordHash, o.PasswordSetBy, o.FailedCount, nullMicros(o.LockedUntil), boolInt(o.Disabled), micros(o.CreatedAt), micros(o.UpdatedAt))
		if err != nil {
			return fmt.Errorf("create operator: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
}

// OperatorByUsername finds an account by its username.
func (s *Store) OperatorByUsername(ctx context.Context, username string) (Operator, error) {
	o, err := scanOperator(s.rd().QueryRowContext(ctx, s.q(`SELECT `+operatorCols+` FROM operators WHERE org_id = ? AND username = ?`), s.org, username))
	if err != nil {
		return Operator{}, fmt.Errorf("operator: %w", mapErr(err))
	}
	return o, nil
}

// Operator finds an account by id.
func (s *Store) Operator(ctx context.Context, id string) (Operator, error) {
	o, err := scanOperator(s.rd().QueryRowContext(ctx, s.q(`SELECT `+operatorCols+` FROM operators WHERE org_id = ? AND id = ?`), s.org, id))
	if err != nil {
		return Operator{}, fmt.Errorf("operator: %w", mapErr(err))
	}
	return o, nil
}

// Operators lists every account by username.
func (s *Store) Operators(ctx context.Context) ([]Operator, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT `+operatorCols+` FROM operators WHERE org_id = ? ORDER BY username`), s.org)
	if err != nil {
		return nil, fmt.Errorf("operators: %w", mapErr(err))
	}
	defer rows.Close()
	out := []Operator{}
	for rows.Next() {
		o, err := scanOperator(rows)
		if err != nil {
			return nil, fmt.Errorf("operators: %w", mapErr(err))
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// SetOperatorPassword replaces an account's password hash, records who
// set it (setBy), clears its lockout and ends its sessions.
func (s *Store) SetOperatorPassword(ctx context.Context, id, hash, setBy string, at time.Time, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE operators SET password_hash = ?, password_set_by = ?, failed_count = 0, locked_until = NULL, updated_at = ? WHERE org_id = ? AND id = ?`), hash, setBy, micros(at), s.org, id)
		if err != nil {
			return fmt.Errorf("set password: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("set password: %w", ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM operator_sessions WHERE org_id = ? AND operator_id = ?`), s.org, id); err != nil {
			return fmt.Errorf("set password: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
}

// SetOperatorDisabled disables (ending its sessions) or re-enables an account.
func (s *Store) SetOperatorDisabled(ctx context.Context, id string, disabled bool, at time.Time, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE operators SET disabled = ?, updated_at = ? WHERE org_id = ? AND id = ?`), boolInt(disabled), micros(at), s.org, id)
		if err != nil {
			return fmt.Errorf("disable operator: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("disable operator: %w", ErrNotFound)
		}
		if disabled {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM operator_sessions WHERE org_id = ? AND operator_id = ?`), s.org, id); err != nil {
				return fmt.Errorf("disable operator: %w", mapErr(err))
			}
		}
		return nil
	}, Audit: entries})
}

// ErrLocked is returned when an account is locked (or disabled, or its
// password changed) at the moment a sign-in failure would be counted or a
// session started: the decision is taken inside the transaction, so
// parallel attempts cannot slip past the limit.
var ErrLocked = errors.New("the account is locked")

// RecordSignInFailure counts a failed sign-in in the database, and locks
// the account until lockUntil once max failures are reached. It returns
// the count after this failure. An account locked at now is not counted
// again: ErrLocked (and the entries are not written).
func (s *Store) RecordSignInFailure(ctx context.Context, id string, max int, now, lockUntil time.Time, entries ...audit.Entry) (int, error) {
	var count int
	err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE operators SET failed_count = failed_count + 1 WHERE org_id = ? AND id = ? AND (locked_until IS NULL OR locked_until <= ?) AND failed_count < ?`), s.org, id, micros(now), max)
		if err != nil {
			return fmt.Errorf("sign-in failure: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if err := tx.QueryRowContext(ctx, s.q(`SELECT failed_count FROM operators WHERE org_id = ? AND id = ?`), s.org, id).Scan(&count); err != nil {
				return fmt.Errorf("sign-in failure: %w", mapErr(err))
			}
			return fmt.Errorf("sign-in failure: %w", ErrLocked)
		}
		if err := tx.QueryRowContext(ctx, s.q(`SELECT failed_count FROM operators WHERE org_id = ? AND id = ?`), s.org, id).Scan(&count); err != nil {
			return fmt.Errorf("sign-in failure: %w", mapErr(err))
		}
		if count >= max {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE operators SET failed_count = 0, locked_until = ? WHERE org_id = ? AND id = ?`), micros(lockUntil), s.org, id); err != nil {
				return fmt.Errorf("sign-in failure: %w", mapErr(err))
			}
		}
		return nil
	}, Audit: entries})
	return count, err
}

// SessionGuard is what must still hold, inside the transaction that
// starts a session, for the sign-in to go through: the account enabled,
// not locked at Now, fewer than MaxFailures failures counted, and its
// password hash still the one checked (PasswordHash). A zero guard checks
// nothing.
type SessionGuard struct {
	Now          time.Time
	MaxFailures  int
	PasswordHash string
}

// StartSession clears the account's failure count and stores a session.
// With a guard, an account that became locked or disabled, reached the
// failure limit or had its password changed since it was checked gets no
// session: ErrLocked, and the entries are not written.
func (s *Store) StartSession(ctx context.Context, se Session, g SessionGuard, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		q, args := `UPDATE operators SET failed_count = 0, locked_until = NULL WHERE org_id = ? AND id = ?`, []any{s.org, se.OperatorID}
		if g != (SessionGuard{}) {
			q += ` AND disabled = 0 AND (locked_until IS NULL OR locked_until <= ?) AND failed_count < ? AND password_hash = ?`
			args = append(args, micros(g.Now), g.MaxFailures, g.PasswordHash)
		}
		res, err := tx.ExecContext(ctx, s.q(q), args...)
		if err != nil {
			return fmt.Errorf("start session: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if g != (SessionGuard{}) {
				return fmt.Errorf("start session: %w", ErrLocked)
			}
			return fmt.Errorf("start session: %w", ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO operator_sessions (org_id, token_hash, operator_id, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
			s.org, se.TokenHash, se.OperatorID, micros(se.CreatedAt), micros(se.LastSeen), micros(se.ExpiresAt))
		if err != nil {
			return fmt.Errorf("start session: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
}

// SessionByHash finds a session by its token hash. A session of another
// organisation is not found: its token does not sign in here.
func (s *Store) SessionByHash(ctx context.Context, hash []byte) (Session, error) {
	var se Session
	var created, seen, expires int64
	err := s.rd().QueryRowContext(ctx, s.q(`SELECT token_hash, operator_id, created_at, last_seen, expires_at FROM operator_sessions WHERE org_id = ? AND token_hash = ?`), s.org, hash).
		Scan(&se.TokenHash, &se.OperatorID, &created, &seen, &expires)
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", mapErr(err))
	}
	se.CreatedAt, se.LastSeen, se.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	return se, nil
}

// TouchSession records activity on a session (for its idle expiry).
func (s *Store) TouchSession(ctx context.Context, hash []byte, at time.Time) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE operator_sessions SET last_seen = ? WHERE org_id = ? AND token_hash = ?`), micros(at), s.org, hash); err != nil {
			return fmt.Errorf("touch session: %w", mapErr(err))
		}
		return nil
	}})
}

// EndSession deletes a session; ending one that is gone is not an error.
func (s *Store) EndSession(ctx context.Context, hash []byte, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM operator_sessions WHERE org_id = ? AND token_hash = ?`), s.org, hash); err != nil {
			return fmt.Errorf("end session: %w", mapErr(err))
		}
		return nil
	}, Audit: entries})
}

// DeleteExpiredSessions removes the organisation's sessions past their
// absolute expiry or idle since before idleBefore, in bounded batches, and
// returns how many. Callers sweep each organisation in turn.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, s.q(`DELETE FROM operator_sessions WHERE org_id = ? AND token_hash IN (SELECT token_hash FROM operator_sessions WHERE org_id = ? AND (expires_at <= ? OR last_seen < ?) LIMIT 500)`),
				s.org, s.org, micros(now), micros(idleBefore))
			if err != nil {
				return fmt.Errorf("expire sessions: %w", mapErr(err))
			}
			n, _ = res.RowsAffected()
			return nil
		}})
		if err != nil {
			return total, err
		}
		total += n
		if n < 500 {
			return total, nil
		}
	}
}
