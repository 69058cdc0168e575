package bench

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestScaleSteps runs the in-process steps of a scale run on a small
// population: each adds its figures, and the table prints every one.
func TestScaleSteps(t *testing.T) {
	ctx := context.Background()
	e := openPopulation(t, filepath.Join(t.TempDir(), "s.db"), []byte("scale-steps-test-key-32-bytes-!!"))
	const n = 300
	if _, err := PopulateScale(ctx, e, n, nil); err != nil {
		t.Fatal(err)
	}
	trail, ledger, err := e.Store.Heads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep := &ScaleReport{Database: e.Store.Dialect(), Subjects: n, Events: ledger.Seq, Entries: trail.Seq}
	o := ScaleOptions{Subjects: n, Duration: 200 * time.Millisecond}
	for _, step := range []func(context.Context, *Env, ScaleOptions, *ScaleReport) error{scaleStorage, scaleRequests, scaleVerify, scaleWrites} {
		if err := step(ctx, e, o, rep); err != nil {
			t.Fatal(err)
		}
	}
	areas := map[string]int{}
	for _, f := range rep.Figures {
		areas[f.Area]++
		if f.Value == "" {
			t.Errorf("%s: %s has no value", f.Area, f.Name)
		}
	}
	for area, want := range map[string]int{"storage": 5, "requests": 4, "verification": 2, "writes": 1} {
		if areas[area] != want {
			t.Errorf("%d %s figures, want %d: %+v", areas[area], area, want, rep.Figures)
		}
	}
	for _, f := range rep.Figures {
		if f.Area == "verification" && !strings.HasPrefix(f.Value, "verifies") {
			t.Errorf("verification: %s", f.Value)
		}
	}
	var out bytes.Buffer
	rep.Print(&out)
	if got := strings.Count(out.String(), "\n"); got != len(rep.Figures)+3 {
		t.Errorf("the table has %d lines for %d figures:\n%s", got, len(rep.Figures), out.String())
	}
	// A database holding other people is refused.
	other := openPopulation(t, filepath.Join(t.TempDir(), "o.db"), []byte("scale-steps-test-key-32-bytes-!!"))
	if _, err := other.Subjects(ctx, "someone", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := PopulateScale(ctx, other, n, nil); err == nil || !strings.Contains(err.Error(), "not a scale population") {
		t.Errorf("PopulateScale on another database: %v", err)
	}
}
