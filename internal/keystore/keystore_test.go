package keystore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/seal"
	"github.com/custos-privacy/custos/internal/testdb"
)

func newKEK(t testing.TB) *seal.Sealer {
	t.Helper()
	ks, err := seal.GenerateKeyset()
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.New(ks)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// backends opens a key store on each database the server runs on.
func backends(t *testing.T, kek *seal.Sealer) map[string]func(t *testing.T) *keystore.Store {
	return map[string]func(t *testing.T) *keystore.Store{
		"sqlite": func(t *testing.T) *keystore.Store {
			return open(t, filepath.Join(t.TempDir(), "keys.db"), kek, "")
		},
		"postgres": func(t *testing.T) *keystore.Store {
			return open(t, testdb.Postgres(t), kek, "")
		},
	}
}

func open(t *testing.T, dsn string, kek *seal.Sealer, org string) *keystore.Store {
	t.Helper()
	s, err := keystore.Open(t.Context(), dsn, kek, keystore.Options{Org: org})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSealOpenDestroy(t *testing.T) {
	kek := newKEK(t)
	for name, mk := range backends(t, kek) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			s := mk(t)
			alice, bob := keystore.Subject("u-1"), keystore.Subject("u-2")
			secret := []byte("+8613800138000")
			ctA, err := s.Seal(ctx, alice, secret, []byte("phone"))
			if err != nil {
				t.Fatal(err)
			}
			ctB, err := s.Seal(ctx, bob, secret, []byte("phone"))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(ctA, secret) {
				t.Fatal("sealed value holds the plaintext")
			}
			for _, tt := range []struct {
				name  string
				owner string
				ct    []byte
				ad    string
				ok    bool
			}{
				{"own owner and ad", alice, ctA, "phone", true},
				{"other ad", alice, ctA, "email", false},
				{"other owner", bob, ctA, "phone", false},
				{"unknown owner", keystore.Subject("u-3"), ctA, "phone", false},
				{"truncated", alice, ctA[:5], "phone", false},
			} {
				got, err := s.Open(ctx, tt.owner, tt.ct, []byte(tt.ad))
				if tt.ok != (err == nil) || (tt.ok && !bytes.Equal(got, secret)) {
					t.Errorf("%s: Open = %q, %v; want ok=%v", tt.name, got, err, tt.ok)
				}
			}

			n, err := s.Destroy(ctx, alice, keystore.Delivery("dl_never"))
			if err != nil || n != 1 {
				t.Fatalf("Destroy = %d, %v; want 1 key destroyed", n, err)
			}
			if _, err := s.Open(ctx, alice, ctA, []byte("phone")); !errors.Is(err, keystore.ErrDestroyed) {
				t.Errorf("Open after Destroy: %v, want ErrDestroyed", err)
			}
			if _, err := s.Seal(ctx, alice, secret, nil); !errors.Is(err, keystore.ErrDestroyed) {
				t.Errorf("Seal after Destroy: %v, want ErrDestroyed", err)
			}
			// An owner destroyed before it had a key cannot get one later.
			if _, err := s.Seal(ctx, keystore.Delivery("dl_never"), secret, nil); !errors.Is(err, keystore.ErrDestroyed) {
				t.Errorf("Seal for an owner destroyed keyless: %v, want ErrDestroyed", err)
			}
			if got, err := s.Open(ctx, bob, ctB, []byte("phone")); err != nil || !bytes.Equal(got, secret) {
				t.Errorf("another owner's value after Destroy: %q, %v", got, err)
			}
			st, err := s.Stats(ctx)
			if err != nil || st.Live != 1 || st.Destroyed != 2 {
				t.Errorf("Stats = %+v, %v; want 1 live, 2 destroyed", st, err)
			}
		})
	}
}

// TestConcurrentFirstSeal: two writers sealing for a new owner at once end
// up with one key, so both values open.
func TestConcurrentFirstSeal(t *testing.T) {
	kek := newKEK(t)
	for name, mk := range backends(t, kek) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			s := mk(t)
			var wg sync.WaitGroup
			cts := make([][]byte, 8)
			errs := make([]error, 8)
			for i := range cts {
				wg.Go(func() { cts[i], errs[i] = s.Seal(ctx, keystore.Request("rq_1"), []byte("details"), nil) })
			}
			wg.Wait()
			for i, ct := range cts {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if _, err := s.Open(ctx, keystore.Request("rq_1"), ct, nil); err != nil {
					t.Errorf("value %d: %v", i, err)
				}
			}
		})
	}
}

// TestDestroyedKeyLeavesNoBytes: on SQLite the destroyed key's wrapped
// bytes are gone from the file and its write-ahead log.
func TestDestroyedKeyLeavesNoBytes(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "keys.db")
	s := open(t, path, newKEK(t), "")
	owner := keystore.Subject("u-1")
	if _, err := s.Seal(ctx, owner, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	var wrapped []byte
	if err := s.DB().QueryRowContext(ctx, `SELECT wrapped FROM owner_keys WHERE owner = ?`, owner).Scan(&wrapped); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Destroy(ctx, owner); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, wrapped) {
			t.Errorf("%s still holds the destroyed key's bytes", filepath.Base(f))
		}
	}
}

func TestOrganisationsKeepTheirOwnKeys(t *testing.T) {
	ctx := t.Context()
	kek := newKEK(t)
	path := filepath.Join(t.TempDir(), "keys.db")
	a, b := open(t, path, kek, "org-a"), open(t, path, kek, "org-b")
	ct, err := a.Seal(ctx, keystore.Subject("u-1"), []byte("v"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(ctx, keystore.Subject("u-1"), ct, nil); err == nil {
		t.Error("another organisation's store opened the value")
	}
	if _, err := b.Destroy(ctx, keystore.Subject("u-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Open(ctx, keystore.Subject("u-1"), ct, nil); err != nil {
		t.Errorf("destroying in one organisation reached another: %v", err)
	}
}

func TestLegacyValuesOpenWithTheKeyset(t *testing.T) {
	kek := newKEK(t)
	s := open(t, filepath.Join(t.TempDir(), "keys.db"), kek, "")
	old, err := kek.Seal([]byte("v"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open(context.Background(), keystore.Subject("u-1"), old, []byte("ad")); err != nil || string(got) != "v" {
		t.Errorf("Open(legacy) = %q, %v", got, err)
	}
}

func TestRewrap(t *testing.T) {
	ctx := t.Context()
	ks, err := seal.GenerateKeyset()
	if err != nil {
		t.Fatal(err)
	}
	old, _ := seal.New(ks)
	s := open(t, filepath.Join(t.TempDir(), "keys.db"), old, "")
	ct, err := s.Seal(ctx, keystore.Subject("u-1"), []byte("v"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A keyset that does not hold the old key cannot take over.
	if _, err := s.Rewrap(ctx, newKEK(t)); err == nil {
		t.Fatal("Rewrap with an unrelated keyset succeeded")
	}
	staged, _, err := seal.Stage(ks)
	if err != nil {
		t.Fatal(err)
	}
	promoted, newID, err := seal.Promote(staged)
	if err != nil {
		t.Fatal(err)
	}
	kek, _ := seal.New(promoted)
	if n, err := s.Rewrap(ctx, kek); err != nil || n != 1 {
		t.Fatalf("Rewrap = %d, %v", n, err)
	}
	if by, err := s.WrappedBy(ctx); err != nil || by[newID] != 1 || len(by) != 1 {
		t.Errorf("WrappedBy = %v, %v; want the one key under %d", by, err, newID)
	}
	if got, err := s.Open(ctx, keystore.Subject("u-1"), ct, nil); err != nil || string(got) != "v" {
		t.Errorf("Open after Rewrap = %q, %v", got, err)
	}
}

// TestForOrgSharesTheDatabase: an organisation's handle from ForOrg keeps
// its keys apart, wrapped by its own keyset, on the same pool; closing it
// leaves the pool to its owner.
func TestForOrgSharesTheDatabase(t *testing.T) {
	for name, mk := range backends(t, newKEK(t)) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			ours := mk(t)
			acme := ours.ForOrg("acme", newKEK(t))
			ct, err := acme.Seal(ctx, keystore.Subject("u-1"), []byte("acme's"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ours.Open(ctx, keystore.Subject("u-1"), ct, nil); err == nil {
				t.Error("the deployment's own store opened acme's value")
			}
			if _, err := ours.Destroy(ctx, keystore.Subject("u-1")); err != nil {
				t.Fatal(err)
			}
			if err := acme.Close(); err != nil {
				t.Fatal(err)
			}
			if v, err := acme.Open(ctx, keystore.Subject("u-1"), ct, nil); err != nil || string(v) != "acme's" {
				t.Errorf("acme's value after the deployment's u-1 was destroyed and acme's handle closed: %q, %v", v, err)
			}
			if st, err := acme.Stats(ctx); err != nil || st.Live != 1 {
				t.Errorf("acme's stats = %+v, %v", st, err)
			}
		})
	}
}
