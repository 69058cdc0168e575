package api_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/config"
)

// TestCacheMetrics checks subjects past a two-subject cache: the metrics
// count each lookup once and the cache holds no more than it is given.
func TestCacheMetrics(t *testing.T) {
	e := newEnv(t, slog.LevelInfo, func(c *config.Config) { c.CacheSubjects = 2 })
	check := func(subject string) {
		t.Helper()
		w := e.do(t, "POST", "/v1/check", e.keys[api.RoleService], `{"subject_id":"`+subject+`","purposes":["analytics"]}`, nil)
		if w.Code != 200 {
			t.Fatalf("check %s: %d %s", subject, w.Code, w.Body)
		}
	}
	metric := func(m, name string) string {
		for _, l := range strings.Split(m, "\n") {
			if v, ok := strings.CutPrefix(l, name+" "); ok {
				return v
			}
		}
		return "absent"
	}
	before := e.do(t, "GET", "/metrics", "", "", nil).Body.String()
	var hits0, misses0 int
	fmt.Sscan(metric(before, "custos_decision_cache_hits_total"), &hits0)
	fmt.Sscan(metric(before, "custos_decision_cache_misses_total"), &misses0)

	for _, s := range []string{"c-1", "c-2", "c-3", "c-4", "c-4", "c-4"} {
		check(s)
	}
	m := e.do(t, "GET", "/metrics", "", "", nil).Body.String()
	var hits, misses, size int
	fmt.Sscan(metric(m, "custos_decision_cache_hits_total"), &hits)
	fmt.Sscan(metric(m, "custos_decision_cache_misses_total"), &misses)
	fmt.Sscan(metric(m, "custos_decision_cache_subjects"), &size)
	if hits-hits0 != 2 || misses-misses0 != 4 {
		t.Errorf("cache hits %d, misses %d over the checks; want 2 and 4\n%s", hits-hits0, misses-misses0, grepLines(m, "custos_decision_cache"))
	}
	if size < 1 || size > 2 {
		t.Errorf("custos_decision_cache_subjects = %d, want 1 or 2 (the bound is 2)", size)
	}
}

// TestDecisionMetrics: every decision is counted once under its reason,
// a legal basis under one label whatever the basis.
func TestDecisionMetrics(t *testing.T) {
	e := newEnv(t, slog.LevelInfo, nil)
	counts := func() map[string]int {
		got := map[string]int{}
		for _, l := range strings.Split(e.do(t, "GET", "/metrics", "", "", nil).Body.String(), "\n") {
			if rest, ok := strings.CutPrefix(l, `custos_check_decisions_total{reason="`); ok {
				reason, v, _ := strings.Cut(rest, `"} `)
				var n int
				fmt.Sscan(v, &n)
				got[reason] = n
			}
		}
		return got
	}
	before := counts()
	for range 3 {
		w := e.do(t, "POST", "/v1/check", e.keys[api.RoleService], `{"subject_id":"d-1","purposes":["analytics","no_such_purpose"]}`, nil)
		if w.Code != 200 {
			t.Fatalf("check: %d %s", w.Code, w.Body)
		}
	}
	after := counts()
	total := 0
	for reason, n := range after {
		if strings.HasPrefix(reason, "legal_basis:") {
			t.Errorf("reason label %q: a basis must count as legal_basis", reason)
		}
		total += n - before[reason]
	}
	if got := after["unknown_purpose"] - before["unknown_purpose"]; got != 3 || total != 6 {
		t.Errorf("unknown_purpose +%d (want 3), all reasons +%d (want 6): %v", got, total, after)
	}
}
