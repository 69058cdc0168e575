package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxConsentBuckets bounds how many points ConsentSeries computes: each
// bucket is one aggregate over the ledger.
const MaxConsentBuckets = 400

// ConsentPoint counts, for one purpose at one instant, the subjects whose
// latest ledger event for the purpose is a grant or a withdrawal.
type ConsentPoint struct {
	At        time.Time
	Purpose   string
	Granted   int64
	Withdrawn int64
}

// ConsentSeries returns, for every bucket end from from+bucket up to to
// (to itself closes the last, shorter bucket), the consent decisions in
// force per purpose at that instant, ordered by time then purpose. A
// subject's decision is the ledger event with the highest sequence number
// among those recorded at or before the instant; subjects who never
// decided are not counted. Purposes nobody had decided on are left out.
func (s *Store) ConsentSeries(ctx context.Context, from, to time.Time, bucket time.Duration) ([]ConsentPoint, error) {
	ends, err := bucketEnds(from, to, bucket)
	if err != nil {
		return nil, fmt.Errorf("consent series: %w", err)
	}
	// The ledger is ordered by seq, not by the clock: a backdated event
	// (a paper form entered later) still loses to one appended after it.
	const query = `SELECT e.purpose,
		COUNT(CASE WHEN e.action = ? THEN 1 END),
		COUNT(CASE WHEN e.action = ? THEN 1 END)
	FROM consent_events e
	JOIN (SELECT MAX(seq) AS seq FROM consent_events WHERE org_id = ? AND at <= ? GROUP BY subject_id, purpose) latest ON latest.seq = e.seq
	WHERE e.org_id = ? AND e.action IN (?, ?)
	GROUP BY e.purpose
	ORDER BY e.purpose`
	out := []ConsentPoint{}
	for _, end := range ends {
		rows, err := s.rd().QueryContext(ctx, s.q(query), ActionGrant, ActionWithdraw, s.org, micros(end), s.org, ActionGrant, ActionWithdraw)
		if err != nil {
			return nil, fmt.Errorf("consent series: %w", mapErr(err))
		}
		for rows.Next() {
			p := ConsentPoint{At: end.UTC()}
			if err := rows.Scan(&p.Purpose, &p.Granted, &p.Withdrawn); err != nil {
				rows.Close()
				return nil, fmt.Errorf("consent series: %w", mapErr(err))
			}
			out = append(out, p)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("consent series: %w", mapErr(err))
		}
	}
	return out, nil
}

// bucketEnds lists the instants a series is computed at.
func bucketEnds(from, to time.Time, bucket time.Duration) ([]time.Time, error) {
	if bucket <= 0 {
		return nil, errors.New("the bucket must be longer than zero")
	}
	if !to.After(from) {
		return nil, errors.New("the end must come after the start")
	}
	n := to.Sub(from) / bucket
	if to.Sub(from)%bucket != 0 {
		n++
	}
	if n > MaxConsentBuckets {
		return nil, fmt.Errorf("%d buckets is more than %d; choose a longer bucket", n, MaxConsentBuckets)
	}
	var ends []time.Time
	t := from.Add(bucket)
	for ; t.Before(to); t = t.Add(bucket) {
		ends = append(ends, t)
	}
	return append(ends, to), nil
}

// StateCount is how many requests are in one state.
type StateCount struct {
	State string
	N     int64
}

// DueCount is how many open requests fall due on one date.
type DueCount struct {
	DueDate string // YYYY-MM-DD, China time
	N       int64
}

// RequestCounts summarises the requests for a dashboard.
type RequestCounts struct {
	ByState []StateCount // every state that has requests, by state name
	OpenDue []DueCount   // requests in the open states, by due date, soonest first
}

// countByStateQuery counts an organisation's requests by state.
const countByStateQuery = `SELECT state, CAST(SUM(n) AS BIGINT) FROM request_tallies WHERE org_id = ? GROUP BY state HAVING SUM(n) > 0 ORDER BY state`

// countOpenDueQuery counts an organisation's requests in the open states
// by due date.
func (s *Store) countOpenDueQuery(openStates []string) (string, []any) {
	args := []any{s.org}
	for _, st := range openStates {
		args = append(args, st)
	}
	return s.q(`SELECT due_date, CAST(SUM(n) AS BIGINT) FROM request_tallies WHERE org_id = ? AND state IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(openStates)), ", ") + `) GROUP BY due_date HAVING SUM(n) > 0 ORDER BY due_date`), args
}

// RequestCounts counts requests by state, and the requests in the given
// open states by due date. The store does not know the workflow, so the
// caller names the open states; with none, OpenDue is empty. Turning due
// dates into days left needs the working-day calendar and today's date,
// which is the caller's job too.
//
// Both come from request_tallies, which triggers keep exact in the
// transaction of every request write (migration 0022): the cost follows the
// number of (state, due date) pairs in use, not the number of requests.
func (s *Store) RequestCounts(ctx context.Context, openStates []string) (RequestCounts, error) {
	out := RequestCounts{ByState: []StateCount{}, OpenDue: []DueCount{}}
	rows, err := s.rd().QueryContext(ctx, s.q(countByStateQuery), s.org)
	if err != nil {
		return RequestCounts{}, fmt.Errorf("request counts: %w", mapErr(err))
	}
	for rows.Next() {
		var c StateCount
		if err := rows.Scan(&c.State, &c.N); err != nil {
			rows.Close()
			return RequestCounts{}, fmt.Errorf("request counts: %w", mapErr(err))
		}
		out.ByState = append(out.ByState, c)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return RequestCounts{}, fmt.Errorf("request counts: %w", mapErr(err))
	}
	if len(openStates) == 0 {
		return out, nil
	}
	q, args := s.countOpenDueQuery(openStates)
	rows, err = s.rd().QueryContext(ctx, q, args...)
	if err != nil {
		return RequestCounts{}, fmt.Errorf("request counts: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var c DueCount
		if err := rows.Scan(&c.DueDate, &c.N); err != nil {
			return RequestCounts{}, fmt.Errorf("request counts: %w", mapErr(err))
		}
		out.OpenDue = append(out.OpenDue, c)
	}
	if err := rows.Err(); err != nil {
		return RequestCounts{}, fmt.Errorf("request counts: %w", mapErr(err))
	}
	return out, nil
}
