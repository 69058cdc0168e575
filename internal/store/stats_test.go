package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestConsentSeries(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, id := range []string{"u-1", "u-2", "u-3"} {
			if err := s.CreateSubject(ctx, Subject{ID: id}); err != nil {
				t.Fatal(err)
			}
		}
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		at := func(e ConsentEvent, h int) ConsentEvent { e.At = t0.Add(time.Duration(h) * time.Hour); return e }
		// One write per event, so that seq follows this order.
		for _, e := range []ConsentEvent{
			at(consent("e1", "u-1", "ads", ActionGrant, 1), 1),
			at(consent("e2", "u-2", "ads", ActionGrant, 1), 2),
			at(consent("e3", "u-3", "ads", ActionWithdraw, 1), 3),
			at(consent("e4", "u-1", "ads", ActionWithdraw, 1), 25),
			at(consent("e5", "u-1", "analytics", ActionGrant, 1), 26),
			at(consent("e6", "u-3", "analytics", ActionGrant, 1), 40),
			// Entered after e6 but dated before it: the ledger's order wins
			// once both are in force.
			at(consent("e7", "u-3", "analytics", ActionWithdraw, 1), 30),
			at(consent("e8", "u-2", "ads", ActionWithdraw, 1), 70),
		} {
			if err := s.AppendConsents(ctx, []ConsentEvent{e}, nil); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ConsentSeries(ctx, t0, t0.Add(60*time.Hour), 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
		want := []ConsentPoint{
			{At: h(24), Purpose: "ads", Granted: 2, Withdrawn: 1},
			{At: h(48), Purpose: "ads", Granted: 1, Withdrawn: 2},
			{At: h(48), Purpose: "analytics", Granted: 1, Withdrawn: 1},
			{At: h(60), Purpose: "ads", Granted: 1, Withdrawn: 2},
			{At: h(60), Purpose: "analytics", Granted: 1, Withdrawn: 1},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ConsentSeries (-want +got):\n%s", diff)
		}
		// At hour 35 only the backdated withdrawal of u-3 is in force.
		got, err = s.ConsentSeries(ctx, h(11), h(35), 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		want = []ConsentPoint{
			{At: h(35), Purpose: "ads", Granted: 1, Withdrawn: 2},
			{At: h(35), Purpose: "analytics", Granted: 1, Withdrawn: 1},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ConsentSeries at hour 35 (-want +got):\n%s", diff)
		}
		got, err = s.ConsentSeries(ctx, t0.Add(-48*time.Hour), t0, 24*time.Hour)
		if err != nil || len(got) != 0 {
			t.Errorf("series before the first event = %+v, %v; want none", got, err)
		}
	})
}

func TestBucketEnds(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name     string
		from, to time.Time
		bucket   time.Duration
		want     []time.Time
		wantErr  bool
	}{
		{"whole buckets", t0, t0.Add(3 * day), day, []time.Time{t0.Add(day), t0.Add(2 * day), t0.Add(3 * day)}, false},
		{"short last bucket", t0, t0.Add(36 * time.Hour), day, []time.Time{t0.Add(day), t0.Add(36 * time.Hour)}, false},
		{"bucket longer than the range", t0, t0.Add(time.Hour), day, []time.Time{t0.Add(time.Hour)}, false},
		{"exactly the most buckets", t0, t0.Add(MaxConsentBuckets * time.Hour), time.Hour, nil, false},
		{"too many buckets", t0, t0.Add(MaxConsentBuckets*time.Hour + time.Minute), time.Hour, nil, true},
		{"zero bucket", t0, t0.Add(day), 0, nil, true},
		{"empty range", t0, t0, day, nil, true},
		{"reversed range", t0.Add(day), t0, day, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bucketEnds(tt.from, tt.to, tt.bucket)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.want == nil {
				if !tt.wantErr && len(got) != MaxConsentBuckets {
					t.Errorf("%d ends, want %d", len(got), MaxConsentBuckets)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ends (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequestCounts(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		got, err := s.RequestCounts(ctx, []string{"verified"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(RequestCounts{ByState: []StateCount{}, OpenDue: []DueCount{}}, got); diff != "" {
			t.Errorf("empty store (-want +got):\n%s", diff)
		}
		for _, r := range []struct{ id, state, due string }{
			{"rq_1", "verified", "2026-10-23"},
			{"rq_2", "verified", "2026-10-20"},
			{"rq_3", "in_progress", "2026-10-23"},
			{"rq_4", "completed", "2026-10-01"},
			{"rq_5", "in_progress", "2026-10-23"},
		} {
			rq := request(r.id, "", r.state)
			rq.DueDate = r.due
			if err := s.CreateRequest(ctx, rq, RequestEvent{}, nil); err != nil {
				t.Fatal(err)
			}
		}
		got, err = s.RequestCounts(ctx, []string{"verified", "in_progress"})
		if err != nil {
			t.Fatal(err)
		}
		want := RequestCounts{
			ByState: []StateCount{{"completed", 1}, {"in_progress", 2}, {"verified", 2}},
			OpenDue: []DueCount{{"2026-10-20", 1}, {"2026-10-23", 3}},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("RequestCounts (-want +got):\n%s", diff)
		}
		got, err = s.RequestCounts(ctx, nil)
		if err != nil || len(got.OpenDue) != 0 || len(got.ByState) != 3 {
			t.Errorf("without open states = %+v, %v", got, err)
		}
	})
}
