package detect

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestTextGolden")

// goldenSpan is a span as the golden files show it: since the inputs are
// fixtures, the matched text is shown.
type goldenSpan struct {
	At         string  `json:"at"` // line:column (bytes, 1-based)
	Text       string  `json:"text"`
	Detector   string  `json:"detector"`
	Category   string  `json:"category"`
	Confidence float64 `json:"confidence"`
	Masked     bool    `json:"masked,omitempty"`
}

// TestTextGolden runs Text on each testdata/text/*.txt file and compares
// the spans with its .golden.json. Every line of a positive file (all but
// hard_negatives.txt and comments) must hold a span; the hard negatives
// must hold none.
func TestTextGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "text", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s := string(data)
			spans := Text(s)
			checkSpans(t, s, spans)
			got := []goldenSpan{}
			for _, sp := range spans {
				line := strings.Count(s[:sp.Start], "\n") + 1
				col := sp.Start - (strings.LastIndexByte(s[:sp.Start], '\n') + 1) + 1
				got = append(got, goldenSpan{fmt.Sprintf("%d:%d", line, col), s[sp.Start:sp.End], sp.Detector, sp.Category, sp.Confidence, sp.Masked})
			}
			if name == "hard_negatives" {
				for _, g := range got {
					t.Errorf("hard negative reported: %+v", g)
				}
			} else {
				lineStart := 0
				for n, line := range strings.SplitAfter(s, "\n") {
					lineEnd := lineStart + len(line)
					if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
						found := false
						for _, sp := range spans {
							if sp.Start < lineEnd && lineStart < sp.End {
								found = true
							}
						}
						if !found {
							t.Errorf("line %d holds no span: %q", n+1, l)
						}
					}
					lineStart = lineEnd
				}
			}
			want, _ := json.MarshalIndent(got, "", "  ")
			want = append(want, '\n')
			golden := strings.TrimSuffix(file, ".txt") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, want, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			old, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(old, want) {
				t.Errorf("%s differs from the spans found (run with -update and review the diff):\n%s", golden, want)
			}
		})
	}
}

// checkSpans holds spans to Text's contract: inside s, on rune boundaries,
// sorted, not overlapping, a known detector and its category, a confidence in (0,1].
func checkSpans(t testing.TB, s string, spans []Span) {
	t.Helper()
	cats := map[string]string{}
	for _, d := range Detectors() {
		cats[d.Name] = d.Category
	}
	starts := map[int]bool{len(s): true} // where ranging over s starts a character
	for i := range s {
		starts[i] = true
	}
	prevEnd := 0
	for _, sp := range spans {
		if sp.Start < prevEnd || sp.End <= sp.Start || sp.End > len(s) {
			t.Fatalf("span [%d,%d) out of order or outside the text (previous end %d, length %d)", sp.Start, sp.End, prevEnd, len(s))
		}
		if !starts[sp.Start] || !starts[sp.End] {
			t.Fatalf("span [%d,%d) splits a character", sp.Start, sp.End)
		}
		if cat, ok := cats[sp.Detector]; !ok || cat != sp.Category {
			t.Fatalf("span [%d,%d): detector %q with category %q not in Detectors()", sp.Start, sp.End, sp.Detector, sp.Category)
		}
		if sp.Confidence <= 0 || sp.Confidence > 1 {
			t.Fatalf("span [%d,%d): confidence %v", sp.Start, sp.End, sp.Confidence)
		}
		prevEnd = sp.End
	}
}
