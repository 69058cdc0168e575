package keep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/manifest"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when refused
	}{
		{"3 years", "3 years"},
		{"3y", "3 years"},
		{" 1 Year ", "1 year"},
		{"36months", "36 months"},
		{"18 mo", "18 months"},
		{"400 days", "400 days"},
		{"1d", "1 day"},
		{"forever", "forever"},
		{"FOREVER", "forever"},
		{"", ""},
		{"years", ""},
		{"0 years", ""},
		{"-3 years", ""},
		{"3", ""},
		{"3 weeks", ""},
		{"3 m", ""}, // minutes or months: refused rather than guessed
		{"36601 days", ""},
		{"99999999999999999999 days", ""},
		{"3 years 2 months", ""},
	}
	for _, tt := range tests {
		p, err := Parse(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("Parse(%q) = %v, want an error", tt.in, p)
		case tt.want != "" && err != nil:
			t.Errorf("Parse(%q): %v", tt.in, err)
		case tt.want != "" && p.String() != tt.want:
			t.Errorf("Parse(%q) = %v, want %v", tt.in, p, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"3 years", true},
		{"36 months", true},
		{"35 months", false},
		{"2 years", false},
		{"1095 days", false}, // a leap year makes three years 1096 days
		{"1098 days", true},
		{"10 years", true},
		{"forever", true},
	}
	for _, tt := range tests {
		p, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		err = Requests.Check(p)
		if (err == nil) != tt.ok {
			t.Errorf("Requests.Check(%v) = %v, want ok %v", p, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "PIPL art. 56") {
			t.Errorf("Requests.Check(%v) = %v, want the law named", p, err)
		}
	}
	// Records without a minimum take any period.
	if err := (Record{ID: "x"}).Check(Period{Period: manifest.Period{Count: 1, Unit: "days"}}); err != nil {
		t.Error(err)
	}
}

func TestDefaultsHold(t *testing.T) {
	for _, r := range Records {
		if r.Setting == "" || r.Minimum == nil {
			continue
		}
		p, err := Parse(r.Default)
		if err != nil {
			t.Fatalf("%s: default: %v", r.ID, err)
		}
		if err := r.Check(p); err != nil {
			t.Errorf("%s: the default is below the minimum: %v", r.ID, err)
		}
	}
}

func TestCutoff(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, calendar.China)
	p, _ := Parse("3 years")
	got, ok := p.Cutoff(now)
	if want := time.Date(2023, 12, 7, 0, 0, 0, 0, calendar.China); !ok || !got.Equal(want) {
		t.Errorf("Cutoff = %v, %v; want %v", got, ok, want)
	}
	if _, ok := (Period{Forever: true}).Cutoff(now); ok {
		t.Error("forever has a cutoff")
	}
}

// TestDocumented: docs/retention.md shows the table as it is here.
func TestDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "retention.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), Markdown()) {
		t.Errorf("docs/retention.md does not show the table of Custos's own records as internal/keep has it; it should read:\n%s", Markdown())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"3 years", "forever", "18mo", "1d", "", "0y", "9999999999999999999 days"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		q, err := Parse(p.String())
		if err != nil || q != p {
			t.Fatalf("Parse(%q) = %v, which reads back as %v, %v", s, p, q, err)
		}
		if !p.Forever && (p.Count <= 0 || p.Count > 36600) {
			t.Fatalf("Parse(%q) = %v", s, p)
		}
	})
}

// TestParseMessages: a messages period is a positive Go duration, the
// form of --outbox-retention; a period in days, zero or less is refused.
func TestParseMessages(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"72h", 72 * time.Hour},
		{" 168h ", 168 * time.Hour},
		{"90m", 90 * time.Minute},
		{"7 days", 0},
		{"7d", 0},
		{"0s", 0},
		{"-1h", 0},
		{"", 0},
	} {
		got, err := ParseMessages(tt.in)
		if got != tt.want || (err == nil) != (tt.want > 0) {
			t.Errorf("ParseMessages(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
