package docstest

import (
	"fmt"
	"strings"
)

// Script is a shell block of a document as a reader pastes it into a
// shell, line by line: unlike Block, nothing in it is interpreted here.
type Script struct {
	File string
	Line int // of the opening fence
	// Lines are the block's commands and comment lines in order; blank
	// lines are left out.
	Lines []ScriptLine
}

// ScriptLine is one command of a script, its backslash-newline
// continuations joined as the shell joins them, or one comment line.
type ScriptLine struct {
	Line int // in the document, where the command starts
	// Text is the command as written, continuations and a trailing
	// comment included: what a shell is given.
	Text    string
	Comment bool // a line holding only a comment
}

// Commands returns the script's commands, comment lines left out.
func (s Script) Commands() []ScriptLine {
	var out []ScriptLine
	for _, l := range s.Lines {
		if !l.Comment {
			out = append(out, l)
		}
	}
	return out
}

// Comments returns the text of the script's comment lines, "#" and the
// space after it taken off, joined with spaces: what the block says in
// prose.
func (s Script) Comments() string {
	var parts []string
	for _, l := range s.Lines {
		if l.Comment {
			parts = append(parts, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l.Text), "#")))
		}
	}
	return strings.Join(parts, " ")
}

// Section returns the lines of the section of a Markdown document titled
// heading (its text without the #s), from the heading to the next one of
// the same or a higher level, and the number of its first line. Lines in
// fenced blocks are never headings.
func Section(file string, src []byte, heading string) ([]string, int, error) {
	lines := strings.Split(string(src), "\n")
	start, level := -1, 0
	var fence string
	for i, raw := range lines {
		line := strings.TrimRight(raw, "\r")
		if f := fenceRE.FindStringSubmatch(line); f != nil {
			switch {
			case fence == "":
				fence = f[2]
			case strings.HasPrefix(strings.TrimSpace(line), fence):
				fence = ""
			}
			continue
		}
		if fence != "" {
			continue
		}
		n := len(line) - len(strings.TrimLeft(line, "#"))
		if n == 0 || n > 6 || !strings.HasPrefix(line[n:], " ") {
			continue
		}
		switch {
		case start < 0 && strings.TrimSpace(line[n:]) == heading:
			start, level = i, n
		case start >= 0 && n <= level:
			return lines[start:i], start + 1, nil
		}
	}
	if start < 0 {
		return nil, 0, fmt.Errorf("%s: no section %q", file, heading)
	}
	return lines[start:], start + 1, nil
}

// Scripts returns the shell blocks (sh, bash, shell or no language) of the
// section titled heading, in order.
func Scripts(file string, src []byte, heading string) ([]Script, error) {
	lines, first, err := Section(file, src, heading)
	if err != nil {
		return nil, err
	}
	var out []Script
	for i := 0; i < len(lines); i++ {
		f := fenceRE.FindStringSubmatch(strings.TrimRight(lines[i], "\r"))
		if f == nil {
			continue
		}
		fence, lang := f[2], strings.ToLower(f[3])
		s := Script{File: file, Line: first + i}
		var cur *ScriptLine
		for i++; i < len(lines); i++ {
			line := strings.TrimRight(lines[i], "\r")
			if strings.HasPrefix(strings.TrimSpace(line), fence) {
				break
			}
			if cur != nil {
				// a continuation of the command above
				cur.Text += "\n" + line
			} else if strings.TrimSpace(line) != "" {
				s.Lines = append(s.Lines, ScriptLine{Line: first + i, Text: line, Comment: strings.HasPrefix(strings.TrimSpace(line), "#")})
				cur = &s.Lines[len(s.Lines)-1]
			}
			if !cur.continued() {
				cur = nil
			}
		}
		if cur != nil {
			return nil, fmt.Errorf("%s:%d: the block ends inside a command continued with a backslash", file, cur.Line)
		}
		if lang == "sh" || lang == "bash" || lang == "shell" || lang == "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// continued says whether the command goes on on the next line: it ends in
// a backslash outside a comment.
func (l *ScriptLine) continued() bool {
	return l != nil && !l.Comment && strings.HasSuffix(l.Text, "\\")
}
