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
