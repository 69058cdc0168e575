package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/web/webtest"
)

// TestHoldsPage: an operator places a legal hold and asks to lift it on
// the console; the lift waits on the approvals page, where the operator
// cannot decide it and a second operator lifts the hold.
func TestHoldsPage(t *testing.T) {
	d := webtest.Demo(t)
	op := signedIn(t, d, operatorUser, operatorPW)
	approver := signedIn(t, d, approverUser, approverPW)
	r := op.post("/console/holds", url.Values{"subject_id": {"demo-1001"}, "category": {"basic"}, "basis": {"court_order"},
		"authority": {"(2026) Hu 0115 Min Chu 9"}, "reason": {"Wage dispute"}, "expires": {"2099-01-01"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/holds?done=placed" {
		t.Fatalf("place: %d %s", r.status, r.header.Get("Location"))
	}
	page := op.get("/console/holds?done=placed")
	id := regexp.MustCompile(`data-hold="(hl_[0-9a-v]+)"`).FindStringSubmatch(page.body)
	if page.status != http.StatusOK || id == nil {
		t.Fatalf("holds page: %d, no hold listed", page.status)
	}
	for _, want := range []string{"The legal hold was placed.", "demo-1001", "court_order", "(2026) Hu 0115 Min Chu 9", "subject&#43;category", "/console/holds/" + id[1] + "/lift"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("holds page lacks %q", want)
		}
	}
	if r := op.post("/console/holds/"+id[1]+"/lift", url.Values{"reason": {"settled"}}); r.status != http.StatusSeeOther {
		t.Fatalf("lift: %d %s", r.status, r.body)
	}
	list := op.get("/console/approvals")
	ap := regexp.MustCompile(`data-approval="(ap_[0-9a-v]+)"`).FindStringSubmatch(list.body)
	if ap == nil || !strings.Contains(list.body, "Lift a legal hold") || !strings.Contains(list.body, id[1]) {
		t.Fatalf("the lift is not on the approvals page:\n%s", list.body)
	}
	if r := op.post("/console/approvals/"+ap[1]+"/approve", nil); r.status != http.StatusForbidden {
		t.Errorf("the requester approves the lift: %d, want 403", r.status)
	}
	if r := approver.post("/console/approvals/"+ap[1]+"/approve", nil); r.status != http.StatusSeeOther {
		t.Fatalf("second operator approves: %d %s", r.status, r.body)
	}
	if page := op.get("/console/holds"); strings.Contains(page.body, id[1]) {
		t.Error("the lifted hold is still listed as active")
	}
	if page := op.get("/console/holds?all=1"); !strings.Contains(page.body, "lifted") {
		t.Error("the lifted hold is not shown as lifted")
	}
}
