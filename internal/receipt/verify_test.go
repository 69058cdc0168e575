package receipt

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	s := rfcSigner(t)
	jwks, err := s.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	want := Build(loadStarter(t), starterEvent(), "zh-CN")
	token, err := s.Sign(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(jwks, token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Verify(Sign(r)) (-want +got):\n%s", d)
	}

	var h map[string]string
	raw, _ := b64.DecodeString(strings.Split(token, ".")[0])
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"alg": "EdDSA", "kid": rfcKid, "typ": "JWT"}, h); d != "" {
		t.Errorf("protected header (-want +got):\n%s", d)
	}

	again, err := s.Sign(want)
	if err != nil || again != token {
		t.Errorf("signing the same receipt twice gave different tokens")
	}
}

func TestVerifyRejects(t *testing.T) {
	s := rfcSigner(t)
	jwks, err := s.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	r := Build(loadStarter(t), starterEvent(), "en")
	token, err := s.Sign(r)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(token, ".")
	hdr, payload, sig := parts[0], parts[1], parts[2]

	enc := func(v string) string { return b64.EncodeToString([]byte(v)) }
	other, err := GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	otherSigner, err := NewSigner(other)
	if err != nil {
		t.Fatal(err)
	}
	otherToken, err := otherSigner.Sign(r)
	if err != nil {
		t.Fatal(err)
	}

	// The classic confusion attack: HMAC keyed with the published public key.
	hsHeader := enc(`{"alg":"HS256","kid":"` + rfcKid + `","typ":"JWT"}`)
	mac := hmac.New(sha256.New, s.PublicKey())
	mac.Write([]byte(hsHeader + "." + payload))
	hs256 := hsHeader + "." + payload + "." + b64.EncodeToString(mac.Sum(nil))

	tampered := strings.Replace(string(must(b64.DecodeString(payload))), testSubject, "sub_someone_else", 1)
	flipped := []byte(must(b64.DecodeString(sig)))
	flipped[10] ^= 0x01
	otherParts := strings.Split(otherToken, ".")
	// The last character of a 64-byte signature carries 4 unused bits; setting one
	// spells the same signature differently.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	respelt := sig[:len(sig)-1] + string(alphabet[strings.IndexByte(alphabet, sig[len(sig)-1])^1])

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"tampered payload", hdr + "." + enc(tampered) + "." + sig, ErrSignature},
		{"tampered signature", hdr + "." + payload + "." + b64.EncodeToString(flipped), ErrSignature},
		{"signature of another key under our kid", hdr + "." + payload + "." + otherParts[2], ErrSignature},
		{"alg none", enc(`{"alg":"none","kid":"`+rfcKid+`"}`) + "." + payload + ".", ErrAlgorithm},
		{"alg none, signature kept", enc(`{"alg":"none","kid":"`+rfcKid+`"}`) + "." + payload + "." + sig, ErrAlgorithm},
		{"alg HS256", hs256, ErrAlgorithm},
		{"alg missing", enc(`{"kid":"`+rfcKid+`"}`) + "." + payload + "." + sig, ErrAlgorithm},
		{"unknown kid", otherToken, ErrUnknownKey},
		{"no kid", enc(`{"alg":"EdDSA"}`) + "." + payload + "." + sig, ErrUnknownKey},
		{"critical extension", enc(`{"alg":"EdDSA","kid":"`+rfcKid+`","crit":["b64"],"b64":false}`) + "." + payload + "." + sig, ErrMalformed},
		{"truncated signature", token[:len(token)-10], ErrMalformed},
		{"truncated to two parts", hdr + "." + payload, ErrMalformed},
		{"truncated header", hdr[:5], ErrMalformed},
		{"empty", "", ErrMalformed},
		{"four parts", token + "." + sig, ErrMalformed},
		{"signature spelt with unused bits set", hdr + "." + payload + "." + respelt, ErrMalformed},
		{"padded signature", token + "==", ErrMalformed},
		{"line break in signature", hdr + "." + payload + "." + sig[:20] + "\n" + sig[20:], ErrMalformed},
		{"header not JSON", enc("alg=EdDSA") + "." + payload + "." + sig, ErrMalformed},
		{"oversized", strings.Repeat("a", maxToken+1), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(jwks, tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			if d := cmp.Diff(Receipt{}, got); d != "" {
				t.Errorf("Verify returned a receipt along with its error:\n%s", d)
			}
		})
	}
	if _, err := Verify(jwks, token); err != nil {
		t.Errorf("the untouched token does not verify: %v", err)
	}
}

func TestVerifyJWKS(t *testing.T) {
	s := rfcSigner(t)
	token, err := s.Sign(Build(small(), Event{ID: "e1", SubjectID: "s1", Action: ActionGrant}, "en"))
	if err != nil {
		t.Fatal(err)
	}
	key := func(extra string) string {
		return `{"kty":"OKP","crv":"Ed25519","x":"` + rfcX + `","kid":"` + rfcKid + `"` + extra + `}`
	}
	tests := []struct {
		name string
		jwks string
		want error // nil: verifies
	}{
		{"minimal key", `{"keys":[` + key("") + `]}`, nil},
		{"among other keys", `{"keys":[{"kty":"RSA","kid":"r1"},` + key(`,"alg":"EdDSA","use":"sig"`) + `]}`, nil},
		{"key for encryption only", `{"keys":[` + key(`,"use":"enc"`) + `]}`, ErrUnknownKey},
		{"key for another algorithm", `{"keys":[` + key(`,"alg":"ES256"`) + `]}`, ErrUnknownKey},
		{"same kid, other curve", `{"keys":[{"kty":"OKP","crv":"X25519","x":"` + rfcX + `","kid":"` + rfcKid + `"}]}`, ErrUnknownKey},
		{"empty set", `{"keys":[]}`, ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify([]byte(tt.jwks), token)
			if tt.want == nil && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
		})
	}
	for _, bad := range []string{`not json`, `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"` + rfcKid + `"}]}`} {
		if _, err := Verify([]byte(bad), token); err == nil {
			t.Errorf("Verify with JWKS %s succeeded", bad)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
