package dsr_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
)

// TestCountsAndQueue: the dashboard's counts agree with the requests'
// own days left, move with the clock, and leave closed requests out of
// the open ones; the queue lists open or closed requests as asked.
func TestCountsAndQueue(t *testing.T) {
	e := newEnv(t, starterManifest, chinaTime("2026-03-02 10:00"))
	operator := consent.Actor{ID: "operator:op_test", Role: "operator", Place: "test"}
	var ids []string
	for i, sub := range []string{"q-1", "q-2", "q-3"} {
		e.subject(sub, "", "", nil)
		if i == 2 {
			e.clock.Advance(10 * 24 * time.Hour) // a later request, due later
		}
		ids = append(ids, e.submitOperator(map[string]any{"type": "access", "subject_id": sub}).ID)
	}
	if _, err := e.req.Refuse(e.ctx, operator, ids[1], "bad_faith", "the same request every day"); err != nil {
		t.Fatal(err)
	}

	// daysLeft is what the requests say of themselves at the clock's time.
	daysLeft := func() map[int]int64 {
		out := map[int]int64{}
		for _, id := range []string{ids[0], ids[2]} {
			out[e.get(id).DaysLeft]++
		}
		return out
	}
	for _, step := range []time.Duration{0, 20 * 24 * time.Hour, 40 * 24 * time.Hour} {
		e.clock.Advance(step)
		got, err := e.req.Counts(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := dsr.Counts{ByState: map[string]int64{dsr.StateVerified: 2, dsr.StateRefused: 1}, DaysLeft: daysLeft()}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("at %s (-want +got):\n%s", e.clock.Now().Format(time.DateOnly), diff)
		}
		if got.Open() != 2 {
			t.Errorf("Open() = %d, want 2", got.Open())
		}
	}
	// By now both open requests are long past due.
	got, _ := e.req.Counts(e.ctx)
	if got.Due(-1) != 2 || got.Due(-10000) != 0 {
		t.Errorf("overdue: Due(-1) = %d, Due(-10000) = %d; want 2 and 0", got.Due(-1), got.Due(-10000))
	}

	tests := []struct {
		name   string
		states []string
		want   []string
	}{
		{"open by default", nil, []string{ids[0], ids[2]}},
		{"closed", dsr.ClosedStates, []string{ids[1]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs, err := e.req.Queue(e.ctx, tt.states, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range vs {
				got = append(got, v.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("queue (-want +got):\n%s", diff)
			}
		})
	}
}
