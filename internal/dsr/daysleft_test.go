package dsr

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/store"
)

func TestDaysLeft(t *testing.T) {
	today := calendar.MustParseDate("2026-10-20")
	got := daysLeft(today, []store.DueCount{{DueDate: "2026-10-19", N: 2}, {DueDate: "2026-10-20", N: 1}, {DueDate: "2026-10-25", N: 3}, {DueDate: "2026-12-01", N: 4}, {DueDate: "not a date", N: 1}})
	want := map[int]int64{-1: 2, 0: 1, 5: 3, 42: 4, math.MinInt32: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("daysLeft (-want +got):\n%s", diff)
	}
}
