package console_test

import (
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/web/webtest"
)

// TestTransmissionShown: the request page shows operators a portability
// export's transmission to a third party: its name, host, state,
// attempts and why it failed, never the endpoint's path or query.
func TestTransmissionShown(t *testing.T) {
	d := webtest.Demo(t)
	id := failedTransmission(t, d, "lin.wei@example.com")
	c := signedIn(t, d, operatorUser, operatorPW)
	r := c.get("/console/requests/" + id)
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
