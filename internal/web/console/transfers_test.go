package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/transfer"
	"github.com/custos-privacy/custos/internal/web/webtest"
)

// TestTransfersPage: the console shows the register, this year's people
// per transfer and the mechanism they call for, and never a subject.
func TestTransfersPage(t *testing.T) {
	d := webtest.Demo(t)
	ts := d.Server.Transfers()
	if ts == nil {
		t.Fatal("the demo counts no transfers")
	}
	by := transfer.Actor{ID: "key_test", Role: "service", Place: "test"}
	if _, err := ts.Report(t.Context(), by, transfer.ReportInput{Flow: "sg-sync-relay", Subjects: []string{"demo-1001", "demo-1002", "demo-1001"}}); err != nil {
		t.Fatal(err)
	}
	op := signedIn(t, d, operatorUser, operatorPW)
	page := op.get("/console/transfers")
	if page.status != http.StatusOK {
		t.Fatalf("transfers page: %d", page.status)
	}
	for _, want := range []string{`data-flow="sg-sync-relay"`, "<td data-label=\"People\">2</td>", "standard_contract", "SG", `href="/console/transfers"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("transfers page lacks %q", want)
		}
	}
	if strings.Contains(page.body, "demo-1001") {
		t.Error("the transfers page names a subject")
	}
}
