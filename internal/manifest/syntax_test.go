package manifest

import (
	"os"
	"strings"
	"testing"
)

// TestSyntaxErrorPosition: a YAML syntax error is reported at the line that
// causes it, not at the start of the enclosing block.
func TestSyntaxErrorPosition(t *testing.T) {
	starter, err := os.ReadFile("../../examples/starter/custos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(starter), "\n")
	// break returns the starter with line n (1-based) replaced by f(line).
	breakLine := func(n int, f func(string) string) string {
		out := append([]string(nil), lines...)
		out[n-1] = f(out[n-1])
		return strings.Join(out, "\n")
	}
	// A purpose's key deep in the file, the last of its mapping.
	deep := 0
	for i, l := range lines {
		if i > 590 && strings.HasPrefix(l, "    basis: ") {
			deep = i + 1
			break
		}
	}
	if deep == 0 {
		t.Fatal("no mapping line deep in the starter")
	}
	tests := []struct {
		name string
		src  string
		line int
	}{
		{"a key indented one space short, deep in the file", breakLine(deep, func(l string) string { return l[1:] }), deep},
		{"a key indented one space too far, deep in the file", breakLine(deep, func(l string) string { return " " + l }), deep},
		{"an unclosed flow mapping", "custos: 1\npolicy:\n  id: x\n  title: {zh: a, en: b\n  version: \"1\"\n", 4},
		{"a tab for indentation", "custos: 1\npolicy:\n  id: x\n\ttitle: a\n", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("m.yaml", []byte(tt.src))
			ps, ok := err.(Problems)
			if !ok || len(ps) == 0 {
				t.Fatalf("Parse = %v, want a syntax problem", err)
			}
			if !strings.Contains(ps[0].Message, "YAML syntax") || ps[0].Pos.Line != tt.line {
				t.Errorf("problem %s:%d:%d %s, want line %d", ps[0].File, ps[0].Pos.Line, ps[0].Pos.Col, ps[0].Message, tt.line)
			}
		})
	}
}
