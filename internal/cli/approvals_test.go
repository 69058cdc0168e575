package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/store"
)

// runIn runs the command line with stdin.
func runIn(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// mustRun runs a setup command that must succeed.
func mustRun(t *testing.T, stdin string, args ...string) {
	t.Helper()
	if out, errOut, code := runIn(t, stdin, args...); code != 0 {
		t.Fatalf("custos %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
}

// install makes keys and a migrated database in a new directory and
// publishes the manifest at path; with appends the flags that name them.
func install(t *testing.T, path string) (db, keys string, with func(args ...string) []string) {
	t.Helper()
	dir := t.TempDir()
	db, keys = filepath.Join(dir, "custos.db"), filepath.Join(dir, "secrets")
	mustRun(t, "", "secrets", "init", keys)
	with = func(args ...string) []string { return append(args, "--db", db, "--secrets-dir", keys) }
	mustRun(t, "", with("migrate")...)
	mustRun(t, "", with("policy", "publish", path)...)
	return db, keys, with
}

// TestApprovalsCommands: the command line lists and shows approvals
// without signing in; deciding and resuming sign in as an operator and
// keep the console's rules (no self-approval, auditors only read, a
// decision taken once); every decision is audited under the operator's
// name, and no password reaches the audit trail.
func TestApprovalsCommands(t *testing.T) {
	t.Setenv("CUSTOS_OPERATOR_PASSWORD", "")
	db, _, with := install(t, "../../examples/starter/custos.yaml")
	dir := filepath.Dir(db)
	passwords := map[string]string{}
	for _, o := range []struct{ name, role string }{{"alice", "operator"}, {"bob", "operator"}, {"carol", "auditor"}, {"dave", "admin"}} {
		passwords[o.name] = o.name + "-password-123"
		mustRun(t, passwords[o.name]+"\n", with("operators", "create", o.name, "--role", o.role)...)
		if err := os.WriteFile(filepath.Join(dir, o.name+".pw"), []byte(passwords[o.name]+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "wrong.pw"), []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Alice asked on the console for three batches.
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := st.OperatorByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	for _, a := range []store.Approval{
		{ID: "ap_export", Kind: store.ApprovalBatchExport, Params: `{"scope":"subjects","subjects":["u-1","u-2"]}`},
		{ID: "ap_ledger", Kind: store.ApprovalBatchExport, Params: `{"scope":"ledger","from":"2026-09-01","to":"2026-09-30"}`},
		{ID: "ap_destroy", Kind: store.ApprovalBatchDestruction, Params: `{"scope":"subjects","subjects":["u-1"]}`},
	} {
		a.Reason, a.RequestedBy, a.CreatedAt = "quarterly audit", alice.ID, created
		created = created.Add(time.Minute)
		if err := st.CreateApproval(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateSubject(ctx, store.Subject{ID: "u-1", CreatedAt: created, UpdatedAt: created}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, errOut, code := runIn(t, "", with("approvals", "list")...)
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	golden(t, "approvals-list-pending.txt", out)
	out, errOut, code = runIn(t, "", with("approvals", "show", "ap_export")...)
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, errOut)
	}
	golden(t, "approvals-show.json", out)

	as := func(user, pwFile string) []string {
		return []string{"--as", user, "--password-file", filepath.Join(dir, pwFile+".pw")}
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		out    string // stdout must contain
		errOut string // stderr must contain
	}{
		{"self-approval", append([]string{"approvals", "approve", "ap_export"}, as("alice", "alice")...), 2, "", "self_approval"},
		{"wrong password", append([]string{"approvals", "approve", "ap_export"}, as("bob", "wrong")...), 2, "", "sign_in_failed"},
		{"unknown operator", append([]string{"approvals", "approve", "ap_export"}, as("mallory", "bob")...), 2, "", "sign_in_failed"},
		{"an auditor", append([]string{"approvals", "approve", "ap_export"}, as("carol", "carol")...), 2, "", "role_forbidden"},
		{"refuse without a reason", append([]string{"approvals", "refuse", "ap_ledger"}, as("bob", "bob")...), 2, "", "--reason"},
		{"refuse", append([]string{"approvals", "refuse", "ap_ledger", "--reason", "the period is wrong"}, as("bob", "bob")...), 0, "refused ap_ledger", ""},
		{"approve", append([]string{"approvals", "approve", "ap_export", "--note", "checked the list"}, as("bob", "bob")...), 0, "approved ap_export", ""},
		{"approve twice", append([]string{"approvals", "approve", "ap_export"}, as("dave", "dave")...), 2, "", "approval_state"},
		{"approve a destruction", append([]string{"approvals", "approve", "ap_destroy"}, as("dave", "dave")...), 0, "destruction ap_destroy finished: 1 subject(s), 0 not erased", ""},
		{"resume a finished destruction", append([]string{"approvals", "resume", "ap_destroy"}, as("bob", "bob")...), 2, "", "approval_state"},
		{"show nothing", []string{"approvals", "show", "ap_nope"}, 2, "", "approval_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runIn(t, "", with(tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.errOut) {
				t.Errorf("exit %d, want %d; stdout %q (want %q); stderr %q (want %q)", code, tt.code, out, tt.out, errOut, tt.errOut)
			}
		})
	}

	out, errOut, code = runIn(t, "", with("approvals", "list")...)
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	golden(t, "approvals-list-decided.txt", out)

	st, err = store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bob, _ := st.OperatorByUsername(ctx, "bob")
	entries, err := st.AuditEntries(ctx, store.AuditFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		for _, pw := range passwords {
			if strings.Contains(e.Detail+e.Object+e.Actor+e.Place, pw) {
				t.Errorf("audit entry %d (%s) holds a password", e.Seq, e.Action)
			}
		}
		if strings.HasPrefix(e.Object, "approval:") {
			seen[e.Action+"/"+e.Outcome+" "+e.Object+" by "+e.Actor] = strings.HasPrefix(e.Place, "cli host ")
		}
	}
	for _, want := range []string{
		"approval.approve/denied approval:ap_export by operator:" + alice.ID,
		"approval.reject/ok approval:ap_ledger by operator:" + bob.ID,
		"approval.approve/ok approval:ap_export by operator:" + bob.ID,
	} {
		if fromCLI, ok := seen[want]; !ok || !fromCLI {
			t.Errorf("no %q from the command line in the audit trail", want)
		}
	}
}

// TestApprovalsNeedSignIn: deciding without an operator's sign-in and
// without a terminal to ask on is refused before anything is decided.
func TestApprovalsNeedSignIn(t *testing.T) {
	if f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		f.Close()
		t.Skip("a terminal is attached: the command would ask on it")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "custos.db")
	mustRun(t, "", "migrate", "--db", db)
	_, errOut, code := runIn(t, "", "approvals", "approve", "ap_x", "--db", db)
	if code != 2 || !strings.Contains(errOut, "--password-file") {
		t.Errorf("exit %d, stderr %q; want 2 and a hint at --password-file", code, errOut)
	}
}
