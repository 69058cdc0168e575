package dsr_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/dsr"
)

// openShop returns the annotated shop database of
// TestDeletionReachesTheOrganisationsDatabase: customer 1 (del@example.com)
// with orders 10 and 12, customer 2 with order 11.
func openShop(t *testing.T) dsr.Datastore {
	t.Helper()
	shop, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shop.Close() })
	for _, q := range []string{
		`CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT, name TEXT)`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, ship_to TEXT)`,
		`INSERT INTO customer VALUES (1, 'del@example.com', 'Lin Wei'), (2, 'other@example.com', 'Other Person')`,
		`INSERT INTO orders VALUES (10, 1, 'Road 1'), (11, 2, 'Road 2'), (12, 1, 'Road 3')`,
	} {
		if _, err := shop.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := dataset.Parse("shop.yaml", []byte(shopAnnotation))
	if err != nil {
		t.Fatal(err)
	}
	return dsr.Datastore{Annotation: &ds.Datastores[0], DB: shop, Kind: connector.SQLite}
}

// TestDeletionIssuesACertificate: a deletion carried out in the
// organisation's database yields a certificate signed with the receipt
// key, listed on the request and served by id, that counts the rows and
// names the fields it erased, and holds none of the values.
func TestDeletionIssuesACertificate(t *testing.T) {
	signer, err := certificate.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, ed25519.SeedSize)), "kid-dsr")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, starterManifest, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), func(o *dsr.Options) {
		o.Certificates, o.Instance = signer, "host test-1"
	})
	e.req.AddExecutor(&dsr.Datastores{Stores: []dsr.Datastore{openShop(t)}, Seeds: e.req.Seeds})
	e.subject("st-cert-1", "del@example.com", "", nil)

	v := e.submitOperator(map[string]any{"type": "deletion", "subject_id": "st-cert-1"})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	var done dsr.View
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`, &done)
	if len(done.Certificates) != 1 {
		t.Fatalf("the completed request lists certificates %v, want one", done.Certificates)
	}
	id := done.Certificates[0]
	if note := lastNote(done); !strings.Contains(note, "certificate "+id) {
		t.Errorf("the history does not name the certificate: %q", note)
	}
	if got := e.get(v.ID).Certificates; !cmp.Equal(got, done.Certificates) {
		t.Errorf("GET /v1/requests/{id} lists %v, want %v", got, done.Certificates)
	}
	res := e.must(200, "GET", "/v1/certificates/"+id, e.op, "", nil)
	c, err := certificate.Parse(res.Body)
	if err != nil {
		t.Fatalf("the served certificate does not parse: %v\n%s", err, res.Body)
	}
	if err := certificate.Verify(c, signer.JWKS()); err != nil {
		t.Errorf("the served certificate does not verify: %v", err)
	}
	want := []certificate.Target{
		{Datastore: "shop", Collection: "customer", Action: certificate.ActionErase, Fields: []string{"email", "name"}, Rows: 1},
		{Datastore: "shop", Collection: "orders", Action: certificate.ActionErase, Fields: []string{"ship_to"}, Rows: 2},
	}
	if diff := cmp.Diff(want, c.Targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if c.ID != id || c.Kind != certificate.KindRequest || c.Request != v.ID || c.Rule != "" || c.Org != "" ||
		c.Instance != "host test-1" || c.KeyID != "kid-dsr" || c.Finished.Before(c.Started) {
		t.Errorf("certificate %+v: want %s of request %s, by host test-1 under kid-dsr", c, id, v.ID)
	}
	// Neither the values erased nor the rows' keys.
	for _, pi := range []string{"del@example.com", "Lin Wei", "Road", `"1"`, "st-cert-1"} {
		if bytes.Contains(res.Body, []byte(pi)) {
			t.Errorf("the certificate carries %q: %s", pi, res.Body)
		}
	}
	// Auditors read it; a service key may not.
	e.must(404, "GET", "/v1/certificates/cert_nothere", e.op, "", nil)
	if res := e.do("GET", "/v1/certificates/"+id, "", ""); res.Code != 401 {
		t.Errorf("without a key: %d, want 401", res.Code)
	}
	e.noPI("del@example.com", "Lin Wei")
}

// TestNoCertificateWithoutAKey: without the receipt key the erasure is
// carried out and the request closed, with no certificate to list.
func TestNoCertificateWithoutAKey(t *testing.T) {
	e := newEnv(t, starterManifest, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	e.req.AddExecutor(&dsr.Datastores{Stores: []dsr.Datastore{openShop(t)}, Seeds: e.req.Seeds})
	e.subject("st-cert-2", "del@example.com", "", nil)
	v := e.submitOperator(map[string]any{"type": "deletion", "subject_id": "st-cert-2"})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	var done dsr.View
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`, &done)
	if done.State != "completed" || len(done.Certificates) != 0 || strings.Contains(lastNote(done), "certificate") {
		t.Errorf("state %s, certificates %v, note %q: want completed with none", done.State, done.Certificates, lastNote(done))
	}
	if !strings.Contains(e.log.String(), "erasure certificate not issued") {
		t.Error("the log does not say why no certificate was issued")
	}
}
