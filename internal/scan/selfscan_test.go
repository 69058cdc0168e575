package scan_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// selfScanArgs are the flags scripts/selfscan.sh gives custos scan.
var selfScanArgs = []string{"scan", "--fail-on", "any", "--allow", "../../.ci/pii-allow.txt", "--exclude", "*.png", "--exclude", "*.jpg", "--exclude", "*.pdf", "--max-size", "512M"}

// The CI self-scan fails on a phone number in clear in a test run's log,
// and passes on the same log once the value is allow-listed or masked;
// the suite's fixture values never fail it.
func TestSelfScan(t *testing.T) {
	script, err := os.ReadFile("../../scripts/selfscan.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), "scan --fail-on any --allow .ci/pii-allow.txt") {
		t.Fatal("scripts/selfscan.sh no longer runs custos scan --fail-on any --allow .ci/pii-allow.txt: update selfScanArgs")
	}
	const leaked = "13512345678"
	base := "=== RUN   TestSignup\n    signup_test.go:40: created subject for 13800138000 <li.lei@example.com> from 203.0.113.7\n" +
		"time=2026-03-01T08:00:00.000Z level=INFO msg=\"request\" path=/api/v1/subjects status=201\n"
	allowed, err := os.ReadFile("../../.ci/pii-allow.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		log   string
		allow string // extra allow-list lines
		code  int
	}{
		{"fixture values only", base, "", 0},
		{"a phone number in clear", base + "level=DEBUG msg=\"sms sent\" to=" + leaked + "\n", "", 1},
		{"the same value allow-listed", base + "level=DEBUG msg=\"sms sent\" to=" + leaked + "\n", "135 1234 5678\n", 0},
		{"the same value masked", base + "level=DEBUG msg=\"sms sent\" to=135****5678\n", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			logs := filepath.Join(dir, "artifacts")
			os.MkdirAll(logs, 0o755)
			if err := os.WriteFile(filepath.Join(logs, "go-test.log"), []byte(tt.log), 0o644); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(logs, "page.png"), []byte("\x89PNG "+leaked), 0o644)
			allow := filepath.Join(dir, "allow.txt")
			if err := os.WriteFile(allow, append(append([]byte{}, allowed...), tt.allow...), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{}, selfScanArgs...)
			args[4] = allow
			out, errOut, code := custos(t, "", append(args, logs)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			if strings.Contains(out+errOut, leaked) {
				t.Error("the self-scan's report shows the value")
			}
		})
	}
}
