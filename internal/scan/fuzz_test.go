package scan

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/detect"
)

var fuzzSeeds = []string{
	"", "\n", "a\r\nb", phone, "x " + phone + "\n" + email,
	"名字,手机\n李雷," + phone + "\n\"a\"\"b\",\"c\nd " + email + "\"\n",
	`{"a":{"b":["` + phone + `",1,null,true]},"c":` + phone + "}\n{bad\n",
	"\x1f\x8b\x08\x00", "BIN\x00" + phone, "中文 " + idNo + " " + card,
}

// scanFuzz scans input in format f and checks every finding's place.
func scanFuzz(t *testing.T, input string, f Format, chunk int) []Finding {
	var got []Finding
	s := &Scanner{Options: Options{ChunkSize: chunk}, Emit: func(f Finding) error {
		got = append(got, f)
		return nil
	}}
	_ = s.Reader(context.Background(), "in", strings.NewReader(input), f) // malformed input may fail, never panic
	if strings.HasPrefix(input, "\x1f\x8b") {
		return got // gzip: the lines are those of its content
	}
	lines := strings.Split(input, "\n")
	for _, g := range got {
		if g.Line < 1 || g.Line > len(lines) {
			t.Fatalf("finding on line %d of %d: %+v", g.Line, len(lines), g)
		}
		if g.Column < 1 || g.Column > utf8.RuneCountInString(lines[g.Line-1])+1 {
			t.Fatalf("finding at column %d of line %q: %+v", g.Column, lines[g.Line-1], g)
		}
		if g.Value != "" {
			t.Fatalf("value shown: %+v", g)
		}
	}
	return got
}

func FuzzTextReader(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		scanFuzz(t, input, FormatText, 2*Overlap)
	})
}

func FuzzCSVReader(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		scanFuzz(t, input, FormatCSV, 0)
	})
}

func FuzzJSONLReader(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		scanFuzz(t, input, FormatJSONL, 2*Overlap)
	})
}

// Gzip input is scanned as its content is; broken gzip is skipped.
func FuzzGzipReader(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		plain := scanFuzz(t, input, FormatText, 0)
		var zipped []Finding
		s := &Scanner{Emit: func(f Finding) error { zipped = append(zipped, f); return nil }}
		if err := s.Reader(context.Background(), "in", strings.NewReader(gz(input)), FormatText); err != nil {
			t.Fatal(err)
		}
		if len(plain) != len(zipped) {
			t.Fatalf("%d findings in the text, %d in its gzip", len(plain), len(zipped))
		}
		// Bytes that start like gzip but are not.
		s = &Scanner{Emit: func(Finding) error { return nil }}
		_ = s.Reader(context.Background(), "in", strings.NewReader("\x1f\x8b"+input), FormatText)
	})
}

// The line chunker hands every byte over exactly once, in order, and
// counts lines.
func FuzzLineChunker(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, uint16(0))
	}
	f.Add(strings.Repeat("ab ", 1000)+"\n"+strings.Repeat("中", 700), uint16(3))
	f.Fuzz(func(t *testing.T, input string, extra uint16) {
		chunk := 2*Overlap + int(extra%2048)
		var out bytes.Buffer
		lines := 0
		var offset int64
		err := eachSegment(strings.NewReader(input), chunk, func(seg segment) (int, error) {
			if seg.Offset != offset {
				t.Fatalf("segment at offset %d, want %d", seg.Offset, offset)
			}
			n := len(seg.Text)
			if !seg.Final {
				n = cutPoint(seg.Text)
				if n == 0 {
					n = 1
				}
			}
			out.Write(seg.Text[:n])
			offset += int64(n)
			if seg.Final {
				out.Write(seg.EOL)
				offset += int64(len(seg.EOL))
				lines = seg.Line
			}
			return n, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.String() != input {
			t.Fatalf("chunks rebuild %q, want %q", out.String(), input)
		}
		want := strings.Count(input, "\n")
		if input != "" && !strings.HasSuffix(input, "\n") {
			want++
		}
		if lines != want {
			t.Fatalf("%d lines, want %d", lines, want)
		}
	})
}

// Redaction replaces exactly the spans the detectors find in each line
// and leaves every other byte as it was; in chunks it never panics.
func FuzzRedact(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		if strings.IndexByte(input[:min(len(input), binarySniff)], 0) >= 0 || strings.HasPrefix(input, "\x1f\x8b") {
			return
		}
		var out bytes.Buffer
		if _, err := Redact(strings.NewReader(input), &out, RedactOptions{Mode: ModeTag, ChunkSize: 1 << 20}); err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		for i, line := range strings.Split(input, "\n") {
			if i > 0 {
				want.WriteByte('\n')
			}
			at := 0
			for _, sp := range detect.Text(line) {
				if sp.Masked {
					continue
				}
				want.WriteString(line[at:sp.Start] + "[" + sp.Category + "]")
				at = sp.End
			}
			want.WriteString(line[at:])
		}
		if out.String() != want.String() {
			t.Fatalf("Redact = %q, want %q", out.String(), want.String())
		}
		out.Reset()
		if _, err := Redact(strings.NewReader(input), &out, RedactOptions{Mode: ModeMask, ChunkSize: 2 * Overlap}); err != nil {
			t.Fatal(err)
		}
	})
}
