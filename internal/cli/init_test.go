package cli

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/scaffold"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// initArgs are the flags of a complete, non-interactive custos init.
func initArgs(out, jur, langs string) []string {
	return []string{"init", "--org", "示例科技", "--org-en", "Example Tech", "--jurisdiction", jur, "--lang", langs,
		"--email", "privacy@example.cn", "--date", "2026-06-01", "-o", out}
}

// TestInit generates a manifest for each jurisdiction and set of languages:
// it validates, renders in each of its languages with the law's deadline
// and age, refuses the languages it does not carry, and marks its defaults
// for review in every section it writes.
func TestInit(t *testing.T) {
	type lawWords struct{ deadline, age string }
	laws := map[string]map[string]lawWords{
		"CN": {"zh-CN": {"15个工作日内答复", "未满14周岁"}, "en": {"within 15 working days", "under 14"}},
		"EU": {"zh-CN": {"1个月", "未满16周岁"}, "en": {"within 1 month", "under 16"}},
	}
	names := map[string]string{"zh-CN": "# 示例科技隐私政策", "en": "# Example Tech Privacy Policy"}
	for _, jur := range scaffold.Jurisdictions {
		for _, langs := range []string{"zh-CN,en", "en,zh-CN", "zh-CN", "en"} {
			t.Run(jur+"/"+langs, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "custos.yaml")
				_, errOut, code := run(t, initArgs(out, jur, langs)...)
				if code != 0 {
					t.Fatalf("init: exit %d: %s", code, errOut)
				}
				if !strings.Contains(errOut, "wrote "+out) || !strings.Contains(errOut, "custos validate "+out) {
					t.Errorf("init says %q", errOut)
				}
				if _, errOut, code := run(t, "validate", out); code != 0 {
					t.Fatalf("validate: exit %d: %s", code, errOut)
				}
				published := strings.Split(langs, ",")
				for _, lang := range scaffold.Languages {
					doc, errOut, code := run(t, "policy", "render", out, "--lang", lang)
					if !slices.Contains(published, lang) {
						if code == 0 {
							t.Errorf("render --lang %s of a manifest in %s succeeded", lang, langs)
						}
						continue
					}
					if code != 0 {
						t.Fatalf("render --lang %s: exit %d: %s", lang, code, errOut)
					}
					w := laws[jur][lang]
					for _, want := range []string{names[lang], w.deadline, w.age, "privacy@example.cn"} {
						if !strings.Contains(doc, want) {
							t.Errorf("policy in %s lacks %q", lang, want)
						}
					}
				}
				data, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				for _, section := range reviewedSections(string(data)) {
					if !section.reviewed {
						t.Errorf("section %s has no # review: marker", section.name)
					}
				}
				// A language the manifest does not publish has no texts in it.
				if !slices.Contains(published, "en") && strings.Contains(string(data), "  en: ") {
					t.Error("a zh-CN manifest carries English texts")
				}
				if !slices.Contains(published, "zh-CN") && strings.Contains(string(data), "  zh: ") {
					t.Error("an en manifest carries Chinese texts")
				}
			})
		}
	}
}

type section struct {
	name     string
	reviewed bool
}

// reviewedSections lists the top-level sections of a manifest that carry
// values and whether a "# review:" marker sits in each. custos and
// jurisdictions are the format and the law, not the organisation's choices;
// subjects and categories say nothing the policy promises.
func reviewedSections(manifest string) []section {
	var out []section
	for _, line := range strings.Split(manifest, "\n") {
		if m := regexp.MustCompile(`^([a-z_]+):`).FindStringSubmatch(line); m != nil {
			out = append(out, section{name: m[1]})
			continue
		}
		if len(out) > 0 && strings.Contains(line, "# review:") {
			out[len(out)-1].reviewed = true
		}
	}
	return slices.DeleteFunc(out, func(s section) bool {
		return slices.Contains([]string{"custos", "jurisdictions", "subjects", "categories"}, s.name)
	})
}

// TestInitGolden: the manifest for one set of answers, as a reviewer reads it.
func TestInitGolden(t *testing.T) {
	out := filepath.Join(t.TempDir(), "custos.yaml")
	if _, errOut, code := run(t, initArgs(out, "CN", "zh-CN,en")...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "init-cn.yaml", string(data))
	// The same answers on standard output give the same file.
	stdout, _, code := run(t, initArgs("-", "CN", "zh-CN,en")...)
	if code != 0 || stdout != string(data) {
		t.Errorf("init -o - = %d, differs from the file: %v", code, stdout != string(data))
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "custos.yaml")
	const mine = "custos: 1 # my own manifest\n"
	if err := os.WriteFile(out, []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{initArgs(out, "CN", "zh-CN,en"), {"init", "--from", "starter", "-o", out}} {
		_, errOut, code := run(t, args...)
		if code != 2 || !strings.Contains(errOut, out+" exists: give --force to overwrite it") {
			t.Errorf("%v: exit %d, %q", args[:2], code, errOut)
		}
		if data, _ := os.ReadFile(out); string(data) != mine {
			t.Fatalf("%v overwrote the file", args[:2])
		}
	}
	if _, errOut, code := run(t, append(initArgs(out, "EU", "en"), "--force")...); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, errOut)
	}
	if data, _ := os.ReadFile(out); !strings.Contains(string(data), "Example Tech") {
		t.Error("--force did not write the manifest")
	}
}

// TestInitFrom copies every example byte for byte; each validates.
func TestInitFrom(t *testing.T) {
	names := scaffold.Examples()
	if diff := cmp.Diff([]string{"deepin", "opengemini", "smart-device-app", "starter", "yonyou-cloud"}, names); diff != "" {
		t.Errorf("examples (-want +got):\n%s", diff)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), name+".yaml")
			if _, errOut, code := run(t, "init", "--from", name, "-o", out); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("..", "..", "examples", name, "custos.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("copy of %s differs from examples/%s/custos.yaml", name, name)
			}
			if _, errOut, code := run(t, "validate", out); code != 0 {
				t.Errorf("validate: exit %d: %s", code, errOut)
			}
		})
	}
}

func TestInitUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		errHas string
	}{
		{"names and email missing", []string{"init", "--org", "示例科技"}, "missing --org-en, --email (run in a terminal, custos init asks for it)"},
		{"english alone needs one name", []string{"init", "--lang", "en", "--email", "p@example.com"}, "missing --org-en"},
		{"unknown jurisdiction", []string{"init", "--org", "示例", "--org-en", "Ex", "--email", "p@example.com", "--jurisdiction", "US"}, `unsupported jurisdiction "US": want CN or EU`},
		{"unknown language", []string{"init", "--org", "示例", "--org-en", "Ex", "--email", "p@example.com", "--lang", "zh-CN,fr"}, `unsupported language "fr"`},
		{"not an email", []string{"init", "--org", "示例", "--org-en", "Ex", "--email", "Example Tech"}, `email "Example Tech": want an address`},
		{"bad date", []string{"init", "--org", "示例", "--org-en", "Ex", "--email", "p@example.com", "--date", "1 June"}, `date "1 June": want YYYY-MM-DD`},
		{"unknown example", []string{"init", "--from", "acme"}, `no example "acme": want one of deepin, opengemini, smart-device-app, starter, yonyou-cloud`},
		{"from takes no answers", []string{"init", "--from", "starter", "--org", "示例"}, "--from copies an example as it is: it takes no --org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml")
			_, errOut, code := run(t, append(tt.args, "-o", out)...)
			if code != 2 || !strings.Contains(errOut, tt.errHas) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.errHas)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a file was written")
			}
		})
	}
}

// TestInitPrompts: in a terminal, init asks for what the flags leave out
// and nothing else; the answers make a manifest that validates.
func TestInitPrompts(t *testing.T) {
	tests := []struct {
		name      string
		given     scaffold.Options
		askJur    bool
		answers   string
		wantAsked []string
		want      scaffold.Options
	}{
		{
			name: "everything", askJur: true, answers: "eu\nBeispiel\nExample GmbH\nprivacy@example.eu\n",
			wantAsked: []string{"Jurisdiction", "Organisation name in Chinese", "Organisation name in English", "Email"},
			want:      scaffold.Options{Jurisdiction: "EU", Org: "Beispiel", OrgEn: "Example GmbH", Email: "privacy@example.eu"},
		},
		{
			name: "only the email", given: scaffold.Options{Org: "示例", OrgEn: "Ex", Jurisdiction: "CN"}, answers: "  p@example.cn  \n",
			wantAsked: []string{"Email"},
			want:      scaffold.Options{Org: "示例", OrgEn: "Ex", Jurisdiction: "CN", Email: "p@example.cn"},
		},
		{
			name: "english alone asks one name", given: scaffold.Options{Languages: []string{"en"}}, answers: "Example Ltd\nx@example.com\n",
			wantAsked: []string{"Organisation name in English", "Email"},
			want:      scaffold.Options{Languages: []string{"en"}, OrgEn: "Example Ltd", Email: "x@example.com"},
		},
		{
			name: "end of input leaves the defaults", askJur: true, answers: "",
			wantAsked: []string{"Jurisdiction", "Organisation name in Chinese", "Organisation name in English", "Email"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prompts strings.Builder
			o := tt.given
			p := prompter{in: bufio.NewReader(strings.NewReader(tt.answers)), out: &prompts}
			if err := p.missing(&o, tt.askJur); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, o); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
			var asked []string
			for _, p := range strings.SplitAfter(prompts.String(), ": ") {
				if p != "" {
					asked = append(asked, strings.TrimSuffix(p, ": "))
				}
			}
			for i, want := range tt.wantAsked {
				if i >= len(asked) || !strings.HasPrefix(asked[i], want) {
					t.Errorf("prompts %q, want %q", asked, tt.wantAsked)
					break
				}
			}
			if len(asked) != len(tt.wantAsked) {
				t.Errorf("%d prompts %q, want %d", len(asked), asked, len(tt.wantAsked))
			}
			if tt.want.Email != "" {
				if _, err := scaffold.Manifest(o.Defaults(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))); err != nil {
					t.Errorf("manifest from the answers: %v", err)
				}
			}
		})
	}
	// Prompts go only to a terminal: a pipe or a file never gets them.
	f, err := os.Open(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) || isTerminal(strings.NewReader("")) {
		t.Error("a file or a reader taken for a terminal")
	}
}

// servedPolicy runs a server in-process on SQLite with the manifest (and
// env, e.g. CUSTOS_DATASET) as `custos serve --manifest` does, and returns
// its handler and an operator's API key.
func servedPolicy(t *testing.T, manifestPath string, extra map[string]string) (http.Handler, string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := secrets.Init(filepath.Join(dir, "secrets"), false); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CUSTOS_DB":          filepath.Join(dir, "custos.db"),
		"CUSTOS_MANIFEST":    manifestPath,
		"CUSTOS_SECRETS_DIR": filepath.Join(dir, "secrets"),
		"CUSTOS_NOTIFY_DIR":  filepath.Join(dir, "outbox"),
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), env["CUSTOS_DB"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	clock := func() time.Time { return time.Date(2026, 7, 1, 2, 0, 0, 0, time.UTC) }
	srv, err := server.New(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.WithClock(clock))
	if err != nil {
		t.Fatalf("server with %s: %v", manifestPath, err)
	}
	t.Cleanup(func() { srv.Close() })
	k, err := api.CreateKey(t.Context(), srv.Store(), consent.Actor{ID: "test", Role: "admin", Place: "cli test"}, "operator", api.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	return srv.Handler(), k.Secret
}

// call sends a request with the key and returns the status and body.
func call(t *testing.T, h http.Handler, key, method, path, body string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// TestInitServes: the server starts on a generated manifest and publishes it.
func TestInitServes(t *testing.T) {
	for _, jur := range scaffold.Jurisdictions {
		t.Run(jur, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "custos.yaml")
			if _, errOut, code := run(t, initArgs(out, jur, "zh-CN,en")...); code != 0 {
				t.Fatalf("init: exit %d: %s", code, errOut)
			}
			h, key := servedPolicy(t, out, nil)
			code, body := call(t, h, key, "GET", "/v1/policy", "")
			var v api.PolicyVersion
			if err := json.Unmarshal([]byte(body), &v); code != 200 || err != nil {
				t.Fatalf("GET /v1/policy: %d %s", code, body)
			}
			if v.Version != "1.0" || !v.InForce {
				t.Errorf("policy in force = %+v, want version 1.0 in force", v)
			}
			for lang, want := range map[string]string{"en": "Example Tech Privacy Policy", "zh-CN": "示例科技隐私政策"} {
				code, page := call(t, h, "", "GET", "/privacy/policy?lang="+lang, "")
				if code != 200 || !strings.Contains(page, want) || !strings.Contains(page, "privacy@example.cn") {
					t.Errorf("GET /privacy/policy?lang=%s: %d, lacks %q or the email", lang, code, want)
				}
			}
		})
	}
}

// TestIsTerminal: /dev/null is a character device but no terminal; a
// script redirecting from it must not be prompted.
func TestIsTerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Errorf("isTerminal(%s) = true", os.DevNull)
	}
	if isTerminal(strings.NewReader("")) {
		t.Error("isTerminal(a reader) = true")
	}
}
