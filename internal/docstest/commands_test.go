//go:build linux

package docstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tableCommand is a command the README's "Commands" table names, with the
// flags it names for it.
type tableCommand struct {
	line  int
	path  []string // after "custos"
	flags []string
}

var (
	commandWordRE = regexp.MustCompile(`^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*$`)
	flagRE        = regexp.MustCompile(`(?:^|[\s\[])(--?[A-Za-z][A-Za-z0-9-]*)`)
	cellSplitRE   = regexp.MustCompile(`[^\\]\|`)
)

// commandTable reads the first column of the table under "## Commands":
// each `…` span is a command line, `custos WORDS [flags and arguments]` or
// WORDS alone for another command of the same group (`keys list`). A word
// a|b|c names sibling commands.
func commandTable(t *testing.T, file string, src []byte) []tableCommand {
	t.Helper()
	lines, first, err := Section(file, src, "Commands")
	if err != nil {
		t.Fatal(err)
	}
	var out []tableCommand
	for i, line := range lines {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		// the first cell ends at the first | that is not escaped
		loc := cellSplitRE.FindStringIndex(line[1:])
		if loc == nil {
			continue
		}
		cell := strings.ReplaceAll(line[1:loc[0]+2], `\|`, "|")
		for _, span := range backtickRE.FindAllStringSubmatch(cell, -1) {
			words := strings.Fields(span[1])
			if len(words) > 0 && words[0] == "custos" {
				words = words[1:]
			}
			var path [][]string
			n := 0
			for ; n < len(words) && commandWordRE.MatchString(words[n]); n++ {
				path = append(path, strings.Split(words[n], "|"))
			}
			if len(path) == 0 {
				t.Fatalf("%s:%d: %q names no command", file, first+i, span[1])
			}
			var flags []string
			for _, m := range flagRE.FindAllStringSubmatch(strings.Join(words[n:], " "), -1) {
				flags = append(flags, m[1])
			}
			for _, p := range expand(path) {
				out = append(out, tableCommand{line: first + i, path: p, flags: flags})
			}
		}
	}
	return out
}

// expand turns words with alternatives into every path they name.
func expand(words [][]string) [][]string {
	paths := [][]string{nil}
	for _, alts := range words {
		var next [][]string
		for _, p := range paths {
			for _, a := range alts {
				next = append(next, append(append([]string(nil), p...), a))
			}
		}
		paths = next
	}
	return paths
}

// TestReadmeCommands runs `custos COMMAND --help` for every command of the
// README's "Commands" table: it must answer with exit status 0, be that
// command (cobra prints the root's help for a word it does not know) and
// list every flag the table names for it.
func TestReadmeCommands(t *testing.T) {
	bin := custosBinary(t)
	const file = "README.md"
	src, err := os.ReadFile(filepath.Join(repoRoot(t), file))
	if err != nil {
		t.Fatal(err)
	}
	cmds := commandTable(t, file, src)
	if len(cmds) < 20 {
		t.Fatalf("%s: the Commands table names %d commands; the parsing broke", file, len(cmds))
	}
	for _, c := range cmds {
		name := strings.Join(c.path, " ")
		t.Run(name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), bin, append(c.path, "--help")...)
			cmd.Dir, cmd.WaitDelay = t.TempDir(), 5*time.Second
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s:%d: custos %s --help: %s\n%s", file, c.line, name, exitStatus(err), excerpt(string(out)))
			}
			help := string(out)
			if !strings.Contains(help, "Usage:\n  custos "+name+" ") && !strings.Contains(help, "Usage:\n  custos "+name+"\n") {
				t.Fatalf("%s:%d: custos %s --help is not that command's help:\n%s", file, c.line, name, excerpt(help))
			}
			_, flagsPart, _ := strings.Cut(help, "\nFlags:\n")
			for _, f := range c.flags {
				if !regexp.MustCompile(`(^|[\s,])` + regexp.QuoteMeta(f) + `([\s,=]|$)`).MatchString(flagsPart) {
					t.Errorf("%s:%d: the table names %s for custos %s; its help lists no such flag", file, c.line, f, name)
				}
			}
		})
	}
}
