package manifest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestIncidentSettings: notice_within and escalate are checked where
// they are written.
func TestIncidentSettings(t *testing.T) {
	const block = "security:\n  incident:\n    channels: [email]\n"
	tests := []struct {
		name, add string
		want      []string
	}{
		{"valid", block + "    notice_within: 1h30m\n    escalate: [security@example.com]", nil},
		{"seconds", block + "    notice_within: 90s", []string{`4:20: invalid notice_within "90s": give hours or minutes such as 24h or 90m, more than 0 and at most 720h`}},
		{"too long", block + "    notice_within: 721h", []string{`4:20: invalid notice_within "721h": give hours or minutes such as 24h or 90m, more than 0 and at most 720h`}},
		{"zero", block + "    notice_within: 0h", []string{`4:20: invalid notice_within "0h": give hours or minutes such as 24h or 90m, more than 0 and at most 720h`}},
		{"a named address", block + "    escalate: [\"Sec <sec@example.com>\", sec@example.com, SEC@example.com]", []string{
			`4:16: invalid escalation address "Sec <sec@example.com>": give a bare email address such as security@example.com`,
			`4:58: escalation address "SEC@example.com" is listed twice`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := edited(t, nil, tt.add)
			got := problemLines(t, src)
			// The lines are counted from the appended block's first line.
			base := strings.Count(edited(t, nil, ""), "\n")
			var rel []string
			for _, p := range got {
				var line, col int
				var msg string
				if _, err := fmt.Sscanf(p, "%d:%d:", &line, &col); err != nil {
					t.Fatalf("problem %q: %v", p, err)
				}
				_, msg, _ = strings.Cut(p, ": ")
				rel = append(rel, fmt.Sprintf("%d:%d: %s", line-base, col, msg))
			}
			if diff := cmp.Diff(tt.want, rel); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoticeTarget(t *testing.T) {
	tests := []struct {
		in   *Incident
		want time.Duration
	}{
		{nil, 24 * time.Hour},
		{&Incident{}, 24 * time.Hour},
		{&Incident{NoticeWithin: "48h"}, 48 * time.Hour},
		{&Incident{NoticeWithin: "1h30m"}, 90 * time.Minute},
		{&Incident{NoticeWithin: "nonsense"}, 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := tt.in.NoticeTarget(); got != tt.want {
			t.Errorf("NoticeTarget(%+v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// FuzzNoticeWithin: whatever is written, the parser either refuses it or
// returns a duration within its bounds, and never panics.
func FuzzNoticeWithin(f *testing.F) {
	for _, s := range []string{"24h", "90m", "1h30m", "0h", "721h", "1.5h", "-1h", "9999h99999m", "", "h", "1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseNoticeWithin(s)
		if err == nil && (d <= 0 || d > maxNoticeWithin) {
			t.Errorf("parseNoticeWithin(%q) = %v", s, d)
		}
	})
}
