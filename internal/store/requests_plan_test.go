package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRequestQueriesUseIndexes: at a scale where the planners weigh their
// choices, the queue, the due-by lists and the counts behind
// custos_requests_due read no more of the requests table than a page
// needs. The counts read the tally and not requests at all. A page of one
// state, or of several (the console's closed view), is read in index
// order: on PostgreSQL the rows read from requests stay within a page a
// state, measured; on SQLite no state's rows are sorted. In an
// organisation at scale a closed state holds hundreds of thousands.
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
			inOrder                      // a page a state, in the index's order
			noRequests                   // does not read requests at all
		)
		const limit = 500
		for _, c := range []struct {
			name string
			f    *RequestFilter // a list, or nil for a count
			q    func() (string, []any)
			want check
		}{
			{"queue", &RequestFilter{States: openStates}, nil, noFullScan},
			{"queue next page", &RequestFilter{States: openStates, After: CursorOf(rs[0])}, nil, noFullScan},
			{"closed queue", &RequestFilter{States: closedStates}, nil, noFullScan | inOrder},
			{"closed queue next page", &RequestFilter{States: closedStates, After: CursorOf(completed)}, nil, noFullScan | inOrder},
			{"open due by", &RequestFilter{States: openStates, DueBy: dueBy}, nil, noFullScan},
			{"one state due by", &RequestFilter{States: []string{"completed"}, DueBy: dueBy}, nil, noFullScan | inOrder},
			{"one state next page", &RequestFilter{States: []string{"completed"}, DueBy: dueBy, After: CursorOf(completed)}, nil, noFullScan | inOrder},
			{"counts by state", nil, func() (string, []any) { return s.q(countByStateQuery), []any{s.org} }, noRequests},
			{"counts open by due date", nil, func() (string, []any) { return s.countOpenDueQuery(openStates) }, noRequests},
		} {
			t.Run(c.name, func(t *testing.T) {
				var q string
				var args []any
				states := 0
				if c.f != nil {
					c.f.Limit = limit
					q, args = s.requestsQuery(*c.f)
					states = len(c.f.States)
				} else {
					q, args = c.q()
				}
				p := explain(t, s, q, args)
				if c.want&noFullScan != 0 && p.fullScan {
					t.Errorf("reads the whole requests table:\n%s", p.text)
				}
				if c.want&noRequests != 0 && p.reads {
					t.Errorf("reads requests, not the tally:\n%s", p.text)
				}
				if c.want&inOrder != 0 {
					// A page from each state's index, and the page's rows.
					if bound := (states + 1) * (limit + 1); s.dialect == Postgres && p.rowsRead > bound {
						t.Errorf("reads %d rows of requests for a page of %d from %d states (at most %d):\n%s", p.rowsRead, limit, states, bound, p.text)
					}
					if p.sortsState {
						t.Errorf("sorts a state's rows instead of reading them in order:\n%s", p.text)
					}
				}
			})
		}
	})
}

// plan is what a statement's plan says about its reads of requests.
type plan struct {
	text       string
	reads      bool // reads requests at all
	fullScan   bool // reads every row of requests
	sortsState bool // sorts what it reads from requests by state (SQLite)
	rowsRead   int  // rows read from requests, run and counted (PostgreSQL)
}

// explain plans q; on PostgreSQL it runs it, to count the rows it reads.
func explain(t *testing.T, s *Store, q string, args []any) plan {
	t.Helper()
	ctx := context.Background()
	if s.dialect == Postgres {
		var raw []byte
		if err := s.rd().QueryRowContext(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+q, args...).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var doc []struct{ Plan pgNode }
		if err := json.Unmarshal(raw, &doc); err != nil || len(doc) != 1 {
			t.Fatalf("plan %s: %v", raw, err)
		}
		p := plan{text: string(raw)}
		doc[0].Plan.walk(func(n pgNode) {
			if n.Relation == "requests" {
				p.reads = true
				p.fullScan = p.fullScan || n.Type == "Seq Scan"
				p.rowsRead += int(n.Rows*n.Loops) + int(n.Removed)
			}
		})
		return p
	}
	rows, err := s.r.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type step struct {
		parent int
		detail string
	}
	var steps []step
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, step{parent, detail})
		fmt.Fprintf(&b, "%d<-%d %s\n", id, parent, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	p := plan{text: b.String()}
	// A step's loops and its sorter are siblings: a sorter beside a
	// search of requests other than by id sorts what that search reads.
	for _, a := range steps {
		if !strings.HasPrefix(a.detail, "SEARCH requests ") && !strings.HasPrefix(a.detail, "SCAN requests") {
			continue
		}
		p.reads = true
		p.fullScan = p.fullScan || strings.HasPrefix(a.detail, "SCAN requests")
		if strings.Contains(a.detail, "(id=?)") {
			continue
		}
		for _, b := range steps {
			if b.parent == a.parent && strings.HasPrefix(b.detail, "USE TEMP B-TREE") {
				p.sortsState = true
			}
		}
	}
	return p
}

// pgNode is a node of a PostgreSQL JSON plan.
type pgNode struct {
	Type     string   `json:"Node Type"`
	Relation string   `json:"Relation Name"`
	Rows     float64  `json:"Actual Rows"`
	Loops    float64  `json:"Actual Loops"`
	Removed  float64  `json:"Rows Removed by Filter"`
	Plans    []pgNode `json:"Plans"`
}

func (n pgNode) walk(fn func(pgNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}
