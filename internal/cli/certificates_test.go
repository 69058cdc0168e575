package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/store"
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

// TestOrgsCertificates lists and shows each organisation's certificates
// (--org): each sees its own only, and what show prints verifies.
func TestOrgsCertificates(t *testing.T) {
	dir := t.TempDir()
	db, secretsDir := filepath.Join(dir, "custos.db"), filepath.Join(dir, "secrets")
	mustRun(t, "", "secrets", "init", secretsDir)
	mustRun(t, "", "migrate", "--db", db)
	mustRun(t, "", "orgs", "create", "acme", "--name", "Acme Ltd", "--db", db, "--secrets-dir", secretsDir)
	signer, err := certificate.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{6}, ed25519.SeedSize)), "kid-orgs")
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(keys, signer.JWKS(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 4, 3, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		org string
		c   certificate.Certificate
	}{
		{store.DefaultOrg, certificate.Certificate{ID: "cert_01ours", Kind: certificate.KindRequest, Request: "rq_ours",
			Targets: []certificate.Target{{Datastore: "shop", Collection: "customer", Action: certificate.ActionErase, Fields: []string{"email"}, Rows: 1}}}},
		{"acme", certificate.Certificate{ID: "cert_02acme", Org: "acme", Kind: certificate.KindRequest, Request: "rq_acme",
			Targets: []certificate.Target{{Datastore: "crm", Collection: "contacts", Action: certificate.ActionDelete, Rows: 2}}}},
		{"acme", certificate.Certificate{ID: "cert_03acme", Org: "acme", Kind: certificate.KindSweep, Rule: "orders-7y", Targets: []certificate.Target{
			{Datastore: "shop", Collection: "orders", Action: certificate.ActionDelete, Rows: 40},
			{Datastore: "shop", Collection: "invoices", Action: certificate.ActionRestrict, Rows: 3}}}},
	} {
		c.c.PlanHash, c.c.Started, c.c.Finished = strings.Repeat("0d", 32), at, at.Add(time.Minute)
		at = at.Add(time.Hour)
		signed, err := signer.Sign(c.c)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.ForOrg(c.org).PutCertificate(ctx, signed); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	var transcript strings.Builder
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"certificates", "list"}, 0},
		{[]string{"certificates", "list", "--org", "acme"}, 0},
		{[]string{"certificates", "list", "--org", "acme", "--rule", "orders-7y"}, 0},
		{[]string{"certificates", "list", "--org", "acme", "--request", "rq_ours"}, 0},
		{[]string{"certificates", "show", "cert_02acme", "--org", "acme"}, 0},
		{[]string{"certificates", "show", "cert_02acme"}, 2},
		{[]string{"certificates", "list", "--org", "nobody"}, 2},
	} {
		args := append(tt.args, "--db", db, "--secrets-dir", secretsDir)
		out, errOut, code := run(t, args...)
		if code != tt.code {
			t.Errorf("custos %s: exit %d, want %d\n%s%s", strings.Join(tt.args, " "), code, tt.code, out, errOut)
		}
		fmt.Fprintf(&transcript, "$ custos %s\n%s[exit %d]\n\n", strings.Join(tt.args, " "), strings.ReplaceAll(out+errOut, dir, "$DIR"), code)
	}
	golden(t, "certificates.txt", transcript.String())

	// What show prints is what verify checks.
	out, _, _ := run(t, "certificates", "show", "cert_03acme", "--org", "acme", "--db", db, "--secrets-dir", secretsDir)
	file := filepath.Join(dir, "cert.json")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	got, errOut, code := run(t, "certificates", "verify", file, "--keys", keys)
	if want := "certificate cert_03acme verified: retention_sweep rule orders-7y of org acme, 43 rows in 2 collections, signed by kid kid-orgs\n"; code != 0 || got != want {
		t.Errorf("verify of what show printed: exit %d, %q%s; want %q", code, got, errOut, want)
	}
}
