package dsr

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/execute"
)

func TestErasureCertificate(t *testing.T) {
	at := time.Date(2026, 5, 4, 3, 0, 0, 0, time.UTC)
	plans := func(key string) []execute.Plan {
		return []execute.Plan{
			{Datastore: "shop", Applied: true, Changes: []execute.Change{
				{Collection: "customer", Key: map[string]any{"email": key}, Fields: []execute.FieldChange{{Field: "name", Strategy: "null"}, {Field: "phone", Strategy: "hash"}}},
				{Collection: "orders", Key: map[string]any{"id": 10}, Deleted: true},
				{Collection: "orders", Key: map[string]any{"id": 12}, Deleted: true},
				{Collection: "orders", Key: map[string]any{"id": 13}, Fields: []execute.FieldChange{{Field: "ship_to", Strategy: "null"}}},
			}},
			{Datastore: "crm", Applied: true, Changes: []execute.Change{
				{Collection: "contacts", Key: map[string]any{"id": key}, Fields: []execute.FieldChange{{Field: "email", Strategy: "null"}}},
			}},
			{Datastore: "empty", Applied: true},
		}
	}
	c, err := erasureCertificate("rq_1", plans("lin.wei@example.com"), at, at.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := []certificate.Target{
		{Datastore: "shop", Collection: "customer", Action: certificate.ActionErase, Fields: []string{"name", "phone"}, Rows: 1},
		{Datastore: "shop", Collection: "orders", Action: certificate.ActionDelete, Rows: 2},
		{Datastore: "shop", Collection: "orders", Action: certificate.ActionErase, Fields: []string{"ship_to"}, Rows: 1},
		{Datastore: "crm", Collection: "contacts", Action: certificate.ActionErase, Fields: []string{"email"}, Rows: 1},
	}
	if diff := cmp.Diff(want, c.Targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if c.Kind != certificate.KindRequest || c.Request != "rq_1" || !c.Started.Equal(at) {
		t.Errorf("certificate %+v", c)
	}
	// The keys stay out of the hash: another person's erasure of the same
	// shape hashes the same, so the hash discloses nothing of the key.
	other, err := erasureCertificate("rq_1", plans("someone.else@example.com"), at, at.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if other.PlanHash != c.PlanHash {
		t.Error("the plan hash depends on the rows' keys")
	}
	changed := plans("lin.wei@example.com")
	changed[0].Changes[0].Fields[1].Strategy = "null"
	if c2, _ := erasureCertificate("rq_1", changed, at, at); c2.PlanHash == c.PlanHash {
		t.Error("the plan hash does not depend on the strategies")
	}
	signed, err := certificate.Sign(c, make([]byte, 64), "k")
	if err != nil {
		t.Fatal(err)
	}
	if body := string(signed.Marshal()); strings.Contains(body, "lin.wei") || strings.Contains(body, "example.com") {
		t.Errorf("the certificate carries the key: %s", body)
	}
	// Nothing found: a certificate that says so.
	none, err := erasureCertificate("rq_2", nil, at, at)
	if err != nil || len(none.Targets) != 0 || none.Targets == nil {
		t.Errorf("no plans: targets %#v, %v; want an empty list", none.Targets, err)
	}
}
