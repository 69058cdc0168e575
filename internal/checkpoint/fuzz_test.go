package checkpoint

import (
	"bytes"
	"testing"
)

// FuzzCheckpoint feeds arbitrary lines to the parser: it must never panic,
// whatever it accepts must print and parse back to the same values, and
// no line but one the signer produced may verify.
func FuzzCheckpoint(f *testing.F) {
	s := testSigner(f)
	good := testCheckpoint()
	s.Sign(&good)
	line := good.Marshal()
	f.Add(line)
	f.Add(append(append([]byte{}, line...), '\n'))
	f.Add([]byte(""))
	f.Add([]byte("{}"))
	f.Add([]byte(`{"v":1}`))
	f.Add(bytes.Replace(line, []byte(`"seq":42`), []byte(`"seq":41`), 1))
	f.Add(bytes.Replace(line, []byte(`"v":1`), []byte(`"v":1,"extra":true`), 1))
	f.Add(append(append([]byte{}, line...), line...))
	keys := s.Keys()
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Parse(in)
		if err != nil {
			return
		}
		again, err := Parse(c.Marshal())
		if err != nil {
			t.Fatalf("a parsed checkpoint does not parse once printed: %v\n%s", err, c.Marshal())
		}
		if !same(c, again) {
			t.Fatalf("printing and parsing changed the checkpoint:\n%+v\n%+v", c, again)
		}
		if keys.Verify(c) == nil && !same(c, good) {
			t.Fatalf("a checkpoint the signer did not sign verifies: %s", in)
		}
	})
}
