package cli

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/secrets"
)

// TestRetentionCommands runs the starter's sample shop database through
// custos retention: the plan counts each table's rows past their period,
// run deletes and anonymises them with progress as JSON lines when not on
// a terminal, a second run changes nothing, and runs lists both.
func TestRetentionCommands(t *testing.T) {
	dir := t.TempDir()
	if _, err := secrets.Init(filepath.Join(dir, "secrets"), false); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CUSTOS_SECRETS_DIR", filepath.Join(dir, "secrets"))
	t.Setenv("CUSTOS_DB", filepath.Join(dir, "custos.db"))
	shop := sampleShop(t, filepath.Join(dir, "shop.db"))
	mustRun(t, "", "migrate")
	mustRun(t, "", "policy", "publish", "../../examples/starter/custos.yaml")
	ds := []string{"--dataset", "../../examples/starter/dataset.yaml"}

	out := runOK(t, append([]string{"retention", "plan"}, ds...)...)
	for _, want := range []string{
		"RULE ", "support ", "shop ", "support_tickets ", "delete ",
		"shop/users under account ends at account_deletion: by the account's cancellation request",
		"shop/push_tokens under push ends at consent_withdrawn: swept per person who withdrew consent: 0 to sweep, 0 held",
		"shop/published_notes under published ends at purpose_fulfilled: not observed by Custos",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	var plan struct {
		Lines []struct {
			Rule, Collection string
			Due              int64
		}
	}
	if err := json.Unmarshal([]byte(runOK(t, append([]string{"retention", "plan", "--json"}, ds...)...)), &plan); err != nil {
		t.Fatal(err)
	}
	due := map[string]int64{}
	for _, l := range plan.Lines {
		due[l.Collection] = l.Due
	}
	for _, c := range []string{"relay_cache", "orders", "support_tickets", "security_logs", "crash_reports", "analytics_events", "ad_impressions", "compliance_records", "rights_requests"} {
		if due[c] != 1 {
			t.Errorf("%s: %d rows due, want 1 (%v)", c, due[c], due)
		}
	}
	if due["invoices"] != 0 || due["moderation_records"] != 0 {
		t.Errorf("invoices and moderation records due: %v", due)
	}

	out, errOut, code := run(t, append([]string{"retention", "run"}, ds...)...)
	if code != 0 || !strings.Contains(out, ": 9 rows in 14 collections") {
		t.Fatalf("run = %d\n%s%s", code, out, errOut)
	}
	// Progress is JSON lines, one per target at least, never a value.
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	var p map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &p); err != nil || p["rule"] == nil || p["due"] == nil {
		t.Errorf("progress line %q: %v", lines[0], err)
	}
	if strings.Contains(errOut+out, "li.lei") {
		t.Error("a value swept appears in the output")
	}
	var n int
	if err := shop.QueryRow("SELECT COUNT(*) FROM support_tickets").Scan(&n); err != nil || n != 1 {
		t.Errorf("support tickets left: %d, %v; want 1", n, err)
	}
	var user, device sql.NullString
	var at string
	if err := shop.QueryRow("SELECT user_id, device_id, occurred_at FROM analytics_events WHERE id = 1").Scan(&user, &device, &at); err != nil || user.Valid || device.Valid || at != "2023-02-01 00:00:00" {
		t.Errorf("analytics event 1 = %v %v %q, %v; want anonymised", user, device, at, err)
	}
	if out := runOK(t, append([]string{"retention", "run"}, ds...)...); !strings.Contains(out, ": 0 rows in 14 collections") {
		t.Errorf("second run:\n%s", out)
	}
	if out := runOK(t, append([]string{"retention", "runs"}, ds...)...); strings.Count(out, " done ") != 2 {
		t.Errorf("runs:\n%s", out)
	}
	var runs []struct {
		State  string
		Report struct{ Results []struct{ Rows int64 } }
	}
	if err := json.Unmarshal([]byte(runOK(t, append([]string{"retention", "runs", "--json"}, ds...)...)), &runs); err != nil || len(runs) != 2 || len(runs[1].Report.Results) != 14 {
		t.Errorf("runs --json = %+v, %v", runs, err)
	}
	if _, errOut, code := run(t, "retention", "plan"); code == 0 || !strings.Contains(errOut, "no dataset annotation") {
		t.Errorf("plan without a dataset = %d: %s", code, errOut)
	}

	// Ending the location-tags service: the plan, alice asks, alice cannot
	// approve her own request, bob approves, alice runs it.
	t.Setenv("CUSTOS_OPERATOR_PASSWORD", "")
	for _, name := range []string{"alice", "bob"} {
		pw := name + "-password-123"
		if out, errOut, code := runIn(t, pw+"\n", "operators", "create", name, "--role", "operator"); code != 0 {
			t.Fatalf("create %s: %s%s", name, out, errOut)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".pw"), []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	as := func(name string) []string {
		return []string{"--as", name, "--password-file", filepath.Join(dir, name+".pw")}
	}
	disc := append([]string{"retention", "discontinue", "--service", "location-tags"}, ds...)
	out = runOK(t, disc...)
	if !strings.Contains(out, "categories collected by no other service: location.precise") ||
		!regexpMatch(`shop\s+note_locations\s+erase\s+latitude,longitude\s+1\s+0`, out) || !strings.Contains(out, "nothing changed") {
		t.Errorf("discontinuation plan:\n%s", out)
	}
	out = runOK(t, append(append(disc, "--reason", "the feature is retired"), as("alice")...)...)
	id := regexp.MustCompile(`approval (ap_[0-9a-z]+)`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no approval asked for:\n%s", out)
	}
	if _, errOut, code := run(t, append(append(disc, "--approval", id[1]), as("alice")...)...); code == 0 || !strings.Contains(errOut, "approval_state") {
		t.Errorf("run before approval = %d: %s", code, errOut)
	}
	if _, errOut, code := run(t, append([]string{"approvals", "approve", id[1]}, as("alice")...)...); code == 0 || !strings.Contains(errOut, "self_approval") {
		t.Errorf("self-approval = %d: %s", code, errOut)
	}
	runOK(t, append([]string{"approvals", "approve", id[1]}, as("bob")...)...)
	out = runOK(t, append(append(disc, "--approval", id[1]), as("alice")...)...)
	if !strings.Contains(out, ": 1 rows in 1 collections") {
		t.Errorf("discontinuation run:\n%s", out)
	}
	var lat sql.NullFloat64
	var owner string
	if err := shop.QueryRow("SELECT latitude, user_id FROM note_locations WHERE note_id = 1").Scan(&lat, &owner); err != nil || lat.Valid || owner != "u-1" {
		t.Errorf("note location 1 = %v %q, %v; want the coordinates erased and the row kept", lat, owner, err)
	}
	if _, errOut, code := run(t, append(append(disc, "--approval", id[1]), as("alice")...)...); code == 0 || !strings.Contains(errOut, "approval_state") {
		t.Errorf("second run of the approval = %d: %s", code, errOut)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// runOK runs a command that must succeed and returns its output.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("custos %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// sampleShop makes the starter's sample database at path and points
// SHOP_DSN, which the starter's annotation names, at it.
func sampleShop(t *testing.T, path string) *sql.DB {
	t.Helper()
	t.Setenv("SHOP_DSN", "file:"+path)
	schema, err := os.ReadFile("../../examples/starter/shop.sql")
	if err != nil {
		t.Fatal(err)
	}
	shop, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shop.Close() })
	if _, err := shop.Exec(string(schema)); err != nil {
		t.Fatalf("load shop.sql: %v", err)
	}
	return shop
}
