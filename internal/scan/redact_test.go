package scan

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	salt := []byte("test salt")
	line := "2026 INFO 用户 " + phone + " mail=" + email + " id " + idNo + " 已掩码 138****5678\r\n"
	tests := []struct {
		name  string
		opt   RedactOptions
		input string
		want  string
		n     int
	}{
		{"mask", RedactOptions{Mode: ModeMask}, line + "nothing\n",
			"2026 INFO 用户 138****5678 mail=l*****@example.com id 440***********1233 已掩码 138****5678\r\nnothing\n", 3},
		{"tag", RedactOptions{Mode: ModeTag}, line,
			"2026 INFO 用户 [basic.phone] mail=[basic.email] id [identity.id_card] 已掩码 138****5678\r\n", 3},
		{"hash: one value however written", RedactOptions{Mode: ModeHash, Salt: salt}, "a " + phone + " b +86" + phone,
			"a basic.phone:" + Hash(salt, phone) + " b basic.phone:" + Hash(salt, phone), 2},
		{"allow-listed value stays", RedactOptions{Mode: ModeTag, Allow: mustAllow(t, email)}, email + " " + phone + "\n",
			email + " [basic.phone]\n", 1},
		{"no final newline, blank lines", RedactOptions{Mode: ModeTag}, "\n\n" + phone, "\n\n[basic.phone]", 1},
		{"empty", RedactOptions{Mode: ModeMask}, "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			n, err := Redact(strings.NewReader(tt.input), &out, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want || n != tt.n {
				t.Errorf("Redact = %q (%d), want %q (%d)", out.String(), n, tt.want, tt.n)
			}
		})
	}
}

func mustAllow(t *testing.T, values ...string) *AllowList {
	t.Helper()
	a, err := ReadAllowList(strings.NewReader(strings.Join(values, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRedactHashIgnoresHowTheValueIsWritten(t *testing.T) {
	salt := []byte("s")
	if Hash(salt, phone) != Hash(salt, "１３８１２３４５６７８") || Hash(salt, phone) == Hash([]byte("t"), phone) {
		t.Error("Hash should fold the value's form and depend on the salt")
	}
}

func TestRedactErrors(t *testing.T) {
	tests := []struct {
		name  string
		opt   RedactOptions
		input string
		want  error
	}{
		{"hash without salt", RedactOptions{Mode: ModeHash}, "x", nil},
		{"unknown mode", RedactOptions{Mode: "erase"}, "x", nil},
		{"binary", RedactOptions{Mode: ModeMask}, "a\x00b", ErrBinary},
	}
	for _, tt := range tests {
		_, err := Redact(strings.NewReader(tt.input), io.Discard, tt.opt)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// Gzip in gives gzip out, and a long line redacted in chunks equals the
// same line redacted whole.
func TestRedactGzipAndLongLines(t *testing.T) {
	filler := strings.Repeat("ab ", 2000)
	var in strings.Builder
	for i := 0; i < 20; i++ {
		in.WriteString(filler[:i*99] + phone + " " + filler[:i*33] + email + "\n")
	}
	plain := in.String()
	var whole bytes.Buffer
	if _, err := Redact(strings.NewReader(plain), &whole, RedactOptions{Mode: ModeTag, ChunkSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	var zipped bytes.Buffer
	n, err := Redact(strings.NewReader(gz(plain)), &zipped, RedactOptions{Mode: ModeTag, ChunkSize: 2 * Overlap})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&zipped)
	if err != nil {
		t.Fatalf("output is not gzip: %v", err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if n != 40 || string(got) != whole.String() {
		t.Errorf("chunked gzip redaction replaced %d values and differs from the whole-line one: %v", n, string(got) != whole.String())
	}
	if strings.Contains(string(got), phone) || strings.Contains(string(got), email) {
		t.Error("a value survived redaction")
	}
}
