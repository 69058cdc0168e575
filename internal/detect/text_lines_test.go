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

// TestValueEndingALine: a value at the end of a line is found whole when
// the next line begins with digits and letters (a log's timestamp): a line
// break joins digits only inside a number.
func TestValueEndingALine(t *testing.T) {
	for _, tt := range []struct{ in, want, det string }{
		{"身份证号:440305200006079802\n2026-06-09T04:10:51.757Z WARN x", "440305200006079802", DetPRCID},
		{"user_phone=15844813945\n2026-03-21T08:00:00Z INFO y", "15844813945", DetPRCMobile},
		{"client_ip=142.208.100.186\n2026-10-22T01:02:03Z DEBUG z", "142.208.100.186", DetIP},
		{"退款银行卡 5166201723548775\n2026-06-01T00:00:00Z", "5166201723548775", DetBankCard},
	} {
		found := false
		for _, s := range Text(tt.in) {
			if tt.in[s.Start:s.End] == tt.want && s.Detector == tt.det {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: %s %q not found in %+v", tt.in, tt.det, tt.want, Text(tt.in))
		}
	}
}

// TestNoPhoneFromTheLineBefore: a telephone word of one log line says
// nothing of the next line's numbers, and a Unix time next to a
// telephone word is no telephone number.
func TestNoPhoneFromTheLineBefore(t *testing.T) {
	for _, in := range []string{
		"user_phone=13158735727\n{\"ts\":1754430015873,\"event\":\"login\"}",
		"能否重新开具？ ts=1736644790453 手机 18561966658",
		"mobile ok\nref 1754430015",
	} {
		for _, s := range Text(in) {
			if s.Detector == DetPhoneNumber {
				t.Errorf("%q: %q read as a telephone number", in, in[s.Start:s.End])
			}
		}
	}
}
