package consent_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

// countingSeries is a ledger that only counts how often it is read.
type countingSeries struct{ reads int }

func (c *countingSeries) ConsentSeries(context.Context, time.Time, time.Time, time.Duration) ([]store.ConsentPoint, error) {
	c.reads++
	return []store.ConsentPoint{}, nil
}

// TestSeriesRefusesBadPeriods: an empty period or bucket, or more points
// than a dashboard may ask for, is invalid and the ledger is not read.
func TestSeriesRefusesBadPeriods(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name     string
		from, to time.Time
		bucket   time.Duration
		code     string // "" when the ledger is read
	}{
		{"a week in days", now.Add(-7 * day), now, day, ""},
		{"the most points", now.Add(-consent.MaxSeriesPoints * time.Hour), now, time.Hour, ""},
		{"one point too many", now.Add(-(consent.MaxSeriesPoints*time.Hour + time.Minute)), now, time.Hour, "too_many_points"},
		{"no bucket", now.Add(-day), now, 0, "invalid_period"},
		{"ends before it starts", now, now.Add(-day), time.Hour, "invalid_period"},
		{"empty", now, now, time.Hour, "invalid_period"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &countingSeries{}
			_, err := consent.NewStats(c).Series(context.Background(), tt.from, tt.to, tt.bucket)
			code := ""
			if fe, ok := fault.As(err); ok {
				code = fe.Code
				if fe.Kind != fault.Invalid {
					t.Errorf("kind %v, want Invalid", fe.Kind)
				}
			} else if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if code != tt.code {
				t.Errorf("code %q, want %q", code, tt.code)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.code == ""]; c.reads != want {
				t.Errorf("the ledger was read %d times, want %d", c.reads, want)
			}
		})
	}
}

// TestSeriesOnLedger: each point counts the decision in force for each
// subject at the bucket's end, the latest in ledger order.
func TestSeriesOnLedger(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, id := range []string{"u-1", "u-2"} {
		if err := st.CreateSubject(ctx, store.Subject{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	ev := func(id, subject, action string, at time.Time) store.ConsentEvent {
		return store.ConsentEvent{ID: id, SubjectID: subject, Purpose: "analytics", Action: action, VersionSeq: 1,
			Method: "api", Language: "en", NoticeHash: "abc", Evidence: "{}", Actor: "test", At: at}
	}
	events := []store.ConsentEvent{
		ev("e1", "u-1", store.ActionGrant, start.Add(12*time.Hour)),
		ev("e2", "u-2", store.ActionGrant, start.Add(12*time.Hour)),
		ev("e3", "u-2", store.ActionWithdraw, start.Add(36*time.Hour)),
	}
	if err := st.AppendConsents(ctx, events, nil); err != nil {
		t.Fatal(err)
	}
	got, err := consent.NewStats(st).Series(ctx, start, start.Add(2*day), day)
	if err != nil {
		t.Fatal(err)
	}
	want := []consent.SeriesPoint{
		{At: start.Add(day), Purpose: "analytics", Granted: 2},
		{At: start.Add(2 * day), Purpose: "analytics", Granted: 1, Withdrawn: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
}
