package server_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
)

// TestCertificateSigner: the keys a server loads sign erasure certificates
// with the receipt key, under its id, so the key set served at
// /v1/keys/receipts verifies them.
func TestCertificateSigner(t *testing.T) {
	dir := t.TempDir()
	if _, err := secrets.Init(filepath.Join(dir, "secrets"), false); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CUSTOS_DB":          filepath.Join(dir, "custos.db"),
		"CUSTOS_MANIFEST":    starterManifest,
		"CUSTOS_SECRETS_DIR": filepath.Join(dir, "secrets"),
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	keys, err := server.LoadKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if keys.Certificates == nil || keys.Certificates.KeyID() != keys.Signer.KeyID() {
		t.Fatalf("certificate signer %v: want one under the receipt key's id %s", keys.Certificates, keys.Signer.KeyID())
	}
	at := time.Date(2026, 5, 4, 3, 0, 0, 0, time.UTC)
	c, err := keys.Certificates.Sign(certificate.Certificate{
		Kind: certificate.KindSweep, Rule: "r1", PlanHash: "00000000000000000000000000000000000000000000000000000000000000ff",
		Started: at, Finished: at,
	})
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := keys.Signer.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	if err := certificate.Verify(c, jwks); err != nil {
		t.Errorf("Verify with the published key set = %v", err)
	}
}

// TestServerCertificates: each organisation's server signs under its own
// receipt key, the one its /v1/keys/receipts publishes.
func TestServerCertificates(t *testing.T) {
	starter := filepath.Join("..", "..", "examples", "starter", "custos.yaml")
	d := startOrgs(t, "sqlite", starter, []orgSpec{{id: "acme", name: "Acme Ltd", host: "acme.test", manifest: starter}}, nil)
	at := time.Date(2026, 5, 4, 3, 0, 0, 0, time.UTC)
	kids := map[string]bool{}
	for _, tn := range d.tenants {
		signer := d.srv.Org(tn.org).Certificates()
		if signer == nil {
			t.Fatalf("%s: no certificate signer", tn.org)
		}
		kids[signer.KeyID()] = true
		c, err := signer.Sign(certificate.Certificate{Kind: certificate.KindSweep, Rule: "r1", PlanHash: strings.Repeat("ee", 32), Started: at, Finished: at})
		if err != nil {
			t.Fatal(err)
		}
		_, jwks := d.call(nil, tn.host, "GET", "/v1/keys/receipts", "")
		if err := certificate.Verify(c, jwks); err != nil {
			t.Errorf("%s: a certificate does not verify with the keys its host publishes: %v", tn.org, err)
		}
	}
	if len(kids) != 2 {
		t.Errorf("the organisations sign under %d key ids, want 2", len(kids))
	}
}
