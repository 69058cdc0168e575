package center_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
)

// TestPortabilityToAnotherService: the portability form asks where the
// export is to be sent; the request's page shows the transmission's
// state, and a failure in the person's language, never the operators'
// reason nor the endpoint beyond its host.
func TestPortabilityToAnotherService(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	b := h.browser(t)
	form := b.get("/privacy/requests/new?type=portability&lang=en")
	if !strings.Contains(form.body, `name="transmit_endpoint"`) || !strings.Contains(form.body, "Send it to another service") {
		t.Fatalf("the portability form does not ask where to send the export:\n%s", excerpt(form.body))
	}
	if r := b.get("/privacy/requests/new?type=access&lang=en"); strings.Contains(r.body, `name="transmit_endpoint"`) {
		t.Error("the access form asks where to send the export")
	}
	bad := b.post("/privacy/requests?lang=en", url.Values{"type": {"portability"}, "jurisdiction": {"CN"}, "kind": {"email"}, "identity": {"lin.wei@example.com"},
		"transmit_name": {"Acme Cloud"}, "transmit_endpoint": {"http://acme.example/in"}})
	if bad.status != 422 || !strings.Contains(bad.body, "must be an https URL") || strings.Contains(bad.body, "acme.example/in") {
		t.Errorf("an http endpoint: status %d\n%s", bad.status, excerpt(bad.body))
	}

	r := b.post("/privacy/requests?lang=en", url.Values{"type": {"portability"}, "jurisdiction": {"CN"}, "kind": {"email"}, "identity": {"lin.wei@example.com"},
		"transmit_name": {"Acme Cloud"}, "transmit_endpoint": {"https://10.0.0.7/import?token=s3cr3t"}})
	if r.status != 303 {
		t.Fatalf("submit: status %d\n%s", r.status, excerpt(r.body))
	}
	id := strings.Split(r.location(), "/")[3]
	b.follow(b.post("/privacy/requests/"+id+"/verify?lang=en", url.Values{"code": {h.code(t, "lin.wei@example.com")}}))
	op := consent.Actor{ID: "operator-test", Role: "operator", Place: "test"}
	svc := h.d.Server.Requests()
	if _, err := svc.Approve(ctx, op, id); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Complete(ctx, op, id, dsr.CompleteInput{}); err != nil {
		t.Fatal(err)
	}
	page := b.get("/privacy/requests/" + id + "?lang=en")
	for _, want := range []string{"Sent to another service", "Acme Cloud", "(10.0.0.7)", `data-transmission="pending"`, "Being sent"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the page of a completed transmission lacks %q:\n%s", want, excerpt(page.body))
		}
	}
	// The server never posts into a private network: the transmission fails.
	if n, err := svc.Transmit(ctx); err != nil || n != (dsr.TransmitCounts{Failed: 1}) {
		t.Fatalf("Transmit = %+v, %v", n, err)
	}
	for lang, want := range map[string][]string{
		"en":    {`data-transmission="failed"`, "Not delivered", "export not delivered to the service you named", "we have written to you why"},
		"zh-CN": {`data-transmission="failed"`, "未能送达", "导出文件未能送达您指定的接收方", "原因已另行通知您"},
	} {
		page := b.get("/privacy/requests/" + id + "?lang=" + lang)
		checkPage(t, page, lang)
		for _, w := range want {
			if !strings.Contains(page.body, w) {
				t.Errorf("%s page after the failure lacks %q:\n%s", lang, w, excerpt(page.body))
			}
		}
		for _, not := range []string{"s3cr3t", "/import", "address refused", dsr.NoteTransmissionFailed} {
			if strings.Contains(page.body, not) {
				t.Errorf("%s page shows %q", lang, not)
			}
		}
	}
	assertLogsClean(t, h)
}
