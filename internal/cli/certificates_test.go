package cli

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/certificate"
)

// certificateFiles writes a signed certificate, the same certificate with
// one row count changed, and the key sets of the signing key and of
// another key, into dir. The key is fixed by a seed and the id given, so
// the output of verify is the same on every run.
func certificateFiles(t *testing.T, dir string) (good, tampered, keys, otherKeys string) {
	t.Helper()
	s, err := certificate.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize)), "kid-cli-test")
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Sign(certificate.Certificate{
		ID: "cert_0cli", Org: "acme", Kind: certificate.KindSweep, Rule: "orders-7y",
		PlanHash: strings.Repeat("5e", 32),
		Started:  time.Date(2026, 5, 4, 3, 0, 0, 0, time.UTC),
		Finished: time.Date(2026, 5, 4, 3, 0, 4, 250000000, time.UTC),
		Instance: "web-1",
		Targets: []certificate.Target{
			{Datastore: "shop", Collection: "orders", Action: certificate.ActionDelete, Rows: 40},
			{Datastore: "shop", Collection: "orders", Action: certificate.ActionRestrict, Rows: 2},
			{Datastore: "shop", Collection: "customers", Action: certificate.ActionErase, Fields: []string{"email", "phone"}, Rows: 3},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	other, err := certificate.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, ed25519.SeedSize)), "kid-other")
	if err != nil {
		t.Fatal(err)
	}
	good, tampered = filepath.Join(dir, "cert.json"), filepath.Join(dir, "tampered.json")
	keys, otherKeys = filepath.Join(dir, "keys.json"), filepath.Join(dir, "other-keys.json")
	changed := bytes.Replace(c.Marshal(), []byte(`"rows":40`), []byte(`"rows":4`), 1)
	if bytes.Equal(changed, c.Marshal()) {
		t.Fatal("the tampered certificate is not changed")
	}
	for path, b := range map[string][]byte{good: c.Marshal(), tampered: changed, keys: s.JWKS(), otherKeys: other.JWKS()} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return good, tampered, keys, otherKeys
}
