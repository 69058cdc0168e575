package consent_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/custos-privacy/custos/internal/consent"
)

// TestMinorDiscoveredOpensErasure: under minors.delete_if_discovered (the
// starter manifest), a subject who turns out to be under the threshold
// without a guardian's acceptance is handed to the erasure workflow once;
// an adult is not.
func TestMinorDiscoveredOpensErasure(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var found []string
	e.opt.MinorDiscovered = func(_ context.Context, id, lang string) error {
		mu.Lock()
		defer mu.Unlock()
		found = append(found, id+"/"+lang)
		return nil
	}
	e.st, e.svc = e.open(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	e.subject(t, consent.SubjectInput{ID: "u-child"})
	e.subject(t, consent.SubjectInput{ID: "u-adult"})

	band := "under_14"
	if _, err := e.svc.UpdateSubject(ctx, admin, "u-child", consent.SubjectPatch{AgeBand: &band}); err != nil {
		t.Fatal(err)
	}
	adult := "1980-01-01"
	if _, err := e.svc.UpdateSubject(ctx, admin, "u-adult", consent.SubjectPatch{BirthDate: &adult}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(found) != 1 || !slices.ContainsFunc(found, func(s string) bool { return len(s) > 8 && s[:8] == "u-child/" }) {
		t.Fatalf("erasure requests opened for %v, want one for u-child", found)
	}
}
