package scan_test

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/cli"

	_ "modernc.org/sqlite"
)

var update = flag.Bool("update", false, "rewrite golden files")

// planted are the values written into testdata/corpus and the shop
// database; no report may show them.
var planted = []string{"13812345678", "13912345678", "13700001234", "li.lei@example.com", "han.meimei@example.com",
	"440304199001011233", "320106198512032511", "6222021001123456789", "203.0.113.7", "198.51.100.23", "+8613800000001"}

func custos(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/scan -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./internal/scan -update, then read the diff):\n%s", name, got)
	}
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
func TestScanGolden(t *testing.T) {
	shop := shopDSN(t)
	csvIn, err := os.ReadFile("testdata/corpus/exports/users.csv")
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
		{"corpus text", "", []string{"scan", "testdata/corpus"}, 0, "corpus.txt"},
		{"corpus jsonl", "", []string{"scan", "testdata/corpus", "--format", "jsonl"}, 0, "corpus.jsonl"},
		{"corpus sarif", "", []string{"scan", "testdata/corpus", "--format", "sarif"}, 0, "corpus.sarif"},
		{"corpus against the manifest", "", append([]string{"scan", "testdata/corpus", "--source", "app-logs"}, starter...), 0, "corpus-drift.txt"},
		{"csv on standard input", string(csvIn), []string{"scan", "-", "--stdin-format", "csv", "--format", "jsonl"}, 0, "stdin-csv.jsonl"},
		{"shop database", "", []string{"scan", shop, "--full", "--format", "jsonl"}, 0, "shop.jsonl"},
		{"shop database sarif", "", []string{"scan", shop, "--format", "sarif"}, 0, "shop.sarif"},
		{"shop database against its annotation", "", append([]string{"scan", shop, "--full", "--source", "shop", "--format", "jsonl"}, starter...), 0, "shop-drift.jsonl"},
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

func TestScanExitCodes(t *testing.T) {
	dir := t.TempDir()
	masked := filepath.Join(dir, "masked.log")
	os.WriteFile(masked, []byte("短信 138****5678 已发送\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"findings without --fail-on", []string{"scan", "testdata/corpus/logs"}, 0},
		{"any", []string{"scan", "testdata/corpus/logs", "--fail-on", "any"}, 1},
		{"sensitive", []string{"scan", "testdata/corpus/logs/app.log", "--fail-on", "sensitive"}, 1},
		{"a category not found", []string{"scan", "testdata/corpus/exports", "--fail-on", "financial"}, 0},
		{"a parent category", []string{"scan", "testdata/corpus/exports", "--fail-on", "basic"}, 1},
		{"confidence above every finding", []string{"scan", "testdata/corpus", "--fail-on", "any", "--min-confidence", "1.01"}, 0},
		{"no such file", []string{"scan", filepath.Join(dir, "nope")}, 2},
		{"unknown format", []string{"scan", "testdata/corpus", "--format", "xml"}, 2},
		{"manifest without source", []string{"scan", "testdata/corpus", "--manifest", "../../examples/starter/custos.yaml"}, 2},
		{"bad max size", []string{"scan", "testdata/corpus", "--max-size", "lots"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, errOut, code := custos(t, "", tt.args...); code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
		})
	}
}

func TestShowValues(t *testing.T) {
	out, _, _ := custos(t, "", "scan", "testdata/corpus/logs/app.log", "--show-values", "--format", "jsonl")
	if !strings.Contains(out, `"value":"6222021001123456789"`) {
		t.Errorf("--show-values did not show the value:\n%s", out)
	}
}

// Redacting the corpus writes each file with the values replaced and
// every other byte as it was; the gzip archive stays gzip.
func TestRedactGolden(t *testing.T) {
	for _, mode := range []string{"mask", "tag"} {
		t.Run(mode, func(t *testing.T) {
			out := t.TempDir()
			_, errOut, code := custos(t, "", "redact", "testdata/corpus", "--out", out, "--mode", mode)
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
				golden(t, filepath.Join("redact-"+mode, f), string(got))
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
