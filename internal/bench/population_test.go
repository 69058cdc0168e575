package bench

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/testdb"
)

// TestPopulation writes a small population on both databases, in one go
// and in two interrupted runs, and checks that the data is consistent:
// both chains verify, the consent state agrees with the ledger, the
// requests cover every state, and a resumed population is the same as an
// uninterrupted one.
func TestPopulation(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := func() string {
				if backend == "sqlite" {
					return filepath.Join(t.TempDir(), "p.db")
				}
				return testdb.Postgres(t)
			}
			now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
			key := []byte("population-test-key-32-bytes-!!!")
			const n = 230 // not a multiple of the chunk: the last chunk is short

			whole := openPopulation(t, dsn(), key)
			stats, err := Populate(context.Background(), whole.Store, whole.Service, whole.Hasher, PopulationOptions{Subjects: n, Chunk: 50, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if stats.Subjects != n || stats.Skipped != 0 || stats.Events < n || stats.Requests != n/10 || stats.Entries <= stats.Events {
				t.Fatalf("stats %+v", stats)
			}
			if avg := float64(stats.Events) / n; avg < 8 || avg > 12 {
				t.Errorf("%.1f consent events per subject on average, want about 10", avg)
			}
			verifyPopulation(t, whole.Store, stats)

			// Interrupted after the first chunks, then resumed: the same data.
			resumed := openPopulation(t, dsn(), key)
			var seen []int
			first, err := Populate(context.Background(), resumed.Store, resumed.Service, resumed.Hasher,
				PopulationOptions{Subjects: 100, Chunk: 50, InFlight: 1, Now: now, Progress: func(d, _ int) { seen = append(seen, d) }})
			if err != nil || first.Subjects != 100 || !slices.Equal(seen, []int{50, 100}) {
				t.Fatalf("first run: %+v, %v, progress %v", first, err, seen)
			}
			second, err := Populate(context.Background(), resumed.Store, resumed.Service, resumed.Hasher, PopulationOptions{Subjects: n, Chunk: 50, Now: now})
			if err != nil || second.Skipped != 100 || second.Subjects != n-100 {
				t.Fatalf("resumed run: %+v, %v", second, err)
			}
			verifyPopulation(t, resumed.Store, stats)
			for _, id := range []string{SubjectName(0), SubjectName(7), SubjectName(199), SubjectName(n - 1)} {
				a, err1 := whole.Store.ConsentEvents(context.Background(), id, 0, 100)
				b, err2 := resumed.Store.ConsentEvents(context.Background(), id, 0, 100)
				if err1 != nil || err2 != nil || len(a) == 0 || len(a) != len(b) {
					t.Fatalf("%s: %d and %d events (%v, %v)", id, len(a), len(b), err1, err2)
				}
				for i := range a {
					if a[i].ID != b[i].ID || a[i].Action != b[i].Action || a[i].Purpose != b[i].Purpose || !a[i].At.Equal(b[i].At) {
						t.Errorf("%s event %d differs: %+v and %+v", id, i, a[i], b[i])
					}
				}
			}
			// Subject 7 is a child whose guardian is subject 0.
			s7, err := whole.Store.Subject(context.Background(), SubjectName(7))
			if err != nil || s7.GuardianID != SubjectName(0) || s7.BirthDate == "" {
				t.Errorf("subject 7 = %+v, %v", s7, err)
			}
		})
	}
}

func openPopulation(t *testing.T, dsn string, key []byte) *Env {
	t.Helper()
	e, err := OpenEnv(context.Background(), dsn, key, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func verifyPopulation(t *testing.T, st *store.Store, want PopulationStats) {
	t.Helper()
	ctx := context.Background()
	rep, err := st.VerifyAudit(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || len(rep.Problems) > 0 {
		t.Fatalf("verification: %+v", rep.Problems)
	}
	// The policy's publication and acceptance come before the population.
	if rep.Ledger.Events != want.Events || rep.Entries < want.Entries {
		t.Errorf("verified %d events and %d entries, want %d and at least %d", rep.Ledger.Events, rep.Entries, want.Events, want.Entries)
	}
	if rep.Ledger.States == 0 {
		t.Error("no consent state verified")
	}
	reqs, err := st.Requests(ctx, store.RequestFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(reqs)) != want.Requests {
		t.Errorf("%d requests, want %d", len(reqs), want.Requests)
	}
	states := map[string]bool{}
	for _, r := range reqs {
		states[r.State] = true
		evs, err := st.RequestEvents(ctx, r.ID)
		if err != nil || len(evs) == 0 || evs[len(evs)-1].To != r.State {
			t.Errorf("request %s in %s: history %+v, %v", r.ID, r.State, evs, err)
		}
	}
	for _, s := range append(slices.Clone(dsr.ClosedStates), dsr.OpenStates...) {
		if !states[s] {
			t.Errorf("no request in state %s among %v", s, states)
		}
	}
}
