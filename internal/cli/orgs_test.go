package cli

import (
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/receipt"
)

// TestOrgs drives the registry from the command line: create, the errors a
// person can make, list, disable and enable, and the trail they leave.
func TestOrgs(t *testing.T) {
	db := filepath.Join(t.TempDir(), "custos.db")
	mustRun(t, "", "migrate", "--db", db)
	stamp := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	var transcript strings.Builder
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"orgs", "create", "wuhan-deepin", "--name", "武汉深之度科技有限公司"}, 0},
		{[]string{"orgs", "create", "acme", "--name", "Acme Ltd", "--host", "privacy.acme.example,Consent.Acme.example"}, 0},
		{[]string{"orgs", "create", "beta", "--name", "Beta", "--host", "privacy.acme.example"}, 2},
		{[]string{"orgs", "create", "beta", "--name", "Beta", "--host", "https://beta.example"}, 2},
		{[]string{"orgs", "hosts", "wuhan-deepin", "privacy.deepin.example"}, 0},
		{[]string{"orgs", "create", "acme", "--name", "Acme again"}, 2},
		{[]string{"orgs", "create", "Acme_2", "--name", "Acme"}, 2},
		{[]string{"orgs", "create", "default", "--name", "Us"}, 2},
		{[]string{"orgs", "create", "beta"}, 2},
		{[]string{"orgs", "disable", "acme"}, 0},
		{[]string{"orgs", "disable", "acme"}, 0},
		{[]string{"orgs", "disable", "default"}, 2},
		{[]string{"orgs", "disable", "nobody"}, 2},
		{[]string{"orgs", "list"}, 0},
		{[]string{"orgs", "enable", "acme"}, 0},
		{[]string{"orgs", "group", "wuhan-deepin", "deepin"}, 0},
		{[]string{"orgs", "group", "default", "deepin"}, 0},
		{[]string{"orgs", "group", "acme", "Deepin Group"}, 2},
		{[]string{"orgs", "group", "nobody", "deepin"}, 2},
		{[]string{"orgs", "entrust", "--controller", "acme", "--processor", "default", "--categories", "basic.name,basic.email", "--purposes", "hr-management",
			"--instructions", "Run the HR app as the administrator configures it", "--starts", "2026-01-01"}, 0},
		{[]string{"orgs", "entrust", "--controller", "acme", "--processor", "acme", "--categories", "basic.name", "--purposes", "hr"}, 2},
		{[]string{"orgs", "entrust", "--controller", "nobody", "--processor", "default", "--categories", "basic.name", "--purposes", "hr"}, 2},
		{[]string{"orgs", "entrust", "--controller", "acme", "--processor", "default", "--categories", "basic.name", "--purposes", "hr", "--assist", "soon"}, 2},
		{[]string{"orgs", "entrust", "--controller", "acme", "--processor", "default", "--purposes", "hr"}, 2},
		{[]string{"orgs", "entrust", "--controller", "acme", "--processor", "default", "--categories", "basic.name", "--purposes", "hr", "--starts", "2026-02-01", "--ends", "2026-01-01"}, 2},
		{[]string{"orgs", "entrustments", "acme"}, 0},
		{[]string{"orgs", "end-entrustment", "en_nope", "--action", "delete"}, 2},
		{[]string{"orgs", "end-entrustment", "en_nope", "--action", "burn"}, 2},
		{[]string{"orgs", "lst"}, 2},
	} {
		args := tt.args
		if args[1] != "lst" { // an unknown subcommand takes no flags
			args = append(args, "--db", db)
		}
		out, errOut, code := run(t, args...)
		if code != tt.code {
			t.Errorf("custos %s: exit %d, want %d\n%s%s", strings.Join(tt.args, " "), code, tt.code, out, errOut)
		}
		transcript.WriteString("$ custos " + strings.Join(tt.args, " ") + "\n" + out)
		if errOut != "" {
			transcript.WriteString("stderr: " + lastLine(errOut) + "\n")
		}
	}
	// An entrustment ends once, with the controller's instruction.
	entrustment := regexp.MustCompile(`en_[0-9a-v]{26}`)
	id := entrustment.FindString(transcript.String())
	for _, want := range []struct {
		code int
		out  string
	}{
		// Without the processor's secrets the end is recorded and the
		// records are left, which the command says and its status shows.
		{2, "ended: default to delete the data"},
		{2, "the processor's records were not touched"},
	} {
		out, errOut, code := run(t, "orgs", "end-entrustment", id, "--action", "delete", "--db", db)
		if code != want.code || !strings.Contains(out+errOut, want.out) {
			t.Errorf("end-entrustment: %d %s%s, want %d %q", code, out, errOut, want.code, want.out)
		}
	}
	golden(t, "orgs.txt", entrustment.ReplaceAllString(stamp.ReplaceAllString(transcript.String(), "TIME"), "en_ID"))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestOrgScopedCommands: with --org, commands act for that organisation,
// with its own secrets, and see nothing of the others'.
func TestOrgScopedCommands(t *testing.T) {
	dir := t.TempDir()
	db, keys := filepath.Join(dir, "custos.db"), filepath.Join(dir, "secrets")
	mustRun(t, "", "secrets", "init", keys)
	mustRun(t, "", "migrate", "--db", db)
	with := func(args ...string) []string { return append(args, "--db", db, "--secrets-dir", keys) }
	out, errOut, code := run(t, with("orgs", "create", "acme", "--name", "Acme Ltd")...)
	if code != 0 || !strings.Contains(errOut, filepath.Join(keys, "orgs", "acme")) {
		t.Fatalf("orgs create: %d\n%s%s", code, out, errOut)
	}
	for _, f := range []string{"identity.key", "data.keyset.json", "receipt.pem"} {
		if _, err := os.Stat(filepath.Join(keys, "orgs", "acme", f)); err != nil {
			t.Errorf("acme's %s: %v", f, err)
		}
	}
	if _, errOut, code := run(t, with("orgs", "create", "acme", "--name", "Again")...); code == 0 || !strings.Contains(errOut, "has secrets already") {
		t.Errorf("a second acme: %d %s", code, errOut)
	}
	mustRun(t, "", with("keys", "create", "--role", "admin", "--name", "acme-admin", "--org", "acme")...)
	mustRun(t, "", with("keys", "create", "--role", "auditor", "--name", "our-auditor")...)
	acme, _, _ := run(t, with("keys", "list", "--org", "acme")...)
	ours, _, _ := run(t, with("keys", "list")...)
	if !strings.Contains(acme, "acme-admin") || strings.Contains(acme, "our-auditor") {
		t.Errorf("acme's keys:\n%s", acme)
	}
	if strings.Contains(ours, "acme-admin") || !strings.Contains(ours, "our-auditor") {
		t.Errorf("the default organisation's keys:\n%s", ours)
	}
	mustRun(t, "", with("policy", "publish", "../../examples/starter/custos.yaml", "--org", "acme")...)
	if out, _, _ := run(t, with("audit", "verify", "--org", "acme")...); !strings.Contains(out, "audit chain intact: 2 entries") {
		t.Errorf("acme's trail:\n%s", out)
	}
	// An organisation's checkpoints go beside the deployment's, signed with
	// its own receipt key, and its trail is checked against them.
	cps := filepath.Join(dir, "checkpoints.jsonl")
	mustRun(t, "", with("audit", "checkpoint", "--org", "acme", "--checkpoints", cps)...)
	if _, err := os.Stat(filepath.Join(dir, "checkpoints.acme.jsonl")); err != nil {
		t.Errorf("acme's checkpoints: %v", err)
	}
	if _, err := os.Stat(cps); err == nil {
		t.Error("acme's checkpoint went into the deployment's file")
	}
	if out, errOut, _ := run(t, with("audit", "verify", "--org", "acme", "--checkpoints", cps)...); !strings.Contains(out, "checkpoints verified: 2 heads checked") {
		t.Errorf("acme's trail against its checkpoints:\n%s%s", out, errOut)
	}
	// acme keeps its request records and its trail longer than the
	// deployment: a command run for acme deletes by acme's periods, as a
	// server serving it does, whatever the deployment's settings.
	if out, errOut, code := run(t, with("orgs", "retention", "acme", "--requests", "5 years", "--audit", "forever", "--messages", "72h")...); code != 0 || !strings.Contains(out,
		"organisation acme keeps request records 5 years, its audit trail forever and settled messages 72h") {
		t.Fatalf("orgs retention: %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := run(t, with("requests", "expire", "--org", "acme", "--request-retention", "3 years")...); code != 0 || !strings.Contains(out, "kept 5 years since closing") {
		t.Errorf("acme's requests expire: %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := run(t, with("audit", "cut", "--org", "acme", "--audit-retention", "3 years", "--checkpoints", cps)...); code != 0 || !strings.Contains(out, "the audit retention is forever: nothing is cut") {
		t.Errorf("acme's audit cut: %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := run(t, with("outbox", "purge", "--org", "acme", "--outbox-retention", "168h")...); code != 0 || !strings.Contains(out, "0 messages purged (settled longer ago than 72h)") {
		t.Errorf("acme's outbox purge: %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := run(t, with("outbox", "purge", "--outbox-retention", "168h")...); code != 0 || !strings.Contains(out, "0 messages purged (settled longer ago than 168h)") {
		t.Errorf("the deployment's outbox purge: %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := run(t, with("requests", "expire", "--request-retention", "4 years")...); code != 0 || !strings.Contains(out, "kept 4 years since closing") {
		t.Errorf("the deployment's requests expire: %d\n%s%s", code, out, errOut)
	}

	// acme's databases are described in its own directory, never by the
	// deployment's --dataset.
	starterDataset := "../../examples/starter/dataset.yaml"
	if _, errOut, code := run(t, with("retention", "plan", "--org", "acme", "--dataset", starterDataset)...); code == 0 ||
		!strings.Contains(errOut, "organisation acme has no dataset annotation: put it at orgs/acme/dataset.yaml under --secrets-dir") {
		t.Errorf("acme's retention plan without its annotation: %d %s", code, errOut)
	}
	sampleShop(t, filepath.Join(dir, "acme-shop.db"))
	annotation, err := os.ReadFile(starterDataset)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(keys, "orgs", "acme", "dataset.yaml"), annotation, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := run(t, with("retention", "plan", "--org", "acme")...); code != 0 || !strings.Contains(out, "orders") {
		t.Errorf("acme's retention plan with its annotation: %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := run(t, with("retention", "plan")...); code == 0 || !strings.Contains(errOut, "no dataset annotation: give --dataset PATH") {
		t.Errorf("the deployment's retention plan, which has none: %d %s", code, errOut)
	}

	if _, errOut, code := run(t, with("keys", "list", "--org", "nobody")...); code == 0 || !strings.Contains(errOut, "nobody") {
		t.Errorf("an unknown organisation: %d %s", code, errOut)
	}

	// A controller entrusts only what its policy says it processes.
	if _, errOut, code := run(t, with("orgs", "entrust", "--controller", "acme", "--processor", "default", "--categories", "contact.email",
		"--purposes", "marketing", "--starts", "2026-01-01")...); code == 0 || !strings.Contains(errOut, "invalid_entrustment") {
		t.Errorf("an entrustment outside acme's policy: %d %s", code, errOut)
	}
	// The processor's record names the controller as its manifest does.
	mustRun(t, "", with("orgs", "entrust", "--controller", "acme", "--processor", "default", "--categories", "basic.email",
		"--purposes", "account_registration", "--starts", "2026-01-01")...)
	if _, errOut, code := run(t, with("orgs", "record")...); code == 0 || !strings.Contains(errOut, "no policy is published") {
		t.Errorf("a record without the processor's policy: %d %s", code, errOut)
	}
	mustRun(t, "", with("policy", "publish", "../../examples/smart-device-app/custos.yaml")...)
	out, errOut, code = run(t, with("orgs", "record", "default")...)
	if code != 0 || !strings.Contains(out, "# Record of processing carried out on behalf of controllers") || !strings.Contains(out, "| Controller | Hangzhou Qingyun Technology Co., Ltd.") {
		t.Errorf("orgs record: %d\n%s%s", code, out, errOut)
	}
	if out, _, _ := run(t, with("orgs", "record", "acme")...); !strings.Contains(out, "No processing on behalf of controllers is recorded.") {
		t.Errorf("acme's record:\n%s", out)
	}

	// Ending it carries the instruction out on the processor's records
	// and certifies it, signed with the processor's receipt key.
	listed, _, _ := run(t, with("orgs", "entrustments", "default")...)
	id := regexp.MustCompile(`en_[0-9a-v]{26}`).FindString(listed)
	cert := filepath.Join(dir, "certificate.jws")
	out, errOut, code = run(t, with("orgs", "end-entrustment", id, "--action", "return", "--certificate", cert)...)
	if code != 0 || !strings.Contains(out, "ended: default to return the data") || !strings.Contains(errOut, "0 assistance tasks closed, 0 requests' particulars erased") {
		t.Fatalf("end-entrustment: %d\n%s%s", code, out, errOut)
	}
	jws, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := os.ReadFile(filepath.Join(keys, "receipt.pem"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := receipt.NewSigner(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(strings.TrimSpace(string(jws)), ".")
	if len(parts) != 3 {
		t.Fatalf("certificate %q", jws)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if !ed25519.Verify(signer.PublicKey(), []byte(parts[0]+"."+parts[1]), sig) {
		t.Error("the certificate does not verify with the processor's receipt key")
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var got dsr.Ended
	if err := json.Unmarshal(payload, &got); err != nil || got.Entrustment != id || got.Controller != "acme" || got.Processor != "default" || got.Action != "return" || got.Scope != dsr.EndScope {
		t.Errorf("certificate = %+v, %v", got, err)
	}
	if out, _, _ := run(t, with("audit", "verify")...); !strings.Contains(out, "audit chain intact") {
		t.Errorf("the deployment's trail after the end:\n%s", out)
	}

	// Where the processor keeps the controller's data in its own
	// databases, the end deletes (or returns, then deletes) exactly the
	// rows held for that customer.
	hr := filepath.Join(dir, "hr.db")
	hrdb, err := sql.Open("sqlite", hr)
	if err != nil {
		t.Fatal(err)
	}
	defer hrdb.Close()
	for _, stmt := range []string{
		"CREATE TABLE staff (id INTEGER PRIMARY KEY, tenant TEXT, email TEXT)",
		"INSERT INTO staff VALUES (1, 'acme-co', 'a1@example.com'), (2, 'other-co', 'o1@example.com'), (3, 'acme-co', 'a2@example.com')",
	} {
		if _, err := hrdb.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	ds := filepath.Join(dir, "hr.yaml")
	os.WriteFile(ds, []byte("custos_dataset: 1\ndatastores:\n  - id: hr\n    kind: sqlite\n    dsn: file:"+hr+"\n    collections:\n"+
		"      - name: staff\n        held_for: tenant\n        fields:\n          - {name: id, primary_key: true}\n          - {name: tenant}\n"+
		"          - {name: email, identity: email, categories: [basic.email]}\n"), 0o600)
	out, errOut, code = run(t, with("orgs", "entrust", "--controller", "acme", "--processor", "default", "--categories", "basic.email",
		"--purposes", "account_registration", "--starts", "2026-01-01", "--customer-key", "acme-co")...)
	if code != 0 {
		t.Fatalf("entrust with a customer key: %d %s%s", code, out, errOut)
	}
	id = regexp.MustCompile(`en_[0-9a-v]{26}`).FindString(out)
	if _, errOut, code := run(t, with("orgs", "end-entrustment", id, "--action", "return")...); code == 0 || !strings.Contains(errOut, "give the processor's dataset (--dataset)") {
		t.Errorf("an end without the dataset: %d %s", code, errOut)
	}
	if _, errOut, code := run(t, with("orgs", "end-entrustment", id, "--action", "return", "--dataset", ds)...); code == 0 || !strings.Contains(errOut, "--return-dir") {
		t.Errorf("a return without --return-dir: %d %s", code, errOut)
	}
	back := filepath.Join(dir, "returned")
	out, errOut, code = run(t, with("orgs", "end-entrustment", id, "--action", "return", "--dataset", ds, "--return-dir", back, "--certificate", cert)...)
	if code != 0 || !strings.Contains(errOut, "entrustment:"+id) {
		t.Fatalf("end-entrustment with the dataset: %d\n%s%s", code, out, errOut)
	}
	returned, err := os.ReadFile(filepath.Join(back, "hr.staff.jsonl"))
	if err != nil || strings.Count(string(returned), "\n") != 2 || !strings.Contains(string(returned), "a2@example.com") || strings.Contains(string(returned), "other-co") {
		t.Errorf("returned rows: %q, %v", returned, err)
	}
	var left []string
	rows, err := hrdb.Query("SELECT tenant FROM staff ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tenant string
		rows.Scan(&tenant)
		left = append(left, tenant)
	}
	rows.Close()
	if !slices.Equal(left, []string{"other-co"}) {
		t.Errorf("rows left: %v, want only the other customer's", left)
	}
	jws, _ = os.ReadFile(cert)
	payload, _ = base64.RawURLEncoding.DecodeString(strings.Split(strings.TrimSpace(string(jws)), ".")[1])
	got = dsr.Ended{}
	if err := json.Unmarshal(payload, &got); err != nil || len(got.Databases) != 1 ||
		got.Databases[0] != (dsr.EndedRows{Datastore: "hr", Collection: "staff", Returned: true, Deleted: 2}) {
		t.Errorf("certificate's databases = %+v, %v", got.Databases, err)
	}
}
