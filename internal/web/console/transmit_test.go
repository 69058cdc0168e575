package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/web/webtest"
)

// TestTransmissionShown: the request page shows operators a portability
// export's transmission to a third party: its name, host, state,
// attempts and why it failed, never the endpoint's path or query.
func TestTransmissionShown(t *testing.T) {
	d := webtest.Demo(t)
	ctx := context.Background()
	var acc struct {
		ID          string `json:"id"`
		AccessToken string `json:"access_token"`
	}
	in := map[string]any{"type": "portability", "language": "en", "identity": map[string]string{"kind": "email", "value": "lin.wei@example.com"},
		"details": map[string]any{"transmit_to": map[string]string{"name": "Acme Cloud", "endpoint": "https://10.0.0.7/import?token=s3cr3t"}}}
	if st := api(t, d, "POST", "/v1/public/requests", nil, in, &acc); st != http.StatusAccepted || acc.ID == "" {
		t.Fatalf("public request: status %d, %+v", st, acc)
	}
	if st := api(t, d, "POST", "/v1/public/requests/"+acc.ID+"/verify", map[string]string{"X-Request-Token": acc.AccessToken},
		map[string]string{"code": d.Code(t, "lin.wei@example.com")}, nil); st != http.StatusOK {
		t.Fatalf("verify: status %d", st)
	}
	op := consent.Actor{ID: "operator-test", Role: "operator", Place: "test"}
	svc := d.Server.Requests()
	if _, err := svc.Approve(ctx, op, acc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Complete(ctx, op, acc.ID, dsr.CompleteInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transmit(ctx); err != nil {
		t.Fatal(err)
	}
	c := signedIn(t, d, operatorUser, operatorPW)
	r := c.get("/console/requests/" + acc.ID)
	for _, want := range []string{"Sent to third parties", "Acme Cloud", "10.0.0.7", `data-transmission="failed"`, "address refused"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the request page lacks %q", want)
		}
	}
	for _, not := range []string{"s3cr3t", "/import", "lin.wei@example.com"} {
		if strings.Contains(r.body, not) {
			t.Errorf("the request page shows %q", not)
		}
	}
}
