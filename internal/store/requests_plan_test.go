package store

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRequestQueriesUseIndexes: at a scale where the planners weigh their
// choices, the queue, the due-by lists and the counts behind
// custos_requests_due read no more of the requests table than they
// return. The counts read the tally and not requests at all; a page of one
// state is read in index order, without sorting that state's rows, which
// in an organisation at scale are hundreds of thousands of closed ones.
func TestRequestQueriesUseIndexes(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		rs := seedRequests(t, s, 20_000, 300, 3)
		dueBy := scaleToday.AddDate(0, 0, 3).Format(time.DateOnly)
		var completed Request
		for _, r := range rs {
			if r.State == "completed" {
				completed = r
				break
			}
		}
		type check int
		const (
			noFullScan check = 1 << iota // reads requests through an index
			noSort                       // in the index's order
			noRequests                   // does not read requests at all
		)
		list := func(f RequestFilter) func() (string, []any) {
			return func() (string, []any) { return s.requestsQuery(f) }
		}
		for _, c := range []struct {
			name  string
			query func() (string, []any)
			want  check
		}{
			{"queue", list(RequestFilter{States: openStates, Limit: 500}), noFullScan},
			{"queue next page", list(RequestFilter{States: openStates, Limit: 500, After: CursorOf(rs[0])}), noFullScan},
			{"closed queue", list(RequestFilter{States: closedStates, Limit: 500}), noFullScan | noSort},
			{"closed queue next page", list(RequestFilter{States: closedStates, Limit: 500, After: CursorOf(completed)}), noFullScan | noSort},
			{"open due by", list(RequestFilter{States: openStates, DueBy: dueBy, Limit: 500}), noFullScan},
			{"one state due by", list(RequestFilter{States: []string{"completed"}, DueBy: dueBy, Limit: 500}), noFullScan | noSort},
			{"one state next page", list(RequestFilter{States: []string{"completed"}, DueBy: dueBy, Limit: 500, After: CursorOf(completed)}), noFullScan | noSort},
			{"counts by state", func() (string, []any) { return s.q(countByStateQuery), []any{s.org} }, noRequests},
			{"counts open by due date", func() (string, []any) { return s.countOpenDueQuery(openStates) }, noRequests},
		} {
			t.Run(c.name, func(t *testing.T) {
				q, args := c.query()
				plan := explain(t, s, q, args)
				pg := s.dialect == Postgres
				if c.want&noFullScan != 0 && (pg && strings.Contains(plan, "Seq Scan on requests") || !pg && strings.Contains(plan, "SCAN requests")) {
					t.Errorf("reads the whole requests table:\n%s", plan)
				}
				// Several states are read a page each in index order and
				// merged: what SQLite sorts then is the pages, not a
				// state's rows (a sort right after the read of requests).
				if c.want&noSort != 0 && (pg && strings.Contains(plan, "Sort  (") || !pg && sortsRows.MatchString(plan)) {
					t.Errorf("sorts the rows instead of reading them in order:\n%s", plan)
				}
				if c.want&noRequests != 0 && (pg && strings.Contains(plan, " on requests") || !pg && strings.Contains(plan, "requests ")) {
					t.Errorf("reads requests, not the tally:\n%s", plan)
				}
			})
		}
	})
}

// sortsRows matches a SQLite plan that sorts what it reads from requests.
var sortsRows = regexp.MustCompile(`SEARCH requests[^\n]*\nUSE TEMP B-TREE`)

// explain returns the database's plan for q, one line a step.
func explain(t *testing.T, s *Store, q string, args []any) string {
	t.Helper()
	prefix, cols := "EXPLAIN QUERY PLAN ", 4
	if s.dialect == Postgres {
		prefix, cols = "EXPLAIN ", 1
	}
	rows, err := s.r.QueryContext(context.Background(), prefix+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, cols)
		for i := range vals {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		line := *(vals[cols-1].(*any))
		switch v := line.(type) {
		case []byte:
			b.Write(v)
		case string:
			b.WriteString(v)
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
