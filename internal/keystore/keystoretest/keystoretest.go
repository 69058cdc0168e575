// Package keystoretest gives tests a key store of their own.
package keystoretest

import (
	"path/filepath"
	"testing"

	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/seal"
)

// New opens a key store in a SQLite file under t.TempDir(), wrapped by kek
// (a new keyset if nil), closed when the test ends.
func New(t testing.TB, kek *seal.Sealer) *keystore.Store {
	t.Helper()
	if kek == nil {
		ks, err := seal.GenerateKeyset()
		if err != nil {
			t.Fatal(err)
		}
		if kek, err = seal.New(ks); err != nil {
			t.Fatal(err)
		}
	}
	s, err := keystore.Open(t.Context(), filepath.Join(t.TempDir(), "keys.db"), kek, keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
