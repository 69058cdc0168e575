package store

import (
	"cmp"
	"context"
	"database/sql"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
)

// requestFilters are the filter combinations the lists take: every subset
// of state, subject, kind, due-by and since.
func requestFilters(rs []Request) []RequestFilter {
	subject := rs[len(rs)/2].SubjectID
	since := rs[len(rs)/3].ReceivedAt
	var out []RequestFilter
	for _, states := range [][]string{nil, openStates, {"completed"}, {"received", "refused"}, {"refused", "received", "refused"}} {
		for _, subj := range []string{"", subject} {
			for _, kind := range []string{"", "deletion"} {
				for _, dueBy := range []string{"", scaleToday.Format(time.DateOnly)} {
					for _, s := range []time.Time{{}, since} {
						out = append(out, RequestFilter{States: states, SubjectID: subj, Kind: kind, DueBy: dueBy, Since: s})
					}
				}
			}
		}
	}
	return out
}

// bruteForce is what f selects from rs, in the lists' order.
func bruteForce(rs []Request, f RequestFilter) []string {
	var sel []Request
	for _, r := range rs {
		if (len(f.States) == 0 || slices.Contains(f.States, r.State)) && (f.SubjectID == "" || r.SubjectID == f.SubjectID) &&
			(f.Kind == "" || r.Kind == f.Kind) && (f.DueBy == "" || r.DueDate <= f.DueBy) && (f.Since.IsZero() || !r.ReceivedAt.Before(f.Since)) {
			sel = append(sel, r)
		}
	}
	slices.SortFunc(sel, func(a, b Request) int {
		return cmp.Or(strings.Compare(a.DueDate, b.DueDate), a.ReceivedAt.Compare(b.ReceivedAt), strings.Compare(a.ID, b.ID))
	})
	ids := []string{}
	for _, r := range sel {
		ids = append(ids, r.ID)
	}
	return ids
}

func ids(rs []Request) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// TestRequestsPaging: read page by page with After, every filter
// combination lists exactly the rows, in the order, of one unlimited read
// and of a brute-force filter and sort; requests of another organisation
// never show. Under the race detector one page size is read: pages of
// one row took it 70 s, and the paths are the same.
func TestRequestsPaging(t *testing.T) {
	sizes := []int{1, 7, 50}
	if raceEnabled {
		sizes = []int{7}
	}
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "acme", Name: "Acme"}); err != nil {
			t.Fatal(err)
		}
		rs := seedRequests(t, s, 400, 4, 7)
		seedRequests(t, s.ForOrg("acme"), 100, 2, 8)
		for _, f := range requestFilters(rs) {
			want := bruteForce(rs, f)
			all := f
			all.Limit = 100_000
			full, err := s.Requests(ctx, all)
			if err != nil {
				t.Fatal(err)
			}
			if d := gocmp.Diff(want, ids(full)); d != "" {
				t.Fatalf("%+v: one read (-brute force +got):\n%s", f, d)
			}
			for _, size := range sizes {
				var got []string
				page := f
				page.Limit = size
				for n := 0; ; n++ {
					rows, err := s.Requests(ctx, page)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, ids(rows)...)
					if len(rows) < size {
						break
					}
					if n > len(rs) {
						t.Fatalf("%+v: paging does not end", f)
					}
					page.After = CursorOf(rows[len(rows)-1])
				}
				if d := gocmp.Diff(want, append([]string{}, got...)); d != "" {
					t.Fatalf("%+v in pages of %d (-brute force +got):\n%s", f, size, d)
				}
			}
		}
	})
}

// TestRequestCountsExact: the counts equal a count of the rows themselves,
// per organisation, after inserts, state and due date changes through
// UpdateRequest, other columns changing, and deletes.
func TestRequestCountsExact(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "acme", Name: "Acme"}); err != nil {
			t.Fatal(err)
		}
		acme := s.ForOrg("acme")
		rs := seedRequests(t, s, 300, 3, 11)
		seedRequests(t, acme, 120, 2, 12)
		check := func(step string) {
			t.Helper()
			for _, h := range []*Store{s, acme} {
				got, err := h.RequestCounts(ctx, openStates)
				if err != nil {
					t.Fatal(err)
				}
				if d := gocmp.Diff(bruteCounts(t, h, openStates), got); d != "" {
					t.Errorf("%s, %s: counts (-rows +tally):\n%s", step, h.org, d)
				}
			}
		}
		check("seeded")
		for i, r := range rs[:60] {
			r := r
			switch i % 3 {
			case 0:
				r.State = closedStates[i%len(closedStates)]
			case 1:
				r.DueDate = scaleToday.AddDate(0, 0, i).Format(time.DateOnly)
			case 2:
				r.Explanation = "no change to the tally"
			}
			if err := s.UpdateRequest(ctx, &r, RequestEvent{}, nil); err != nil {
				t.Fatal(err)
			}
		}
		check("updated")
		err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, s.q(`DELETE FROM requests WHERE org_id = ? AND id IN (?, ?, ?)`), s.org, rs[0].ID, rs[1].ID, rs[100].ID)
			return err
		}})
		if err != nil {
			t.Fatal(err)
		}
		check("deleted")
		if err := s.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, s.q(`DELETE FROM requests WHERE org_id = ?`), s.org)
			return err
		}}); err != nil {
			t.Fatal(err)
		}
		check("all deleted")
		var left int
		if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM request_tallies WHERE org_id = ?`), s.org).Scan(&left); err != nil || left != 0 {
			t.Errorf("tally rows left without requests: %d, %v", left, err)
		}
	})
}

// bruteCounts counts h's requests from the requests table itself.
func bruteCounts(t *testing.T, h *Store, open []string) RequestCounts {
	t.Helper()
	ctx := context.Background()
	out := RequestCounts{ByState: []StateCount{}, OpenDue: []DueCount{}}
	rows, err := h.r.QueryContext(ctx, h.q(`SELECT state, due_date FROM requests WHERE org_id = ?`), h.org)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byState, byDue := map[string]int64{}, map[string]int64{}
	for rows.Next() {
		var st, due string
		if err := rows.Scan(&st, &due); err != nil {
			t.Fatal(err)
		}
		byState[st]++
		if slices.Contains(open, st) {
			byDue[due]++
		}
	}
	for _, st := range slices.Sorted(maps.Keys(byState)) {
		out.ByState = append(out.ByState, StateCount{State: st, N: byState[st]})
	}
	for _, d := range slices.Sorted(maps.Keys(byDue)) {
		out.OpenDue = append(out.OpenDue, DueCount{DueDate: d, N: byDue[d]})
	}
	return out
}

// TestUpgradeToRequestTallies: migration 0022 counts the requests already
// there, for every organisation, row-level security notwithstanding.
func TestUpgradeToRequestTallies(t *testing.T) {
	backends(t, func(t *testing.T, _ *Store) {
		ctx := context.Background()
		dsn := t.TempDir() + "/custos.db"
		if backendOf(t) == Postgres {
			dsn = postgresDSN(t)
		}
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ms, err := migrations(s.dialect)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SchemaStatus(ctx); err != nil {
			t.Fatal(err)
		}
		for _, m := range ms[:21] {
			if err := s.apply(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "acme", Name: "Acme"}); err != nil {
			t.Fatal(err)
		}
		acme := s.ForOrg("acme")
		seedRequests(t, s, 200, 3, 21)
		seedRequests(t, acme, 80, 2, 22)
		if done, err := s.Migrate(ctx); err != nil || len(done) == 0 || done[0].Version != 22 {
			t.Fatalf("Migrate = %v, %v; want 0022 applied", done, err)
		}
		for _, h := range []*Store{s, acme} {
			got, err := h.RequestCounts(ctx, openStates)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteCounts(t, h, openStates)
			if len(want.ByState) == 0 {
				t.Fatalf("%s: no requests seeded", h.org)
			}
			if d := gocmp.Diff(want, got); d != "" {
				t.Errorf("%s after the upgrade: counts (-rows +tally):\n%s", h.org, d)
			}
		}
	})
}
