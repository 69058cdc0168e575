package identity

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func testKey(b byte) []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

func TestHash(t *testing.T) {
	h, err := NewHasher(testKey(0))
	if err != nil {
		t.Fatal(err)
	}
	// Vectors computed independently of this package.
	tests := []struct{ kind, value, want string }{
		{"email", "alice@example.com", "c89de65dbbe2070217a4f4e9ffec5f85cfa15653f1bfd31285e9ce87175633b4"},
		{"phone", "+8613800138000", "015e2e107471877ceb31f0ab92a0f2b79b6d7ae24c366f838fa3f671d16d153b"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			// Twice, so that the second call runs on a reused state.
			for range 2 {
				if diff := cmp.Diff(tt.want, hex.EncodeToString(h.Hash(tt.kind, tt.value))); diff != "" {
					t.Errorf("Hash(%q, %q) (-want +got):\n%s", tt.kind, tt.value, diff)
				}
			}
		})
	}
}

func TestHashSeparates(t *testing.T) {
	h1, err := NewHasher(testKey(0))
	if err != nil {
		t.Fatal(err)
	}
	h2, err := NewHasher(testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[string]string{
		"key1 user_id 8613800138000":  hex.EncodeToString(h1.Hash("user_id", "8613800138000")),
		"key1 username 8613800138000": hex.EncodeToString(h1.Hash("username", "8613800138000")),
		"key1 phone +8613800138000":   hex.EncodeToString(h1.Hash("phone", "+8613800138000")),
		"key2 phone +8613800138000":   hex.EncodeToString(h2.Hash("phone", "+8613800138000")),
		// Moving bytes between kind and value must change the hash.
		"key1 user_ idx":   hex.EncodeToString(h1.Hash("user_", "idx")),
		"key1 user_i dx":   hex.EncodeToString(h1.Hash("user_i", "dx")),
		"key1 user_id x":   hex.EncodeToString(h1.Hash("user_id", "x")),
		"key1 user_idx \"": hex.EncodeToString(h1.Hash("user_idx", "")),
	}
	seen := map[string]string{}
	for name, sum := range hashes {
		if len(sum) != 2*HashSize {
			t.Errorf("%s: hash has %d hex digits", name, len(sum))
		}
		if other, ok := seen[sum]; ok {
			t.Errorf("%s and %s hash alike", name, other)
		}
		seen[sum] = name
	}
}

func TestNewHasherKeySize(t *testing.T) {
	if _, err := NewHasher(make([]byte, 31)); err == nil {
		t.Error("NewHasher accepted a 31-byte key")
	}
	key := testKey(0)
	h, err := NewHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	want := h.Hash("email", "alice@example.com")
	key[0] ^= 0xff // the Hasher must have its own copy
	if got := h.Hash("email", "alice@example.com"); !bytes.Equal(got, want) {
		t.Error("changing the caller's key slice changed the hash")
	}
}

func TestHashConcurrent(t *testing.T) {
	h, err := NewHasher(testKey(0))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, testKey(0))
	want := make([][]byte, 64)
	for i := range want {
		mac.Reset()
		fmt.Fprintf(mac, "user_id\x00user-%d", i)
		want[i] = mac.Sum(nil)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 500 {
				i := (g + n) % len(want)
				if got := h.Hash("user_id", fmt.Sprintf("user-%d", i)); !bytes.Equal(got, want[i]) {
					t.Errorf("user-%d: wrong hash under concurrent use", i)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkHash compares the pooled Hasher with keying a new HMAC per call.
func BenchmarkHash(b *testing.B) {
	key := testKey(0)
	const kind, value = "email", "alice.smith@example.com"
	b.Run("pooled", func(b *testing.B) {
		h, err := NewHasher(key)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.Hash(kind, value)
			}
		})
	})
	b.Run("new-hmac", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m := hmac.New(sha256.New, key)
				m.Write([]byte(kind + "\x00" + value))
				m.Sum(nil)
			}
		})
	})
}

// TestHashRotated: a Hasher of several keys gives what rotation makes of a
// stored hash, so identities hashed before a rotation are found after it
// without their values.
func TestHashRotated(t *testing.T) {
	k1, k2, k3 := testKey(0), testKey(1), testKey(2)
	one, err := NewHasher(k1)
	if err != nil {
		t.Fatal(err)
	}
	three, err := NewHasher(k1, k2, k3)
	if err != nil {
		t.Fatal(err)
	}
	alone, err := NewHasher(k3)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"alice@example.com", "+8613800138000", ""} {
		stored := one.Hash("email", v)
		stored = Rehash(k2, stored)
		stored = Rehash(k3, stored)
		if got := three.Hash("email", v); !bytes.Equal(got, stored) {
			t.Errorf("%q: hash under k1,k2,k3 %x, rotated stored hash %x", v, got, stored)
		}
		if bytes.Equal(stored, alone.Hash("email", v)) {
			t.Errorf("%q: the rotated hash equals a hash under the newest key alone", v)
		}
		if bytes.Equal(stored, one.Hash("email", v)) {
			t.Errorf("%q: rotation left the hash as it was", v)
		}
	}
	if _, err := NewHasher(k1, make([]byte, 31)); err == nil {
		t.Error("NewHasher accepted a short later key")
	}
	if _, err := NewHasher(); err == nil {
		t.Error("NewHasher accepted no key")
	}
}
