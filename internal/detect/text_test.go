package detect

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestText(t *testing.T) {
	tests := []struct {
		in   string
		want []Span
	}{
		{"call 13812345678 now", []Span{{Start: 5, End: 16, Category: catPhone, Detector: DetPRCMobile, Confidence: confMobile + confContextBoost}}},
		{"13812345678", []Span{{Start: 0, End: 11, Category: catPhone, Detector: DetPRCMobile, Confidence: confMobile}}},
		{"邮箱 a.b@example.com。", []Span{{Start: 7, End: 22, Category: catEmail, Detector: DetEmail, Confidence: confEmail}}},
		{"nothing here", nil},
		// A masked user name in a URL is reported masked.
		{"https://x.com/users/li*na", []Span{{Start: 20, End: 25, Category: catAccountID, Detector: DetPersonalURL, Confidence: 0.7, Masked: true}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, Text(tt.in)); diff != "" {
			t.Errorf("Text(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
