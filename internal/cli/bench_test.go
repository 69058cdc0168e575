package cli

import (
	"strings"
	"testing"
)

// TestBenchCheckRefusals: bench check refuses what it cannot compare,
// before it builds anything.
func TestBenchCheckRefusals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--vs-one-org"}, "--vs-one-org compares --orgs N (at least 2) with one organisation"},
		{[]string{"--vs-one-org", "--orgs", "10", "--round", "0s"}, "--round 0s: give a round longer than 0"},
		{[]string{"--vs-one-org", "--orgs", "10", "--round", "20s", "--duration", "10s"}, "no longer than --duration (10s)"},
		{[]string{"--orgs", "10", "--vs-opa"}, "OPA has no organisations to compare with"},
	} {
		_, errOut, code := run(t, append([]string{"bench", "check"}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("bench check %s: %d %s, want %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}
