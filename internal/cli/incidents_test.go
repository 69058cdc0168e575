package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestIncidents: admins open, assess, notify and close incidents under
// their own sign-in; operators read but do not act; the steps refuse out
// of order; the report prints; nothing a person typed as an identity is
// shown.
func TestIncidents(t *testing.T) {
	t.Setenv("CUSTOS_OPERATOR_PASSWORD", "")
	db, _, with := install(t, "../../examples/starter/custos.yaml")
	dir := filepath.Dir(db)
	for _, o := range []struct{ name, role string }{{"alice", "operator"}, {"bob", "admin"}} {
		pw := o.name + "-password-123"
		mustRun(t, pw+"\n", with("operators", "create", o.name, "--role", o.role)...)
		if err := os.WriteFile(filepath.Join(dir, o.name+".pw"), []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	as := func(user string) []string {
		return []string{"--as", user, "--password-file", filepath.Join(dir, user+".pw")}
	}
	incID := regexp.MustCompile(`in_[0-9a-v]{26}`)
	var transcript strings.Builder
	var inc string
	for _, tt := range []struct {
		args []string
		as   string
		code int
	}{
		{args: []string{"incidents", "open", "--discovered", "2026-01-01T08:00:00Z", "--categories", "basic.email", "--description-en", "A support desktop was infected"}, as: "alice", code: 2},
		{args: []string{"incidents", "open", "--discovered", "2026-01-01T08:00:00Z", "--categories", "basic.email", "--description-en", "A support desktop was infected",
			"--from", "2025-12-01"}, as: "bob"},
		{args: []string{"incidents", "open", "--discovered", "2026-01-01T08:00:00Z", "--categories", "made.up", "--description-en", "x"}, as: "bob", code: 2},
		{args: []string{"incidents", "notify", "INC", "--regulator"}, as: "bob", code: 2},
		{args: []string{"incidents", "assess", "INC", "--severity", "CN=relatively_serious"}, as: "bob", code: 2},
		{args: []string{"incidents", "assess", "INC", "--severity", "CN=relatively_serious,EU=risk", "--harm-en", "contact details may be misused",
			"--measures-en", "the desktop was isolated"}, as: "bob"},
		{args: []string{"incidents", "notify", "INC", "--regulator"}, as: "bob"},
		{args: []string{"incidents", "list"}},
		{args: []string{"incidents", "subjects", "INC"}},
		{args: []string{"incidents", "report", "INC", "--lang", "en"}},
		{args: []string{"incidents", "report", "INC", "--format", "pdf"}, code: 2},
		{args: []string{"incidents", "close", "INC"}, as: "bob"},
		{args: []string{"incidents", "close", "INC"}, as: "bob", code: 2},
		{args: []string{"incidents", "list"}},
		{args: []string{"incidents", "list", "--all"}},
	} {
		args := make([]string, len(tt.args))
		for i, a := range tt.args {
			args[i] = strings.ReplaceAll(a, "INC", inc)
		}
		if tt.as != "" {
			args = append(args, as(tt.as)...)
		}
		out, errOut, code := run(t, with(args...)...)
		if code != tt.code {
			t.Errorf("custos %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, tt.code, out, errOut)
		}
		if inc == "" {
			inc = incID.FindString(out)
		}
		shown := strings.Join(tt.args, " ")
		if tt.as != "" {
			shown += " --as " + tt.as
		}
		transcript.WriteString("$ custos " + shown + "\n" + out)
		if errOut != "" {
			transcript.WriteString("stderr: " + lastLine(errOut) + "\n")
		}
	}
	got := transcript.String()
	if strings.Contains(got, "bob-password") {
		t.Error("the transcript shows a password")
	}
	// Times of the steps and the countdowns move with the clock.
	for _, r := range []struct{ re, to string }{
		{`\d{4}-\d\d-\d\d \d\d:\d\d UTC: incident`, "TIME: incident"},
		{`\(-?[0-9hms.]+ left;`, "(LEFT left;"},
		{`- \d{4}-\d\d-\d\d \d\d:\d\d UTC: `, "- TIME: "},
		{`done at \d{4}-\d\d-\d\d \d\d:\d\d UTC`, "done at TIME"},
	} {
		got = regexp.MustCompile(r.re).ReplaceAllString(got, r.to)
	}
	got = incID.ReplaceAllString(got, "in_ID")
	golden(t, "incidents.txt", got)
}
