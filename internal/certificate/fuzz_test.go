package certificate

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse feeds arbitrary input to the parser: it must never panic,
// whatever it accepts must print and parse back to the same values, and
// nothing but what the signer produced (in any spelling) may verify.
func FuzzParse(f *testing.F) {
	s := testSigner(f)
	good, err := s.Sign(testCertificate())
	if err != nil {
		f.Fatal(err)
	}
	line := good.Marshal()
	f.Add(line)
	f.Add(append(append([]byte{}, line...), '\n'))
	f.Add([]byte(""))
	f.Add([]byte("{}"))
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"targets":null}`))
	f.Add(bytes.Replace(line, []byte(`"rows":3`), []byte(`"rows":4`), 1))
	f.Add(bytes.Replace(line, []byte(`"rows":3`), []byte(`"rows":-3`), 1))
	f.Add(bytes.Replace(line, []byte(`"v":1`), []byte(`"v":1,"extra":true`), 1))
	f.Add(bytes.Replace(line, []byte(`"org":"acme"`), []byte(`"org":"ac\u0000me"`), 1))
	f.Add(append(append([]byte{}, line...), line...))
	jwks := s.JWKS()
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Parse(in)
		if err != nil {
			return
		}
		again, err := Parse(c.Marshal())
		if err != nil {
			t.Fatalf("a parsed certificate does not parse once printed: %v\n%s", err, c.Marshal())
		}
		if diff := cmp.Diff(c, again); diff != "" {
			t.Fatalf("printing and parsing changed the certificate:\n%s", diff)
		}
		if Verify(c, jwks) == nil && !cmp.Equal(c, good) {
			t.Fatalf("a certificate the signer did not sign verifies: %s", in)
		}
	})
}
