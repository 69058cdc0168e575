package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/testdb"
)

// TestRotateKey: after a rotation the identities are found by their hash
// under the new key, the trail and the ledger verify through the
// transition with both keys, a process still on the old key cannot write,
// running the rotation again changes nothing, and cutting the transition
// out is detected.
func TestRotateKey(t *testing.T) {
	old := []byte("audit-key-one-0123456789abcdef01")
	next := []byte("audit-key-two-0123456789abcdef01")
	rehash := func(h []byte) []byte {
		m := hmac.New(sha256.New, []byte("identity-key-two"))
		m.Write(h)
		return m.Sum(nil)
	}
	for _, consents := range []bool{true, false} {
		name := "with ledger"
		if !consents {
			name = "empty ledger"
		}
		t.Run(name, func(t *testing.T) {
			dsns := map[string]func(t *testing.T) string{
				"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "custos.db") },
				"postgres": func(t *testing.T) string { return testdb.Postgres(t) },
			}
			for _, backend := range []string{"sqlite", "postgres"} {
				t.Run(backend, func(t *testing.T) {
					ctx := context.Background()
					dsn := dsns[backend](t)
					open := func(key []byte, prior ...[]byte) *Store {
						t.Helper()
						s, err := Open(ctx, dsn, Options{AuditKey: key, PriorAuditKeys: prior})
						if err != nil {
							t.Fatal(err)
						}
						t.Cleanup(func() { s.Close() })
						if _, err := s.Migrate(ctx); err != nil {
							t.Fatal(err)
						}
						return s
					}
					s := open(old)
					if consents {
						tamperFixture(t, s)
					} else if err := s.AppendAudit(ctx, entry("subject.read", "subject:u-0")); err != nil {
						t.Fatal(err)
					}
					hash := []byte("identity-hash-under-the-first-key")
					if err := s.CreateSubject(ctx, Subject{ID: "u-id", Identities: []Identity{{Kind: "email", Hash: hash}}}); err != nil {
						t.Fatal(err)
					}
					r := request("rq_1", "u-id", "awaiting_verification")
					otp := OTP{RequestID: r.ID, IdentityHash: hash, CodeHash: []byte("c"), ExpiresAt: time.Now().Add(time.Minute), CreatedAt: time.Now()}
					if err := s.CreateRequest(ctx, r, RequestEvent{RequestID: r.ID, At: time.Now(), Actor: "t", To: r.State}, []TxFn{s.PutOTPFn(otp)}); err != nil {
						t.Fatal(err)
					}
					stale := open(old) // another instance, not restarted

					got, err := s.RotateKey(ctx, KeyRotation{AuditKey: next, Rehash: rehash, Entry: entry("", "")})
					if err != nil {
						t.Fatal(err)
					}
					if got.Identities != 1 || got.Codes != 1 || got.Entry.Action != audit.ActionKeyRotate {
						t.Errorf("RotateKey = %+v", got)
					}
					if _, err := s.RotateKey(ctx, KeyRotation{AuditKey: next, Rehash: rehash, Entry: entry("", "")}); !errors.Is(err, ErrRotated) {
						t.Errorf("second RotateKey = %v, want ErrRotated", err)
					}
					for what, err := range map[string]error{
						"audit entry": stale.AppendAudit(ctx, entry("subject.read", "subject:u-1")),
						"consent":     stale.AppendConsents(ctx, []ConsentEvent{consent("late", "u-id", "analytics", ActionGrant, 1)}, nil),
					} {
						if !errors.Is(err, ErrKeyRotated) {
							t.Errorf("%s from a process on the old key: %v, want ErrKeyRotated", what, err)
						}
					}

					if err := open(nil).AppendAudit(ctx, entry("subject.read", "subject:u-1")); err == nil || !strings.Contains(err.Error(), "no identity key") {
						t.Errorf("a write from a process without the identity key: %v", err)
					}
					s2 := open(next, old)
					if id, err := s2.SubjectByIdentity(ctx, rehash(hash)); err != nil || id != "u-id" {
						t.Errorf("SubjectByIdentity(rehashed) = %q, %v", id, err)
					}
					if o, err := s2.OTP(ctx, "rq_1"); err != nil || !bytes.Equal(o.IdentityHash, rehash(hash)) {
						t.Errorf("the pending code's identity hash after rotation: %x, %v", o.IdentityHash, err)
					}
					if _, err := s2.SubjectByIdentity(ctx, hash); !errors.Is(err, ErrNotFound) {
						t.Errorf("SubjectByIdentity(old hash) = %v, want not found", err)
					}
					if err := s2.AppendConsents(ctx, []ConsentEvent{consent("after", "u-id", "analytics", ActionGrant, 1)},
						[]audit.Entry{entry("consent.grant", "subject:u-id")}); err != nil {
						t.Fatal(err)
					}
					verifyOK(t, s2)

					if rep, err := open(next).VerifyAudit(ctx, nil, nil); err != nil || rep.OK {
						t.Errorf("verification without the old key passed: %+v, %v", rep, err)
					}
					// Cut the transition out and relink nothing: detected.
					tamper(t, s2, []string{`DELETE FROM audit_log WHERE action = 'key.rotate'`})
					rep, err := s2.VerifyAudit(ctx, nil, nil)
					if err != nil {
						t.Fatal(err)
					}
					if rep.OK {
						t.Error("verification passed with the transition entry deleted")
					}
				})
			}
		})
	}
}

func verifyOK(t *testing.T, s *Store) {
	t.Helper()
	rep, err := s.VerifyAudit(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		var b strings.Builder
		for _, p := range rep.Problems {
			b.WriteString("\n  " + p.Kind + ": " + p.Text)
		}
		t.Fatalf("verification failed:%s", b.String())
	}
}

// BenchmarkRotateKey rotates a database of 100,000 identities: how long an
// operator's rotation keeps the instances stopped, per backend.
func BenchmarkRotateKey(b *testing.B) {
	const n = 100_000
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			var dsn string
			if backend == "sqlite" {
				dsn = filepath.Join(b.TempDir(), "custos.db")
			} else {
				dsn = testdb.Postgres(b)
			}
			keys := [][]byte{[]byte("audit-key-0-0123456789abcdef0123")}
			s, err := Open(ctx, dsn, Options{AuditKey: keys[0]})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < n; i += 1000 {
				err := s.inTx(ctx, func(tx *sql.Tx) error {
					for j := i; j < i+1000; j++ {
						h := sha256.Sum256([]byte(strconv.Itoa(j)))
						id := "u-" + strconv.Itoa(j)
						if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO subjects (id, created_at, updated_at) VALUES (?, 0, 0)`), id); err != nil {
							return err
						}
						if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO identities (hash, kind, subject_id, created_at) VALUES (?, 'email', ?, 0)`), h[:], id); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			s.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				prior := keys
				next := []byte("audit-key-" + strconv.Itoa(i+1) + "-0123456789abcdef0123")
				s, err := Open(ctx, dsn, Options{AuditKey: prior[len(prior)-1], PriorAuditKeys: prior[:len(prior)-1]})
				if err != nil {
					b.Fatal(err)
				}
				got, err := s.RotateKey(ctx, KeyRotation{AuditKey: next, Rehash: func(h []byte) []byte { m := hmac.New(sha256.New, next); m.Write(h); return m.Sum(nil) }, Entry: entry("", "")})
				s.Close()
				if err != nil || got.Identities != n {
					b.Fatalf("RotateKey = %+v, %v", got, err)
				}
				keys = append(keys, next)
			}
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/rotation")
		})
	}
}
