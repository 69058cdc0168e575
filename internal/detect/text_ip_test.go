package detect

import "testing"

// TestIPAfterPhoneWord: a dotted IPv4 address after a word naming a
// telephone is an address, not a telephone number written with dots.
func TestIPAfterPhoneWord(t *testing.T) {
	for _, in := range []string{
		"login phone=13912345678 ip=192.168.31.23",
		"phone 10.1.2.3",
		"电话 192.168.1.1",
	} {
		for _, s := range Text(in) {
			if in[s.Start:s.End] != "13912345678" && s.Detector != DetIP {
				t.Errorf("%q: %q found as %s", in, in[s.Start:s.End], s.Detector)
			}
		}
	}
}
