package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/evidence"
	"github.com/custos-privacy/custos/internal/receipt"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/store"
)

// TestPIACommands: validate warns of each activity without an assessment
// and fails on them only when asked; triggers and draft describe them.
func TestPIACommands(t *testing.T) {
	deepin := "../../examples/deepin/custos.yaml"
	t.Setenv("CUSTOS_MANIFEST", deepin)
	tmp := t.TempDir()
	for _, tt := range []struct {
		name     string
		args     []string
		code     int
		contains []string
		errHas   []string
	}{
		{"validate warns", []string{"validate", deepin}, 0, []string{
			deepin + ":439:9: warning: activity content-compliance needs a personal-information protection impact assessment and none covers it: art. 55(1) processes sensitive personal information (communication.messages)"}, nil},
		{"validate requires", []string{"validate", "--require-assessments", deepin}, 1, []string{
			deepin + ":439:9: activity content-compliance needs"}, nil},
		{"starter assessments cover their activities", []string{"validate", "../../examples/starter/custos.yaml"}, 0, nil, nil},
		{"triggers", []string{"pia", "triggers", deepin}, 0, []string{
			"content-compliance: art. 55(1) processes sensitive personal information (communication.messages)",
			"public_disclosure: art. 55(3) discloses personal information publicly"}, nil},
		{"triggers json", []string{"pia", "triggers", "--json", deepin}, 0, []string{`"reason": "sensitive"`}, nil},
		{"draft", []string{"pia", "draft", deepin, "--activity", "content-compliance", "--lang", "en"}, 0, []string{
			"# Personal-information protection impact assessment (draft)", "`communication.messages`", "activities: [content-compliance]", "digest: sha256:"}, nil},
		{"draft zh", []string{"pia", "draft", deepin}, 0, []string{"## 3. 评估触发情形", "`public_disclosure`"}, nil},
		{"draft unknown activity", []string{"pia", "draft", deepin, "--activity", "nope"}, 2, nil, []string{`activity "nope" is neither a purpose`}},
		{"draft unknown language", []string{"pia", "draft", deepin, "--lang", "fr"}, 2, nil, []string{`unsupported language "fr"`}},
		{"draft to file", []string{"pia", "draft", deepin, "-o", filepath.Join(tmp, "pia.md")}, 0, nil, nil},
		{"draft of the configured manifest", []string{"pia", "draft", "--activity", "content-compliance"}, 0, []string{"`communication.messages`"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.errHas {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
			if tt.name == "starter assessments cover their activities" {
				for _, id := range []string{"real_name_verification", "location_tagging", "sync_acceleration", "advertising"} {
					if strings.Contains(out, "activity "+id+" ") {
						t.Errorf("assessed activity %s reported:\n%s", id, out)
					}
				}
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(tmp, "pia.md")); err != nil || !strings.Contains(string(b), "个人信息保护影响评估报告") {
		t.Errorf("draft file: %v", err)
	}
}

// TestEvidenceCommand: an archive made from a deployment's database
// verifies offline, with the published key and with the key it carries;
// a changed byte fails; its making is audited.
func TestEvidenceCommand(t *testing.T) {
	db, keys, with := install(t, "../../examples/starter/custos.yaml")
	now := time.Now().In(calendar.China)
	mustRun(t, "", with("policy", "publish", "../../examples/starter/custos-v2.yaml", "--effective-at", now.AddDate(0, 0, 8).Format(time.RFC3339))...)
	dir := filepath.Dir(db)
	arch := filepath.Join(dir, "evidence.tar.gz")
	first, last := now.AddDate(0, 0, -30).Format(time.DateOnly), now.AddDate(0, 0, 30).Format(time.DateOnly)
	_, errOut, code := run(t, with("evidence", "--period", first+".."+last, "--out", arch)...)
	if code != 0 {
		t.Fatalf("evidence: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "wrote "+arch+": organisation default, "+first+" to "+last) {
		t.Errorf("evidence said %q", errOut)
	}

	pemKey, err := os.ReadFile(filepath.Join(keys, secrets.ReceiptKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := receipt.NewSigner(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := secrets.ParseReceiptKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	jwks := filepath.Join(dir, "receipts.json")
	if err := os.WriteFile(jwks, evidence.JWKS(priv.Public().(ed25519.PublicKey), signer.KeyID()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "evidence", "verify", arch, "--key", jwks)
	if code != 0 || !strings.Contains(out, "verified: organisation default, "+first+" to "+last) || strings.Contains(out, "carries") {
		t.Fatalf("verify with key: exit %d\n%s%s", code, out, errOut)
	}
	if out, _, code := run(t, "evidence", "verify", arch); code != 0 || !strings.Contains(out, "the key the archive carries") {
		t.Errorf("verify with the carried key: exit %d\n%s", code, out)
	}
	if out, _, code := run(t, "evidence", "verify", "--json", arch, "--key", jwks); code != 0 || !strings.Contains(out, `"verified": true`) {
		t.Errorf("verify json: exit %d\n%s", code, out)
	}
	data, err := os.ReadFile(arch)
	if err != nil {
		t.Fatal(err)
	}
	res, err := evidence.Verify(bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"policies/v3.0/custos.yaml", "policies/v3.1/custos.yaml", "policies/v3.1/diff.json", "inventory/inventory.en.md",
		"assessments/status.json", "requests/deadlines.json", "consents/series.json", "audit/verify.json", "transfers/register.json", "incidents/incidents.json"} {
		if _, ok := res.Files[p]; !ok {
			t.Errorf("archive lacks %s", p)
		}
	}
	if !strings.Contains(string(res.Files["audit/verify.json"]), `"ok": true`) {
		t.Errorf("audit verification: %s", res.Files["audit/verify.json"])
	}

	// With the server's checkpoint file, the archive's verification checks
	// the chains against the heads it records.
	cps := filepath.Join(dir, "checkpoints.jsonl")
	if _, errOut, code := run(t, with("audit", "checkpoint", "--checkpoints", cps)...); code != 0 {
		t.Fatalf("audit checkpoint: exit %d\n%s", code, errOut)
	}
	anchored := filepath.Join(dir, "anchored.tar.gz")
	if _, errOut, code := run(t, with("evidence", "--period", first+".."+last, "--out", anchored, "--checkpoints", cps)...); code != 0 {
		t.Fatalf("evidence --checkpoints: exit %d\n%s", code, errOut)
	}
	ares, err := evidence.Verify(bytes.NewReader(mustRead(t, anchored)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := string(ares.Files["audit/verify.json"]); !strings.Contains(v, `"ok": true`) || !strings.Contains(v, `"anchors": 2`) {
		t.Errorf("audit verification against the checkpoints: %s", v)
	}
	data[len(data)/2] ^= 0x20
	bad := filepath.Join(dir, "bad.tar.gz")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := run(t, "evidence", "verify", bad, "--key", jwks); code != 1 || !strings.Contains(errOut, "does NOT verify") {
		t.Errorf("tampered archive: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := run(t, "evidence", "verify", filepath.Join(dir, "none.tar.gz")); code != 2 {
		t.Errorf("missing archive: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := run(t, with("evidence", "--period", "2026-12-31..2026-01-01", "--out", arch)...); code != 2 || !strings.Contains(errOut, "comes before") {
		t.Errorf("reversed period: exit %d\n%s", code, errOut)
	}

	// Per organisation: its own policy, signed with its own key.
	mustRun(t, "", with("orgs", "create", "acme", "--name", "Acme Ltd")...)
	mustRun(t, "", with("policy", "publish", "--org", "acme", "../../examples/deepin/custos.yaml")...)
	acme := filepath.Join(dir, "acme.tar.gz")
	if _, errOut, code := run(t, with("evidence", "--org", "acme", "--period", first+".."+last, "--out", acme)...); code != 0 {
		t.Fatalf("evidence --org acme: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := run(t, "evidence", "verify", acme, "--key", jwks); code != 1 || !strings.Contains(errOut, "not known") {
		t.Errorf("acme's archive checked with the default organisation's key: exit %d\n%s", code, errOut)
	}
	out, errOut, code = run(t, "evidence", "verify", acme)
	if code != 0 || !strings.Contains(out, "organisation acme") {
		t.Fatalf("verify acme: exit %d\n%s%s", code, out, errOut)
	}
	res, err = evidence.Verify(bytes.NewReader(mustRead(t, acme)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Files["policies/v2022.03.17/custos.yaml"]; !ok || len(res.Files["policies/v3.0/custos.yaml"]) > 0 {
		t.Errorf("acme's archive holds the policies %v, want its own only", res.Manifest.Files)
	}

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, err := st.AuditEntries(context.Background(), store.AuditFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var es []string
	for _, e := range all {
		if e.Action == "evidence.create" {
			es = append(es, e.Detail)
		}
	}
	if len(es) != 2 || !strings.Contains(es[0], `"files":`) {
		t.Errorf("evidence.create entries %q, want one per archive (two) with the count of files", es)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
