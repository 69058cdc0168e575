package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/certificate"
)

var certKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, ed25519.SeedSize))

// signedCertificate signs a request erasure's certificate that finished at
// at.
func signedCertificate(t *testing.T, id, request string, at time.Time) certificate.Certificate {
	t.Helper()
	c, err := certificate.Sign(certificate.Certificate{
		ID: id, Kind: certificate.KindRequest, Request: request, PlanHash: strings.Repeat("0a", 32),
		Started: at.Add(-time.Second), Finished: at, Instance: "host test",
		Targets: []certificate.Target{{Datastore: "shop", Collection: "customer", Action: certificate.ActionErase, Fields: []string{"email"}, Rows: 1}},
	}, certKey, "kid-store")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCertificates(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		at := time.Date(2026, 5, 4, 3, 0, 0, 0, time.UTC)
		first := signedCertificate(t, "cert_01", "rq_1", at)
		second := signedCertificate(t, "cert_02", "rq_1", at.Add(time.Hour))
		other := signedCertificate(t, "cert_03", "rq_2", at.Add(2*time.Hour))
		sweep, err := certificate.Sign(certificate.Certificate{ID: "cert_04", Kind: certificate.KindSweep, Rule: "orders-7y",
			PlanHash: strings.Repeat("0b", 32), Started: at, Finished: at.Add(3 * time.Hour),
			Targets: []certificate.Target{{Datastore: "shop", Collection: "orders", Action: certificate.ActionDelete, Rows: 40}}}, certKey, "kid-store")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []certificate.Certificate{first, second, other, sweep} {
			if err := s.PutCertificate(ctx, c, entry("certificate.issue", "certificate:"+c.ID)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Certificate(ctx, "cert_02")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(second, got); diff != "" {
			t.Errorf("Certificate (-put +got):\n%s", diff)
		}
		// What is kept still verifies.
		jwks, _ := certificate.NewSigner(certKey, "kid-store")
		if err := certificate.Verify(got, jwks.JWKS()); err != nil {
			t.Errorf("a kept certificate does not verify: %v", err)
		}
		if _, err := s.Certificate(ctx, "cert_99"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Certificate of an unknown id = %v, want ErrNotFound", err)
		}
		if err := s.PutCertificate(ctx, first); !errors.Is(err, ErrConflict) {
			t.Errorf("keeping a certificate again = %v, want ErrConflict", err)
		}
		unsigned := first
		unsigned.ID, unsigned.Sig = "cert_05", ""
		if err := s.PutCertificate(ctx, unsigned); err == nil {
			t.Error("an unsigned certificate was kept")
		}
		ids := func(f CertificateFilter) []string {
			t.Helper()
			cs, err := s.Certificates(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}
		for _, tt := range []struct {
			name string
			f    CertificateFilter
			want []string
		}{
			{"all, newest first", CertificateFilter{}, []string{"cert_04", "cert_03", "cert_02", "cert_01"}},
			{"of a request", CertificateFilter{Request: "rq_1"}, []string{"cert_02", "cert_01"}},
			{"of a rule", CertificateFilter{Rule: "orders-7y"}, []string{"cert_04"}},
			{"of a kind", CertificateFilter{Kind: certificate.KindRequest}, []string{"cert_03", "cert_02", "cert_01"}},
			{"a page", CertificateFilter{Before: "cert_03", Limit: 1}, []string{"cert_02"}},
			{"of no request", CertificateFilter{Request: "rq_9"}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if diff := cmp.Diff(tt.want, ids(tt.f)); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			})
		}
		es, err := s.AuditEntries(ctx, AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if e.Action == "certificate.issue" {
				n++
			}
		}
		if n != 4 {
			t.Errorf("%d certificate.issue entries in the trail, want 4", n)
		}
	})
}
