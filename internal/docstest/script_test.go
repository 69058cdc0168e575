package docstest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const scriptSample = "# Guide\n" + // 1
	"## Get started\n" + // 2
	"```sh\n" + // 3
	"# run it\n" + // 4
	"tool serve   # stays in the foreground\n" + // 5
	"\n" + // 6
	"curl -s localhost:8080/x \\\n" + // 7
	"  -d '{}'\n" + // 8
	"```\n" + // 9
	"```yaml\n" + // 10
	"# not a heading: a comment in a fence\n" + // 11
	"```\n" + // 12
	"### Further\n" + // 13
	"```\n" + // 14
	"tool init\n" + // 15
	"```\n" + // 16
	"## Next\n" + // 17
	"```sh\n" + // 18
	"tool other\n" + // 19
	"```\n" // 20

func TestScripts(t *testing.T) {
	got, err := Scripts("doc.md", []byte(scriptSample), "Get started")
	if err != nil {
		t.Fatal(err)
	}
	want := []Script{
		{File: "doc.md", Line: 3, Lines: []ScriptLine{
			{Line: 4, Text: "# run it", Comment: true},
			{Line: 5, Text: "tool serve   # stays in the foreground"},
			{Line: 7, Text: "curl -s localhost:8080/x \\\n  -d '{}'"},
		}},
		{File: "doc.md", Line: 14, Lines: []ScriptLine{{Line: 15, Text: "tool init"}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("scripts (-want +got):\n%s", d)
	}
	if c := got[0].Comments(); c != "run it" {
		t.Errorf("Comments() = %q", c)
	}
	if n := len(got[0].Commands()); n != 2 {
		t.Errorf("Commands() has %d, want 2", n)
	}

	if _, err := Scripts("doc.md", []byte(scriptSample), "Missing"); err == nil || err.Error() != `doc.md: no section "Missing"` {
		t.Errorf("missing section: %v", err)
	}
	open := "## A\n```sh\ntool \\\n```\n"
	if _, err := Scripts("doc.md", []byte(open), "A"); err == nil || err.Error() != "doc.md:3: the block ends inside a command continued with a backslash" {
		t.Errorf("open continuation: %v", err)
	}
}
