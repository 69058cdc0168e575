package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHolds: operators place and ask to lift legal holds under their own
// sign-in; auditors read; a lift is an approval the requester cannot
// decide and a second operator can; another organisation sees none of
// the holds.
func TestHolds(t *testing.T) {
	t.Setenv("CUSTOS_OPERATOR_PASSWORD", "")
	db, _, with := install(t, "../../examples/starter/custos.yaml")
	dir := filepath.Dir(db)
	for _, o := range []struct{ name, role string }{{"alice", "operator"}, {"bob", "admin"}, {"carol", "auditor"}} {
		pw := o.name + "-password-123"
		mustRun(t, pw+"\n", with("operators", "create", o.name, "--role", o.role)...)
		if err := os.WriteFile(filepath.Join(dir, o.name+".pw"), []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, "", with("orgs", "create", "acme", "--name", "Acme Ltd")...)
	as := func(user string) []string {
		return []string{"--as", user, "--password-file", filepath.Join(dir, user+".pw")}
	}
	holdID := regexp.MustCompile(`hl_[0-9a-v]{26}`)
	approvalID := regexp.MustCompile(`ap_[0-9a-v]{26}`)
	stamp := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	opID := regexp.MustCompile(`"(placed_by|lifted_by)": "[^"]+"`)
	var transcript strings.Builder
	var hold, ap string
	for _, tt := range []struct {
		args []string
		as   string
		code int
	}{
		{args: []string{"holds", "place", "--subject", "u-1", "--category", "basic", "--basis", "court_order", "--reason", "Wage dispute", "--authority", "(2026) Hu 0115 Min Chu 1", "--expires", "2099-01-01"}, as: "alice"},
		{args: []string{"holds", "place", "--datastore", "crm", "--collection", "orders", "--from", "2025-01-01", "--to", "2026-01-01", "--reason", "Tax audit", "--authority", "Tax office 7"}, as: "bob"},
		{args: []string{"holds", "place", "--reason", "r", "--authority", "a"}, as: "alice", code: 2},
		{args: []string{"holds", "place", "--collection", "orders", "--reason", "r", "--authority", "a"}, as: "alice", code: 2},
		{args: []string{"holds", "place", "--subject", "u-1", "--basis", "whim", "--reason", "r", "--authority", "a"}, as: "alice", code: 2},
		{args: []string{"holds", "place", "--subject", "u-1", "--expires", "soon", "--reason", "r", "--authority", "a"}, as: "alice", code: 2},
		{args: []string{"holds", "place", "--subject", "u-1", "--reason", "r", "--authority", "a"}, as: "carol", code: 2},
		{args: []string{"holds", "list"}},
		{args: []string{"holds", "show", "HOLD"}},
		{args: []string{"holds", "show", "hl_none"}, code: 2},
		{args: []string{"holds", "lift", "HOLD", "--reason", "settled"}, as: "carol", code: 2},
		{args: []string{"holds", "lift", "HOLD", "--reason", "settled"}, as: "alice"},
		{args: []string{"holds", "lift", "HOLD", "--reason", "settled"}, as: "bob", code: 2},
		{args: []string{"approvals", "list"}},
		{args: []string{"approvals", "approve", "APPROVAL"}, as: "alice", code: 2},
		{args: []string{"approvals", "approve", "APPROVAL"}, as: "bob"},
		{args: []string{"holds", "list"}},
		{args: []string{"holds", "list", "--all"}},
		{args: []string{"holds", "list", "--all", "--org", "acme"}},
	} {
		args := make([]string, len(tt.args))
		for i, a := range tt.args {
			args[i] = strings.NewReplacer("HOLD", hold, "APPROVAL", ap).Replace(a)
		}
		if tt.as != "" {
			args = append(args, as(tt.as)...)
		}
		out, errOut, code := run(t, with(args...)...)
		if code != tt.code {
			t.Errorf("custos %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, tt.code, out, errOut)
		}
		if hold == "" {
			hold = holdID.FindString(out)
		}
		if id := approvalID.FindString(out); id != "" && ap == "" {
			ap = id
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
	for _, secret := range []string{"alice-password", "bob-password"} {
		if strings.Contains(got, secret) {
			t.Errorf("the transcript shows %q", secret)
		}
	}
	got = strings.ReplaceAll(got, hold, "hl_FIRST")
	got = holdID.ReplaceAllString(approvalID.ReplaceAllString(got, "ap_ID"), "hl_ID")
	got = opID.ReplaceAllString(stamp.ReplaceAllString(got, "TIME"), `"$1": "op_ID"`)
	golden(t, "holds.txt", got)
}
