package scan

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
)

// A JWT whose claims carry an email address and a mobile number, and
// base64 that holds nothing personal.
var (
	claims   = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u1","email":"` + email + `","phone":"` + phone + `"}`))
	jwt      = "eyJhbGciOiJIUzI1NiJ9." + claims + ".c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	harmless = base64.StdEncoding.EncodeToString([]byte("nothing personal in this text at all"))
)

func TestDecodedSpans(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // the runs reported, as written
		detector string
	}{
		{"JWT claims", "auth token=" + jwt + " ok", []string{claims}, "base64/email"},
		{"standard alphabet, padded", "x " + base64.StdEncoding.EncodeToString([]byte("tel "+phone+" !")) + " y",
			[]string{base64.StdEncoding.EncodeToString([]byte("tel " + phone + " !"))}, "base64/prc_mobile"},
		{"text without personal information", "h " + harmless, nil, ""},
		{"a hex digest decodes to no text", "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", nil, ""},
		{"too short to hold a value", "k " + base64.RawStdEncoding.EncodeToString([]byte("a@b.cn")), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodedSpans(tt.in)
			var runs []string
			for _, sp := range got {
				runs = append(runs, strings.TrimRight(tt.in[sp.Start:sp.End], "="))
				if sp.Detector != tt.detector || sp.Masked {
					t.Errorf("span %+v, want detector %s, not masked", sp, tt.detector)
				}
			}
			if strings.Join(runs, "|") != strings.TrimRight(strings.Join(tt.want, "|"), "=") {
				t.Errorf("runs %q, want %q", runs, tt.want)
			}
		})
	}
}

// TestDecodeOption: base64 is read only when asked, in a scan and in a
// redaction, and what is found directly is not found twice.
func TestDecodeOption(t *testing.T) {
	line := "2026 INFO login " + phone + " token=" + jwt + "\n"
	scanLine := func(decode bool) []Finding {
		var got []Finding
		s := &Scanner{Options: Options{Decode: decode}, Emit: func(f Finding) error {
			got = append(got, f)
			return nil
		}}
		if err := s.Reader(context.Background(), "app.log", strings.NewReader(line), FormatText); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := scanLine(false); len(got) != 1 || got[0].Detector != "prc_mobile" {
		t.Errorf("without --decode: %+v, want the mobile number alone", got)
	}
	got := scanLine(true)
	if len(got) != 2 || got[1].Detector != "base64/email" || got[1].Category != "basic.email" || got[1].Column != strings.Index(line, claims)+1 {
		t.Fatalf("with --decode: %+v", got)
	}
	for _, f := range got {
		if strings.Contains(f.Excerpt, claims) || strings.Contains(f.Excerpt, email) {
			t.Errorf("the excerpt shows the value: %q", f.Excerpt)
		}
	}
	var out bytes.Buffer
	n, err := Redact(strings.NewReader(line), &out, RedactOptions{Mode: ModeTag, Decode: true})
	if err != nil || n != 2 {
		t.Fatalf("redact: %d, %v", n, err)
	}
	want := "2026 INFO login [basic.phone] token=eyJhbGciOiJIUzI1NiJ9.[basic.email].c2lnbmF0dXJlLXNpZ25hdHVyZQ\n"
	if out.String() != want {
		t.Errorf("redacted %q, want %q", out.String(), want)
	}
}

// FuzzDecodedSpans: decoding never panics, and the spans are in the input,
// in order and apart.
func FuzzDecodedSpans(f *testing.F) {
	for _, s := range []string{jwt, harmless, "====", "a-b_c+d/e=", base64.StdEncoding.EncodeToString([]byte(email + " " + phone))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spans := find(s, true)
		end := 0
		for _, sp := range spans {
			if sp.Start < end || sp.End <= sp.Start || sp.End > len(s) {
				t.Fatalf("span %+v out of place in %q (previous end %d)", sp, s, end)
			}
			end = sp.End
		}
	})
}
