package yamlnode

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestClosest(t *testing.T) {
	keys := []string{"purposes", "services", "retention", "id"}
	for _, tc := range []struct{ in, want string }{
		{"purpose", "purposes"},
		{"servcies", "services"},
		{"retenton", "retention"},
		{"xyz", ""},
		{"i", ""}, // one edit from "id" but as long as the key itself: no suggestion
		{strings.Repeat("a", 100), ""},
	} {
		if got := Closest(tc.in, keys); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"abc", "abc", 0}, {"abc", "abd", 1}, {"电话", "电话号", 1}, {"kitten", "sitting", 3}} {
		if got := EditDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestDescribeAndResolve(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("a: &x hello\nb: *x\nc: ~\nd: [1]\ne: 3\n"), &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.Content[0]
	got := []string{}
	for i := 1; i < len(m.Content); i += 2 {
		got = append(got, Describe(Resolve(m.Content[i])))
	}
	want := []string{`string "hello"`, `string "hello"`, "null", "a list", "int 3"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	if !IsNull(m.Content[5]) || IsNull(m.Content[1]) {
		t.Error("IsNull is wrong")
	}
	if Truncate("αβγδ", 2) != "αβ…" {
		t.Errorf("Truncate = %q", Truncate("αβγδ", 2))
	}
}
