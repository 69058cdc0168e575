package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/transfer"
)

// TestTransfers: the register from a manifest file and from the policy
// published; reports counted once a person; a manifest whose exemption
// the people counted outgrow is reported at its line by check (exit 1),
// and not by validate; another organisation counts nobody; the packet
// carries the counts; no output names a subject.
func TestTransfers(t *testing.T) {
	starter := "../../examples/starter/custos.yaml"
	db, _, with := install(t, starter)
	src, err := os.ReadFile(starter)
	if err != nil {
		t.Fatal(err)
	}
	// The same transfers on the exemption, with a threshold of two people.
	small := filepath.Join(filepath.Dir(db), "custos.yaml")
	edited := strings.Replace(string(src), "mechanism: standard_contract", "mechanism: exemption", 1)
	edited = strings.Replace(edited, "  cross_border:\n", "  transfer_thresholds: {contract_from: 2}\n  cross_border:\n", 1)
	if err := os.WriteFile(small, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", with("orgs", "create", "acme", "--name", "Acme Ltd")...)
	mustRun(t, "", with("policy", "publish", starter, "--org", "acme")...)
	subjects := filepath.Join(filepath.Dir(db), "subjects.txt")
	if err := os.WriteFile(subjects, []byte("xfer-b\n\nxfer-c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var transcript strings.Builder
	for _, tt := range []struct {
		args []string
		code int
	}{
		{args: []string{"transfers", "register"}},
		{args: []string{"transfers", "report", "--flow", "sg-sync-relay", "xfer-a", "xfer-b"}},
		{args: []string{"transfers", "report", "--recipient", "sync-relay-sg", "--subjects-file", subjects}},
		{args: []string{"transfers", "report", "--flow", "moon", "xfer-a"}, code: 2},
		{args: []string{"transfers", "report", "--flow", "sg-sync-relay", "someone@example.com"}, code: 2},
		{args: []string{"transfers", "check"}},
		{args: []string{"transfers", "check", "--manifest", small}, code: 1},
		{args: []string{"transfers", "counts", "--year", "2020"}},
		{args: []string{"transfers", "counts", "--org", "acme"}},
	} {
		out, errOut, code := run(t, with(tt.args...)...)
		if code != tt.code {
			t.Errorf("custos %s: exit %d, want %d\n%s%s", strings.Join(tt.args, " "), code, tt.code, out, errOut)
		}
		transcript.WriteString("$ custos " + strings.Join(tt.args, " ") + "\n" + out)
		if errOut != "" {
			transcript.WriteString("stderr: " + lastLine(errOut) + "\n")
		}
	}
	got := strings.NewReplacer(small, "custos.yaml", subjects, "subjects.txt", strconv.Itoa(time.Now().In(transfer.China).Year()), "YEAR").Replace(transcript.String())
	for _, pi := range []string{"xfer-a\n", "xfer-b", "someone@example.com\n"} {
		if strings.Contains(strings.SplitN(got, "$ custos transfers check", 2)[1], pi) {
			t.Errorf("the output names %q", pi)
		}
	}
	golden(t, "transfers.txt", got)
	if _, _, code := run(t, "validate", small); code != 0 {
		t.Errorf("validate reads the counts: exit %d", code)
	}
	out, _, code := run(t, with("transfers", "counts", "--json")...)
	if code != 0 || !strings.Contains(out, `"people": 3`) {
		t.Errorf("counts: exit %d\n%s", code, out)
	}
	out, _, code = run(t, with("transfers", "packet", "--manifest", small)...)
	if code != 0 || !strings.Contains(out, "| 出境个人信息涉及人数（") || !strings.Contains(out, "| 3 |") {
		t.Errorf("packet: exit %d\n%s", code, out)
	}
	out, _, code = run(t, "transfers", "register", "--manifest", starter, "--json")
	if code != 0 || !strings.Contains(out, `"id": "sg-sync-relay"`) {
		t.Errorf("register from a file: exit %d\n%s", code, out)
	}
}
