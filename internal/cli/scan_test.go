package cli

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpus is a directory of generated logs, JSON Lines, a CSV export and a
// gzip archive with planted values (internal/scan/testdata/corpus).
const corpus = "../scan/testdata/corpus"

// planted are the values written into testdata/corpus and the shop
// database; no report may show them.
var planted = []string{"13812345678", "13912345678", "13700001234", "li.lei@example.com", "han.meimei@example.com",
	"440304199001011233", "320106198512032511", "6222021001123456789", "203.0.113.7", "198.51.100.23", "+8613800000001"}

func custos(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func shopDSN(t *testing.T) string {
	t.Helper()
	schema, err := os.ReadFile("../../examples/starter/shop.sql")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "shop.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(string(schema)); err != nil {
		t.Fatalf("load shop.sql: %v", err)
	}
	return "file:" + path
}

// The corpus of logs, a CSV export, JSON Lines and a gzip archive, and
// the starter's shop database give the expected findings in every format,
// and no report shows a value.
func TestCommandsScan(t *testing.T) {
	shop := shopDSN(t)
	csvIn, err := os.ReadFile(corpus + "/exports/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	starter := []string{"--manifest", "../../examples/starter/custos.yaml", "--dataset", "../../examples/starter/dataset.yaml"}
	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		golden string
	}{
		{"corpus text", "", []string{"scan", corpus}, 0, "scan-corpus.txt"},
		{"corpus jsonl", "", []string{"scan", corpus, "--format", "jsonl"}, 0, "scan-corpus.jsonl"},
		{"corpus sarif", "", []string{"scan", corpus, "--format", "sarif"}, 0, "scan-corpus.sarif"},
		{"corpus against the manifest", "", append([]string{"scan", corpus, "--source", "app-logs"}, starter...), 0, "scan-corpus-drift.txt"},
		{"csv on standard input", string(csvIn), []string{"scan", "-", "--stdin-format", "csv", "--format", "jsonl"}, 0, "scan-stdin-csv.jsonl"},
		{"shop database", "", []string{"scan", shop, "--full", "--format", "jsonl"}, 0, "scan-shop.jsonl"},
		{"shop database sarif", "", []string{"scan", shop, "--format", "sarif"}, 0, "scan-shop.sarif"},
		{"a SQLite file named on the command line", "", []string{"scan", strings.TrimPrefix(shop, "file:"), "--full", "--format", "jsonl"}, 0, "scan-shop.jsonl"},
		{"shop database against its annotation", "", append([]string{"scan", shop, "--full", "--source", "shop", "--format", "jsonl"}, starter...), 0, "scan-shop-drift.jsonl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := custos(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			for _, v := range planted {
				if strings.Contains(out, v) || strings.Contains(errOut, v) {
					t.Errorf("output shows the planted value %s", v)
				}
			}
			out = strings.ReplaceAll(out, strings.TrimPrefix(shop, "file:"), "SHOP")
			golden(t, tt.golden, out)
			if strings.HasSuffix(tt.golden, ".sarif") {
				checkSARIF(t, out)
			}
			if strings.HasSuffix(tt.golden, ".jsonl") {
				for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
					if !json.Valid([]byte(line)) {
						t.Errorf("line %d is not JSON: %s", i+1, line)
					}
				}
			}
		})
	}
}

// checkSARIF checks the parts of SARIF 2.1.0 code-scanning UIs read.
func checkSARIF(t *testing.T, out string) {
	t.Helper()
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn int }
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "custos" || len(log.Runs[0].Results) == 0 {
		t.Fatalf("not a SARIF 2.1.0 log with results: %.300s", out)
	}
	rules := map[string]bool{}
	for _, r := range log.Runs[0].Tool.Driver.Rules {
		rules[r.ID] = true
	}
	for _, r := range log.Runs[0].Results {
		if !rules[r.RuleID] || len(r.Locations) != 1 || r.Locations[0].PhysicalLocation.Region.StartLine < 1 || r.Message.Text == "" {
			t.Errorf("result %+v lacks a rule, a location or a message", r)
		}
	}
}

func TestCommandsScanExitCodes(t *testing.T) {
	dir := t.TempDir()
	masked := filepath.Join(dir, "masked.log")
	os.WriteFile(masked, []byte("短信 138****5678 已发送\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"findings without --fail-on", []string{"scan", corpus + "/logs"}, 0},
		{"any", []string{"scan", corpus + "/logs", "--fail-on", "any"}, 1},
		{"sensitive", []string{"scan", corpus + "/logs/app.log", "--fail-on", "sensitive"}, 1},
		{"a category not found", []string{"scan", corpus + "/exports", "--fail-on", "financial"}, 0},
		{"a parent category", []string{"scan", corpus + "/exports", "--fail-on", "basic"}, 1},
		{"confidence above every finding", []string{"scan", corpus, "--fail-on", "any", "--min-confidence", "1.01"}, 0},
		{"no such file", []string{"scan", filepath.Join(dir, "nope")}, 2},
		{"unknown format", []string{"scan", corpus, "--format", "xml"}, 2},
		{"manifest without source", []string{"scan", corpus, "--manifest", "../../examples/starter/custos.yaml"}, 2},
		{"bad max size", []string{"scan", corpus, "--max-size", "lots"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, errOut, code := custos(t, "", tt.args...); code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
		})
	}
}

func TestCommandsScanShowValues(t *testing.T) {
	out, _, _ := custos(t, "", "scan", corpus+"/logs/app.log", "--show-values", "--format", "jsonl")
	if !strings.Contains(out, `"value":"6222021001123456789"`) {
		t.Errorf("--show-values did not show the value:\n%s", out)
	}
}

// Redacting the corpus writes each file with the values replaced and
// every other byte as it was; the gzip archive stays gzip.
func TestCommandsRedact(t *testing.T) {
	for _, mode := range []string{"mask", "tag"} {
		t.Run(mode, func(t *testing.T) {
			out := t.TempDir()
			_, errOut, code := custos(t, "", "redact", corpus, "--out", out, "--mode", mode)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(errOut, "values replaced") || !strings.Contains(errOut, "core.bin: binary") {
				t.Errorf("stderr: %s", errOut)
			}
			for _, f := range []string{"logs/app.log", "logs/api.jsonl", "exports/users.csv", "archive/app-2026-02-28.log.gz"} {
				got, err := os.ReadFile(filepath.Join(out, f))
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasSuffix(f, ".gz") {
					zr, err := gzip.NewReader(bytes.NewReader(got))
					if err != nil {
						t.Fatalf("%s is not gzip: %v", f, err)
					}
					if got, err = io.ReadAll(zr); err != nil {
						t.Fatal(err)
					}
					f = strings.TrimSuffix(f, ".gz")
				}
				golden(t, "redact-"+mode+"-"+filepath.Base(f), string(got))
			}
		})
	}
	// Standard input to standard output; hash mode needs a salt.
	out, _, code := custos(t, "user 13812345678 ok\n", "redact", "-", "--mode", "tag")
	if code != 0 || out != "user [basic.phone] ok\n" {
		t.Errorf("redact - = %q (exit %d)", out, code)
	}
	if _, _, code := custos(t, "x", "redact", "-", "--mode", "hash"); code != 2 {
		t.Errorf("hash without a salt: exit %d, want 2", code)
	}
}

// selfScanArgs are the flags scripts/selfscan.sh gives custos scan.
var selfScanArgs = []string{"scan", "--fail-on", "any", "--allow", "../../.ci/pii-allow.txt", "--exclude", "*.png", "--exclude", "*.jpg", "--exclude", "*.pdf", "--max-size", "512M"}

// The CI self-scan fails on a phone number in clear in a test run's log,
// and passes on the same log once the value is allow-listed or masked;
// the suite's fixture values never fail it.
func TestCommandsSelfScan(t *testing.T) {
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
