package seal

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	gcmpb "github.com/tink-crypto/tink-go/v2/proto/aes_gcm_go_proto"
	"google.golang.org/protobuf/proto"
)

func newSealer(t *testing.T) (*Sealer, []byte) {
	t.Helper()
	ks, err := GenerateKeyset()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(ks)
	if err != nil {
		t.Fatal(err)
	}
	return s, ks
}

func TestRoundTrip(t *testing.T) {
	s, _ := newSealer(t)
	tests := []struct {
		name          string
		plaintext, ad []byte
	}{
		{"email", []byte("alice@example.com"), []byte("subj_01\x00email")},
		{"empty plaintext", []byte{}, []byte("subj_01\x00note")},
		{"no associated data", []byte("+8613800138000"), nil},
		{"binary", bytes.Repeat([]byte{0, 0xff}, 4096), []byte("x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := s.Seal(tt.plaintext, tt.ad)
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.plaintext) >= 8 && bytes.Contains(ct, tt.plaintext) {
				t.Error("ciphertext contains the plaintext")
			}
			got, err := s.Open(ct, tt.ad)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.plaintext, got, cmpBytes); diff != "" {
				t.Errorf("Open(Seal(x)) (-want +got):\n%s", diff)
			}
			again, err := s.Seal(tt.plaintext, tt.ad)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(ct, again) {
				t.Error("sealing twice gave the same ciphertext: nonces are not random")
			}
		})
	}
}

// cmpBytes treats nil and empty slices alike: Open of an empty plaintext may
// return either.
var cmpBytes = cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })

func TestOpenRejects(t *testing.T) {
	s, _ := newSealer(t)
	other, _ := newSealer(t)
	pt, ad := []byte("alice@example.com"), []byte("subj_01\x00email")
	ct, err := s.Seal(pt, ad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(ct)
		c[i] ^= 0x01
		return c
	}
	tests := []struct {
		name   string
		sealer *Sealer
		ct, ad []byte
	}{
		{"wrong associated data", s, ct, []byte("subj_02\x00email")},
		{"missing associated data", s, ct, nil},
		{"tampered key id", s, flip(1), ad},
		{"tampered nonce", s, flip(6), ad},
		{"tampered body", s, flip(len(ct) - 20), ad},
		{"tampered tag", s, flip(len(ct) - 1), ad},
		{"truncated", s, ct[:len(ct)-1], ad},
		{"empty", s, nil, ad},
		{"other keyset", other, ct, ad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sealer.Open(tt.ct, tt.ad)
			if !errors.Is(err, ErrOpen) {
				t.Fatalf("Open = %q, %v; want ErrOpen", got, err)
			}
			if got != nil {
				t.Errorf("Open returned %q with its error", got)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	s, ks := newSealer(t)
	pt, ad := []byte("alice@example.com"), []byte("subj_01\x00email")
	old, err := s.Seal(pt, ad)
	if err != nil {
		t.Fatal(err)
	}

	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(ks)))
	if err != nil {
		t.Fatal(err)
	}
	m := keyset.NewManagerFromHandle(h)
	id, err := m.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetPrimary(id); err != nil {
		t.Fatal(err)
	}
	rotatedHandle, err := m.Handle()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(rotatedHandle, keyset.NewJSONWriter(&buf)); err != nil {
		t.Fatal(err)
	}
	rotated, err := New(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}

	got, err := rotated.Open(old, ad)
	if err != nil {
		t.Fatalf("rotated keyset cannot open a ciphertext of the old primary: %v", err)
	}
	if diff := cmp.Diff(pt, got); diff != "" {
		t.Errorf("Open (-want +got):\n%s", diff)
	}
	fresh, err := rotated.Seal(pt, ad)
	if err != nil {
		t.Fatal(err)
	}
	// Tink ciphertexts start with a version byte and the 4-byte key id.
	if bytes.Equal(fresh[:5], old[:5]) {
		t.Error("rotated keyset still seals with the old primary key")
	}
	if _, err := s.Open(fresh, ad); !errors.Is(err, ErrOpen) {
		t.Errorf("old keyset opened a ciphertext of the new primary key: %v", err)
	}
}

func TestNewRejects(t *testing.T) {
	macHandle, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	var macJSON bytes.Buffer
	if err := insecurecleartextkeyset.Write(macHandle, keyset.NewJSONWriter(&macJSON)); err != nil {
		t.Fatal(err)
	}
	const secret = "GiBWyUfGgYk3RTRhj"
	tests := []struct {
		name string
		json string
	}{
		{"empty", ""},
		{"not json", "key: " + secret},
		{"broken json", `{"primaryKeyId": 1, "key": [{"keyData": {"value": "` + secret + `"`},
		{"bad value", `{"primaryKeyId": 1, "key": [{"keyData": {"value": ` + secret + `}}]}`},
		{"no keys", `{"primaryKeyId": 1, "key": []}`},
		{"mac keyset", macJSON.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New([]byte(tt.json))
			if err == nil {
				t.Fatalf("New accepted the keyset: %v", s)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q quotes key material", err)
			}
		})
	}
}

func TestGenerateKeyset(t *testing.T) {
	a, err := GenerateKeyset()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKeyset()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two generated keysets are equal")
	}
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(a)))
	if err != nil {
		t.Fatal(err)
	}
	info := h.KeysetInfo()
	if n := len(info.GetKeyInfo()); n != 1 {
		t.Fatalf("generated keyset has %d keys", n)
	}
	k := info.GetKeyInfo()[0]
	got := []any{k.GetTypeUrl(), k.GetKeyId() == info.GetPrimaryKeyId(), k.GetStatus().String()}
	want := []any{"type.googleapis.com/google.crypto.tink.AesGcmKey", true, "ENABLED"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("generated key (-want +got):\n%s", diff)
	}
	var key gcmpb.AesGcmKey
	if err := proto.Unmarshal(insecurecleartextkeyset.KeysetMaterial(h).GetKey()[0].GetKeyData().GetValue(), &key); err != nil {
		t.Fatal(err)
	}
	if n := len(key.GetKeyValue()); n != 32 {
		t.Errorf("generated AES-GCM key is %d bytes; want 32", n)
	}
}

// TestStagePromote: a staged key opens nothing new and seals nothing until
// promoted; after promotion new values are sealed with it and old ones
// still open.
func TestStagePromote(t *testing.T) {
	ks, err := GenerateKeyset()
	if err != nil {
		t.Fatal(err)
	}
	old, _ := New(ks)
	before, _ := old.Seal([]byte("v"), []byte("ad"))
	ids, primary, err := KeyIDs(ks)
	if err != nil || len(ids) != 1 || primary != ids[0] {
		t.Fatalf("KeyIDs = %v, %d, %v", ids, primary, err)
	}
	staged, newID, err := Stage(ks)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := New(staged)
	ct, _ := s.Seal([]byte("v"), []byte("ad"))
	if by, ok := SealedBy(ct); !ok || by != primary {
		t.Errorf("a staged keyset sealed with key %d, want the old primary %d", by, primary)
	}
	promoted, gotID, err := Promote(staged)
	if err != nil || gotID != newID {
		t.Fatalf("Promote = %d, %v; want %d", gotID, err, newID)
	}
	p, _ := New(promoted)
	ct, _ = p.Seal([]byte("v"), []byte("ad"))
	if by, ok := SealedBy(ct); !ok || by != newID {
		t.Errorf("a promoted keyset sealed with key %d, want the new key %d", by, newID)
	}
	if got, err := p.Open(before, []byte("ad")); err != nil || string(got) != "v" {
		t.Errorf("a value sealed before the rotation: %q, %v", got, err)
	}
	if _, err := old.Open(ct, []byte("ad")); err == nil {
		t.Error("the old keyset opened a value sealed with the new key")
	}
	if _, _, err := Stage([]byte("{not a keyset")); err == nil || strings.Contains(err.Error(), "not a keyset") {
		t.Errorf("Stage of garbage: %v (must fail without quoting it)", err)
	}
}
