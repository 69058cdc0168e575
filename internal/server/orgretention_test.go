package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOrgRetentionWhileServing: an organisation's own retention periods,
// set through the deployment's API while the server runs, are refused
// below the legal minimum and for the deployment's own organisation, and
// once set the organisation is served anew with them, answering as before.
func TestOrgRetentionWhileServing(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			d := startDeployment(t, backend)
			d.serve(t)
			ours, acme := d.tenants[0], d.tenants[1]
			before := d.srv.Org("acme")
			if got := before.Config().RequestRetention; got != "3 years" {
				t.Fatalf("acme's request retention before = %q", got)
			}

			for _, tc := range []struct {
				path, body, code string
			}{
				{"/v1/orgs/acme/retention", `{"requests": "2 years"}`, "invalid_retention"},
				{"/v1/orgs/acme/retention", `{"audit": "1 year"}`, "invalid_retention"},
				{"/v1/orgs/acme/retention", `{"messages": "3 days"}`, "invalid_retention"},
				{"/v1/orgs/default/retention", `{"requests": "5 years"}`, "org_default_retention"},
			} {
				if code, body := d.call(ours, ours.host, "PUT", tc.path, tc.body); code != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"`+tc.code+`"`) {
					t.Errorf("PUT %s %s: %d %s, want 422 %s", tc.path, tc.body, code, body, tc.code)
				}
			}
			if code, _ := d.call(acme, acme.host, "PUT", "/v1/orgs/acme/retention", `{"requests": "5 years"}`); code != http.StatusNotFound {
				t.Errorf("acme's own admin setting its retention: %d, want 404 (the registry is the deployment's)", code)
			}

			b := d.must(t, ours, "PUT", "/v1/orgs/acme/retention", `{"requests": "5 years", "audit": "3 years", "messages": "72h"}`, http.StatusOK)
			if !strings.Contains(string(b), `"retention":{"requests":"5 years","audit":"3 years","messages":"72h"}`) {
				t.Errorf("the organisation after: %s", b)
			}
			eventually(t, "acme is served with its own retention", func() bool {
				o := d.srv.Org("acme")
				return o != nil && o != before && o.Config().RequestRetention == "5 years" && o.Config().AuditRetention == "3 years" &&
					o.Config().OutboxRetention == 72*time.Hour
			})
			if got := d.srv.Config(); got.RequestRetention != "3 years" || got.OutboxRetention != 168*time.Hour {
				t.Errorf("the deployment's own retention became requests %q, messages %v", got.RequestRetention, got.OutboxRetention)
			}
			d.must(t, acme, "GET", "/v1/requests", "", http.StatusOK)
			if c, err := d.srv.Org("acme").CutTrail(t.Context()); err != nil {
				t.Errorf("acme's trail cut: %+v, %v", c, err)
			}

			// Back to the deployment's.
			d.must(t, ours, "PUT", "/v1/orgs/acme/retention", `{}`, http.StatusOK)
			eventually(t, "acme is served with the deployment's retention", func() bool {
				o := d.srv.Org("acme")
				return o != nil && o.Config().RequestRetention == "3 years" && o.Config().AuditRetention == "forever" && o.Config().OutboxRetention == 168*time.Hour
			})
		})
	}
}
