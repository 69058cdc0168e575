package secrets

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDecodeIdentityKeys: any file either decodes into keys of the
// accepted size, which encode and decode again to the same keys, or is
// refused with an error that does not quote it.
func FuzzDecodeIdentityKeys(f *testing.F) {
	k := bytes.Repeat([]byte{7}, IdentityKeySize)
	f.Add(EncodeIdentityKeys([][]byte{k}))
	f.Add(EncodeIdentityKeys([][]byte{k, bytes.Repeat([]byte{9}, 48)}))
	f.Add([]byte("# comment\n\n" + strings.Repeat("ab", 32) + "\r\n"))
	f.Add([]byte("not a key\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := DecodeIdentityKeys(b)
		if err != nil {
			for _, line := range strings.Split(string(b), "\n") {
				if line = strings.TrimSpace(line); len(line) >= 16 && strings.Contains(err.Error(), line) {
					t.Fatalf("error %q quotes the input", err)
				}
			}
			return
		}
		for _, k := range keys {
			if len(k) < IdentityKeySize {
				t.Fatalf("accepted a %d-byte key", len(k))
			}
		}
		again, err := DecodeIdentityKeys(EncodeIdentityKeys(keys))
		if err != nil || len(again) != len(keys) {
			t.Fatalf("encoded keys do not decode again: %v", err)
		}
		for i := range keys {
			if !bytes.Equal(again[i], keys[i]) {
				t.Fatalf("key %d changed in a round trip", i)
			}
		}
	})
}
