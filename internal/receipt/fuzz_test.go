package receipt

import (
	"strings"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary tokens to the verifier: it must never panic,
// and must accept nothing that the signer did not produce.
func FuzzVerify(f *testing.F) {
	pemKey, err := GenerateKeyPEM()
	if err != nil {
		f.Fatal(err)
	}
	s, err := NewSigner(pemKey)
	if err != nil {
		f.Fatal(err)
	}
	jwks, err := s.JWKS()
	if err != nil {
		f.Fatal(err)
	}
	r := Receipt{Version: Version, ConsentReceiptID: "r-1", JTI: "r-1", PIIPrincipalID: "u-1", ConsentTimestamp: time.Unix(1_700_000_000, 0).Unix(),
		Custos: Extension{Event: "ce_1", Action: ActionGrant}}
	good, err := s.Sign(r)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add(good + "A")
	f.Fuzz(func(t *testing.T, token string) {
		got, err := Verify(jwks, token)
		if err == nil && token != good {
			// Another encoding of the same signed bytes would be a
			// malleability bug; anything else is a forgery.
			t.Fatalf("accepted a token the signer did not produce: %q (%+v)", token, got)
		}
	})
}
