package dsr_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/keep"
	"github.com/custos-privacy/custos/internal/store"
)

// TestExpireRequests: a closed request's records stay their whole
// period (keep.Requests, three years by default), then go; an open one
// stays; a person a legal hold names keeps theirs; a period below the
// legal minimum is refused; forever deletes nothing; the trail counts
// what went and names no request or person.
func TestExpireRequests(t *testing.T) {
	start := time.Date(2026, 5, 11, 10, 0, 0, 0, time.UTC)
	e := newEnv(t, starterManifest, start)
	sys := audit.System("test")
	e.subject("st-exp-1", "exp1@example.com", "", nil)
	e.subject("st-exp-2", "exp2@example.com", "", nil)
	e.subject("st-exp-3", "exp3@example.com", "", nil)
	holds := hold.New(e.st, hold.Options{Now: e.clock.Now})
	if _, err := holds.Place(e.ctx, hold.Operator{ID: "op_a", Role: "operator", Place: "test"},
		hold.Input{Scope: hold.Scope{SubjectID: "st-exp-2"}, Reason: "Dispute", Authority: "case 1"}); err != nil {
		t.Fatal(err)
	}
	var done []string
	for _, id := range []string{"st-exp-1", "st-exp-2"} {
		v := e.submitOperator(map[string]any{"type": "deletion", "subject_id": id, "language": "en"})
		e.act(v.ID, "approve", nil)
		if v := e.act(v.ID, "complete", map[string]string{}); v.State != "completed" {
			t.Fatalf("%s: state %s", id, v.State)
		}
		done = append(done, v.ID)
	}
	open := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-exp-3", "language": "en"})

	three, _ := keep.Parse("3 years")
	expire := func(p keep.Period) int64 {
		t.Helper()
		n, err := e.req.ExpireRequests(e.ctx, sys, p)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	exists := func(id string) bool {
		_, err := e.st.Request(e.ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	// Kept their whole period: nothing goes on its last day.
	e.clock.Set(start.AddDate(3, 0, 0))
	if n := expire(three); n != 0 {
		t.Fatalf("on the last day of the period: %d deleted", n)
	}
	e.clock.Set(start.AddDate(3, 0, 2))
	if n := expire(keep.Period{Forever: true}); n != 0 {
		t.Fatalf("forever: %d deleted", n)
	}
	two, _ := keep.Parse("2 years")
	if _, err := e.req.ExpireRequests(e.ctx, sys, two); err == nil || !strings.Contains(err.Error(), "PIPL art. 56") {
		t.Fatalf("2 years: %v, want refused below the legal minimum", err)
	}
	if n := expire(three); n != 1 {
		t.Fatalf("after the period: %d deleted, want 1", n)
	}
	if exists(done[0]) || !exists(done[1]) || !exists(open.ID) {
		t.Errorf("after the sweep: %s %v (want gone), %s %v (held), %s %v (open)", done[0], exists(done[0]), done[1], exists(done[1]), open.ID, exists(open.ID))
	}
	if n := expire(three); n != 0 {
		t.Errorf("second sweep: %d deleted", n)
	}
	entries, err := e.st.AuditEntries(e.ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var found int
	for _, en := range entries {
		if en.Action != dsr.ActionRequestExpire {
			continue
		}
		found++
		b, _ := json.Marshal(en)
		for _, s := range append(done, "st-exp-1", "st-exp-2", "exp1@example.com") {
			if strings.Contains(string(b), s) {
				t.Errorf("the trail names %q: %s", s, b)
			}
		}
	}
	if found != 1 {
		t.Errorf("%d %s entries, want 1", found, dsr.ActionRequestExpire)
	}
}
