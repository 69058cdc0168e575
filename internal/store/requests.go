package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// Request is a data-subject request.
type Request struct {
	ID              string
	SubjectID       string // empty until the requester is matched to a subject
	Kind            string // the right exercised
	Jurisdiction    string
	State           string
	Channel         string // public | operator
	Language        string
	Details         []byte // sealed JSON of the request's particulars
	AccessHash      []byte // SHA-256 of the requester's access token (public requests)
	ReceivedAt      time.Time
	ReceivedDate    string // civil date of receipt in China time
	DueDate         string
	DueProvisional  bool
	CalendarVersion string
	Deadline        string // the rule applied, e.g. "15 working_days"
	Extended        bool
	PausedSince     time.Time // zero unless the clock is paused
	PausedDays      int
	Flags           string // JSON
	DuplicateOf     string
	RefusalGround   string
	Explanation     string
	EffectiveAt     time.Time // when a scheduled cancellation takes effect
	UpdatedAt       time.Time
	Version         int64
}

// RequestEvent is one transition in a request's history.
type RequestEvent struct {
	Seq       int64
	RequestID string
	At        time.Time
	Actor     string
	From, To  string
	Note      string
}

const requestCols = `id, subject_id, kind, jurisdiction, state, channel, language, details, access_hash, received_at, received_date, due_date, due_provisional, calendar_version, deadline, extended, paused_since, paused_days, flags, duplicate_of, refusal_ground, explanation, effective_at, updated_at, version`

func requestArgs(r *Request) []any {
	return []any{r.ID, nullString(r.SubjectID), r.Kind, r.Jurisdiction, r.State, r.Channel, r.Language, r.Details, r.AccessHash, micros(r.ReceivedAt), r.ReceivedDate,
		r.DueDate, boolInt(r.DueProvisional), r.CalendarVersion, r.Deadline, boolInt(r.Extended), nullMicros(r.PausedSince), r.PausedDays, r.Flags,
		nullString(r.DuplicateOf), r.RefusalGround, r.Explanation, nullMicros(r.EffectiveAt), micros(r.UpdatedAt), r.Version}
}

func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micros(t)
}

func scanRequest(sc interface{ Scan(...any) error }) (Request, error) {
	var r Request
	var subject, dup sql.NullString
	var received, updated int64
	var paused, effective sql.NullInt64
	var prov, ext int
	err := sc.Scan(&r.ID, &subject, &r.Kind, &r.Jurisdiction, &r.State, &r.Channel, &r.Language, &r.Details, &r.AccessHash, &received, &r.ReceivedDate,
		&r.DueDate, &prov, &r.CalendarVersion, &r.Deadline, &ext, &paused, &r.PausedDays, &r.Flags, &dup, &r.RefusalGround, &r.Explanation,
		&effective, &updated, &r.Version)
	if err != nil {
		return Request{}, err
	}
	r.SubjectID, r.DuplicateOf = subject.String, dup.String
	r.ReceivedAt, r.UpdatedAt = fromMicros(received), fromMicros(updated)
	r.DueProvisional, r.Extended = prov != 0, ext != 0
	if paused.Valid {
		r.PausedSince = fromMicros(paused.Int64)
	}
	if effective.Valid {
		r.EffectiveAt = fromMicros(effective.Int64)
	}
	return r, nil
}

// TxFn is extra work done in the same transaction as a request change
// (queueing a notification, a recipient task): all of it lands or none.
type TxFn func(ctx context.Context, tx *sql.Tx) error

// CreateRequest stores a new request with its first event.
func (s *Store) CreateRequest(ctx context.Context, r Request, ev RequestEvent, also []TxFn, entries ...audit.Entry) error {
	return s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO requests (org_id, `+requestCols+`) VALUES `+values(1, 26)), append([]any{s.org}, requestArgs(&r)...)...); err != nil {
			return fmt.Errorf("create request: %w", mapErr(err))
		}
		if err := s.insertRequestEvent(ctx, tx, ev); err != nil {
			return err
		}
		return runAll(ctx, tx, also)
	}, Audit: entries})
}

func runAll(ctx context.Context, tx *sql.Tx, fns []TxFn) error {
	for _, fn := range fns {
		if err := fn(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

// RequestEventFn adds ev to its request's history within another write:
// a note that changes no state (ev.From and ev.To alike).
func (s *Store) RequestEventFn(ev RequestEvent) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error { return s.insertRequestEvent(ctx, tx, ev) }
}

func (s *Store) insertRequestEvent(ctx context.Context, tx *sql.Tx, ev RequestEvent) error {
	if ev.To == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO request_events (org_id, request_id, at, actor, from_state, to_state, note) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		s.org, ev.RequestID, micros(ev.At), ev.Actor, ev.From, ev.To, ev.Note)
	if err != nil {
		return fmt.Errorf("request event: %w", mapErr(err))
	}
	return nil
}

// ErrStale is returned when a request changed since it was read.
var ErrStale = errors.New("the request changed meanwhile")

// UpdateRequest writes r if it is still at version r.Version (then
// incremented), with an event and extra work in the same transaction.
func (s *Store) UpdateRequest(ctx context.Context, r *Request, ev RequestEvent, also []TxFn, entries ...audit.Entry) error {
	prev := r.Version
	next := *r
	next.Version = prev + 1
	err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		args := requestArgs(&next)
		set := strings.Split(requestCols, ", ")
		var b strings.Builder
		for i, c := range set[1:] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c + " = ?")
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE requests SET `+b.String()+` WHERE org_id = ? AND id = ? AND version = ?`), append(args[1:], s.org, next.ID, prev)...)
		if err != nil {
			return fmt.Errorf("update request: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrStale
		}
		if err := s.insertRequestEvent(ctx, tx, ev); err != nil {
			return err
		}
		return runAll(ctx, tx, also)
	}, Audit: entries})
	if err == nil {
		*r = next
	}
	return err
}

// Request returns a request.
func (s *Store) Request(ctx context.Context, id string) (Request, error) {
	r, err := scanRequest(s.rd().QueryRowContext(ctx, s.q(`SELECT `+requestCols+` FROM requests WHERE org_id = ? AND id = ?`), s.org, id))
	if err != nil {
		return Request{}, fmt.Errorf("request: %w", mapErr(err))
	}
	return r, nil
}

// RequestEvents lists a request's history, oldest first.
func (s *Store) RequestEvents(ctx context.Context, id string) ([]RequestEvent, error) {
	rows, err := s.rd().QueryContext(ctx, s.q(`SELECT seq, request_id, at, actor, from_state, to_state, note FROM request_events WHERE org_id = ? AND request_id = ? ORDER BY seq`), s.org, id)
	if err != nil {
		return nil, fmt.Errorf("request events: %w", mapErr(err))
	}
	defer rows.Close()
	out := []RequestEvent{}
	for rows.Next() {
		var e RequestEvent
		var at int64
		if err := rows.Scan(&e.Seq, &e.RequestID, &at, &e.Actor, &e.From, &e.To, &e.Note); err != nil {
			return nil, fmt.Errorf("request events: %w", mapErr(err))
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RequestFilter selects requests.
type RequestFilter struct {
	States    []string
	SubjectID string
	Kind      string
	DueBy     string // due date on or before (YYYY-MM-DD)
	Since     time.Time
	Limit     int
	// After continues a listing: only requests that sort after it by
	// (due date, received at, id) are listed. The zero value starts at
	// the beginning.
	After RequestCursor
}

// RequestCursor is a request's place in the order Requests lists them.
// Paging by it rather than by an offset costs the same on the last page
// as on the first, and a request that changes state between pages
// neither shifts the rest nor comes back twice.
type RequestCursor struct {
	DueDate    string
	ReceivedAt time.Time
	ID         string
}

// IsZero reports whether c is the start of a listing.
func (c RequestCursor) IsZero() bool { return c.ID == "" && c.DueDate == "" && c.ReceivedAt.IsZero() }

// CursorOf is r's place in the listing order.
func CursorOf(r Request) RequestCursor {
	return RequestCursor{DueDate: r.DueDate, ReceivedAt: r.ReceivedAt, ID: r.ID}
}

// Requests lists requests, soonest due first.
func (s *Store) Requests(ctx context.Context, f RequestFilter) ([]Request, error) {
	q, args := s.requestsQuery(f)
	rows, err := s.rd().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("requests: %w", mapErr(err))
	}
	defer rows.Close()
	out := []Request{}
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("requests: %w", mapErr(err))
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// requestsQuery is the statement Requests runs for f.
func (s *Store) requestsQuery(f RequestFilter) (string, []any) {
	// The organisation comes first, so that the org-leading indexes serve
	// every filter.
	var where []string
	var args []any
	if f.SubjectID != "" {
		where, args = append(where, `subject_id = ?`), append(args, f.SubjectID)
	}
	if f.Kind != "" {
		where, args = append(where, `kind = ?`), append(args, f.Kind)
	}
	if f.DueBy != "" {
		where, args = append(where, `due_date <= ?`), append(args, f.DueBy)
	}
	if !f.Since.IsZero() {
		where, args = append(where, `received_at >= ?`), append(args, micros(f.Since))
	}
	if !f.After.IsZero() {
		// A row value compares as the ORDER BY sorts, and both databases
		// seek the (org_id, state, due_date, received_at, id) index with it.
		where, args = append(where, `(due_date, received_at, id) > (?, ?, ?)`), append(args, f.After.DueDate, micros(f.After.ReceivedAt), f.After.ID)
	}
	if f.Limit <= 0 {
		f.Limit = 500
	}
	const order = ` ORDER BY due_date, received_at, id LIMIT ?`
	one := func(state string) (string, []any) {
		q := `SELECT ` + requestCols + ` FROM requests WHERE org_id = ?`
		a := []any{s.org}
		if state != "" {
			q, a = q+` AND state = ?`, append(a, state)
		}
		for _, w := range where {
			q += ` AND ` + w
		}
		return q + order, append(append(a, args...), f.Limit)
	}
	// A state named twice would be read twice below; IN reads it once.
	states := slices.Compact(slices.Sorted(slices.Values(f.States)))
	switch {
	case len(states) <= 1:
		st := ""
		if len(states) == 1 {
			st = states[0]
		}
		q, a := one(st)
		return s.q(q), a
	case f.SubjectID != "":
		// A subject has a handful of requests: its index finds them all.
		q := `SELECT ` + requestCols + ` FROM requests WHERE org_id = ? AND state IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(states)), ", ") + `)`
		a := []any{s.org}
		for _, st := range states {
			a = append(a, st)
		}
		for _, w := range where {
			q += ` AND ` + w
		}
		return s.q(q + order), append(append(a, args...), f.Limit)
	}
	// Several states, the closed ones say, hold hundreds of thousands of
	// requests: an IN over them reads and sorts them all for one page.
	// Each state's first page is read in index order instead, and the
	// pages are merged: at most a page a state is read, in one statement
	// and so one snapshot.
	var parts []string
	var all []any
	for i, st := range states {
		q, a := one(st)
		parts = append(parts, `SELECT * FROM (`+q+`) AS s`+strconv.Itoa(i))
		all = append(all, a...)
	}
	return s.q(`SELECT ` + requestCols + ` FROM (` + strings.Join(parts, ` UNION ALL `) + `) AS page` + order), append(all, f.Limit)
}

// OTP is a one-time code waiting to be entered for a request.
type OTP struct {
	RequestID    string
	IdentityHash []byte // the identity claimed, on file or not; "operator" for an operator's code
	CodeHash     []byte
	// Linked is sealed: the claimed identity's hashes under the keys of
	// the organisations a request made here may reach (affiliates,
	// controllers), nil when there are none.
	Linked    []byte
	ExpiresAt time.Time
	Attempts  int
	CreatedAt time.Time
}

// PutOTPFn replaces a request's code inside a request change.
func (s *Store) PutOTPFn(o OTP) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM otps WHERE org_id = ? AND request_id = ?`), s.org, o.RequestID); err != nil {
			return fmt.Errorf("otp: %w", mapErr(err))
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO otps (org_id, request_id, identity_hash, code_hash, linked, expires_at, attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			s.org, o.RequestID, o.IdentityHash, o.CodeHash, o.Linked, micros(o.ExpiresAt), o.Attempts, micros(o.CreatedAt))
		if err != nil {
			return fmt.Errorf("otp: %w", mapErr(err))
		}
		return nil
	}
}

// DeleteOTPFn removes a request's code inside a request change.
func (s *Store) DeleteOTPFn(requestID string) TxFn {
	return func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM otps WHERE org_id = ? AND request_id = ?`), s.org, requestID); err != nil {
			return fmt.Errorf("otp: %w", mapErr(err))
		}
		return nil
	}
}

// OTP returns a request's pending code.
func (s *Store) OTP(ctx context.Context, requestID string) (OTP, error) {
	var o OTP
	var exp, created int64
	err := s.rd().QueryRowContext(ctx, s.q(`SELECT request_id, identity_hash, code_hash, linked, expires_at, attempts, created_at FROM otps WHERE org_id = ? AND request_id = ?`), s.org, requestID).
		Scan(&o.RequestID, &o.IdentityHash, &o.CodeHash, &o.Linked, &exp, &o.Attempts, &created)
	if err != nil {
		return OTP{}, fmt.Errorf("otp: %w", mapErr(err))
	}
	o.ExpiresAt, o.CreatedAt = fromMicros(exp), fromMicros(created)
	return o, nil
}

// CountOTPAttempt durably counts one attempt at a request's code and returns
// the attempts so far, before the code is compared: a crash or a race cannot
// give a guesser extra tries.
func (s *Store) CountOTPAttempt(ctx context.Context, requestID string) (int, error) {
	var n int
	err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE otps SET attempts = attempts + 1 WHERE org_id = ? AND request_id = ?`), s.org, requestID)
		if err != nil {
			return fmt.Errorf("otp attempt: %w", mapErr(err))
		}
		if c, _ := res.RowsAffected(); c == 0 {
			return fmt.Errorf("otp: %w", ErrNotFound)
		}
		return tx.QueryRowContext(ctx, s.q(`SELECT attempts FROM otps WHERE org_id = ? AND request_id = ?`), s.org, requestID).Scan(&n)
	}})
	return n, err
}
