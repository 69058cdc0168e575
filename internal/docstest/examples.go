// Package docstest runs the HTTP examples of Custos's documentation: every
// curl command in a shell block of README.md and docs/*.md is sent to a
// real server, so an example that drifts from the API fails a test with the
// file and line of the block.
//
// A block is a fenced code block whose language is sh, bash, shell,
// console or none. Its commands are read as a small part of the shell:
// words with '…', "…", $VAR and ${VAR}, backslash-newline continuations,
// comments, pipelines, and these commands:
//
//	curl [options] URL            a call; the answer must be below 400 (and a
//	                              decision, /v1/check, must not answer unknown_purpose)
//	NAME=$(curl … [| jq -r PATH]) a call whose answer (or a value in it) is kept in $NAME
//	NAME=$(echo "$X" | jq -r PATH) a value of an answer kept earlier
//	NAME=value                    a variable
//
// Other commands (custos serve, go run, export …) are not run. $KEY is the
// server's admin key and $HOST its host:port; localhost:8080 and
// 127.0.0.1:8080 in a URL mean the server too.
//
// Two markers, invisible in the rendered page, change what is expected:
//
//	# expect 422                     (a comment line in the block) the next call must answer exactly this status
//	<!-- docs-test: skip REASON -->  (on a line above the fence) the block is not run, for REASON
//
// The blocks a reader pastes into a shell whole (README.md's "Get started",
// the first start of a deployment in docs/server.md and docs/operations.md)
// are read as Scripts instead and run by the package's tests through sh,
// line by line and literally, with the custos binary built from the tree.
package docstest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Block is a shell block of a document.
type Block struct {
	File  string
	Line  int // of the opening fence
	Steps []Step
	// Skip is why the block is not run, from a docs-test: skip marker.
	Skip string
}

// Calls counts the curl commands of the block, those inside $(…) included.
func (b Block) Calls() int {
	n := 0
	for _, s := range b.Steps {
		n += s.calls()
	}
	return n
}

// Step is one command of a block: a pipeline, or an assignment.
type Step struct {
	Line int // in the document
	// Expect is the status the step's call must answer, from "# expect N";
	// 0: any status below 400.
	Expect int
	// Assign names the variable an assignment sets; Value is what it is set to.
	Assign string
	Value  Word
	// Pipe is the commands of a pipeline, when the step is not an assignment.
	Pipe []Command
}

func (s Step) calls() int {
	n := 0
	for _, c := range s.Pipe {
		if c.Name() == "curl" {
			n++
		}
		for _, w := range c.Args {
			n += w.calls()
		}
	}
	return n + s.Value.calls()
}

// Command is one command of a pipeline, its words not yet expanded.
type Command struct {
	Args []Word
}

// Name is the command's name when its first word is plain text.
func (c Command) Name() string {
	if len(c.Args) == 0 {
		return ""
	}
	s, ok := c.Args[0].Literal()
	if !ok {
		return ""
	}
	return s
}

// Word is a shell word: text, variables and command substitutions that
// expand into one argument.
type Word []Part

// Part is one piece of a word: exactly one of its fields is set.
type Part struct {
	Text string
	Var  string
	Sub  []Command // $(…): a pipeline
}

// Literal returns the word's text when it holds no expansion.
func (w Word) Literal() (string, bool) {
	var b strings.Builder
	for _, p := range w {
		if p.Var != "" || p.Sub != nil {
			return "", false
		}
		b.WriteString(p.Text)
	}
	return b.String(), true
}

func (w Word) calls() int {
	n := 0
	for _, p := range w {
		for _, c := range p.Sub {
			if c.Name() == "curl" {
				n++
			}
		}
	}
	return n
}

var (
	fenceRE  = regexp.MustCompile("^(\\s*)(```+|~~~+)\\s*([A-Za-z0-9_+-]*)")
	skipRE   = regexp.MustCompile(`^<!--\s*docs-test:\s*skip\s*(.*?)\s*-->\s*$`)
	markerRE = regexp.MustCompile(`^<!--\s*docs-test:`)
	expectRE = regexp.MustCompile(`^\s*#\s*expect\s+(\d{3})\s*$`)
	assignRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
)

var shellLangs = map[string]bool{"": true, "sh": true, "bash": true, "shell": true, "console": true}

// Extract returns the shell blocks of a Markdown document that hold a curl
// command, with their markers. A marker it cannot read, or a block it
// cannot parse, is an error naming file:line.
func Extract(file string, src []byte) ([]Block, error) {
	var out []Block
	lines := strings.Split(string(src), "\n")
	skip, skipLine := "", 0
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], "\r")
		if markerRE.MatchString(strings.TrimSpace(line)) {
			m := skipRE.FindStringSubmatch(strings.TrimSpace(line))
			if m == nil || strings.TrimSpace(m[1]) == "" {
				return nil, fmt.Errorf("%s:%d: a docs-test marker is <!-- docs-test: skip REASON -->, with a reason", file, i+1)
			}
			skip, skipLine = m[1], i+1
			continue
		}
		f := fenceRE.FindStringSubmatch(line)
		if f == nil {
			if strings.TrimSpace(line) != "" && skip != "" {
				return nil, fmt.Errorf("%s:%d: the skip marker is not followed by a code block", file, skipLine)
			}
			continue
		}
		fence, lang, start := f[2], strings.ToLower(f[3]), i+1
		var body []string
		for i++; i < len(lines); i++ {
			if strings.HasPrefix(strings.TrimSpace(lines[i]), fence) {
				break
			}
			body = append(body, strings.TrimRight(lines[i], "\r"))
		}
		reason := skip
		skip = ""
		if !shellLangs[lang] || !strings.Contains(strings.Join(body, "\n"), "curl") {
			if reason != "" {
				return nil, fmt.Errorf("%s:%d: the skip marker is above a block with no curl command", file, skipLine)
			}
			continue
		}
		steps, err := parseBlock(body, start+1)
		if err != nil {
			return nil, fmt.Errorf("%s:%w", file, err)
		}
		b := Block{File: file, Line: start, Steps: steps, Skip: reason}
		if b.Calls() == 0 {
			continue // "curl" in a comment or a word
		}
		out = append(out, b)
	}
	return out, nil
}

// parseBlock reads the commands of a block whose first line is line first.
func parseBlock(lines []string, first int) ([]Step, error) {
	lx := &lexer{src: strings.Join(lines, "\n") + "\n", line: first}
	var steps []Step
	expect := 0
	for {
		lx.blanks()
		if lx.eof() {
			break
		}
		if lx.peek() == '#' {
			c := lx.comment()
			if m := expectRE.FindStringSubmatch(c); m != nil {
				expect, _ = strconv.Atoi(m[1])
			}
			continue
		}
		line := lx.line
		pipe, err := lx.pipeline(false)
		if err != nil {
			return nil, err
		}
		if len(pipe) == 0 {
			continue
		}
		st := Step{Line: line, Pipe: pipe}
		if len(pipe) == 1 && len(pipe[0].Args) == 1 {
			if name, value, ok := assignment(pipe[0].Args[0]); ok {
				st = Step{Line: line, Assign: name, Value: value}
			}
		}
		if st.calls() > 0 {
			st.Expect, expect = expect, 0
		}
		steps = append(steps, st)
	}
	if expect != 0 {
		return nil, fmt.Errorf("%d: \"# expect %d\" is not followed by a curl command", lx.line-1, expect)
	}
	return steps, nil
}

// assignment splits NAME=value.
func assignment(w Word) (string, Word, bool) {
	if len(w) == 0 || w[0].Text == "" {
		return "", nil, false
	}
	m := assignRE.FindString(w[0].Text)
	if m == "" {
		return "", nil, false
	}
	value := append(Word{{Text: w[0].Text[len(m):]}}, w[1:]...)
	return m[:len(m)-1], value, true
}

// lexer reads the shell subset of a block.
type lexer struct {
	src  string
	pos  int
	line int
}

func (l *lexer) eof() bool  { return l.pos >= len(l.src) }
func (l *lexer) peek() byte { return l.src[l.pos] }

func (l *lexer) next() byte {
	c := l.src[l.pos]
	l.pos++
	if c == '\n' {
		l.line++
	}
	return c
}

func (l *lexer) errorf(format string, args ...any) error {
	return errorAt(l.line, format, args...)
}

func errorAt(line int, format string, args ...any) error {
	return fmt.Errorf("%d: %s", line, fmt.Sprintf(format, args...))
}

// blanks skips spaces, newlines and separators between commands.
func (l *lexer) blanks() {
	for !l.eof() {
		switch c := l.peek(); {
		case c == ' ' || c == '\t' || c == '\n' || c == ';':
			l.next()
		case c == '\\' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '\n':
			l.next()
			l.next()
		default:
			return
		}
	}
}

func (l *lexer) comment() string {
	start := l.pos
	for !l.eof() && l.peek() != '\n' {
		l.next()
	}
	return l.src[start:l.pos]
}

// pipeline reads commands joined by | up to the end of the command (a
// newline, ; or &&, or ) inside $(…)).
func (l *lexer) pipeline(inSub bool) ([]Command, error) {
	var pipe []Command
	var cmd Command
	for {
		// spaces and continuations within a command
		for !l.eof() {
			if c := l.peek(); c == ' ' || c == '\t' {
				l.next()
			} else if c == '\\' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '\n' {
				l.next()
				l.next()
			} else {
				break
			}
		}
		if l.eof() {
			if inSub {
				return nil, l.errorf("$( is not closed")
			}
			break
		}
		c := l.peek()
		switch {
		case c == '\n' || c == ';':
			if inSub {
				return nil, l.errorf("a command inside $(…) ends before its )")
			}
			l.next()
			return append(pipe, cmd), nil
		case c == ')' && inSub:
			l.next()
			return append(pipe, cmd), nil
		case c == '#':
			l.comment()
			continue
		case strings.HasPrefix(l.src[l.pos:], "&&") || strings.HasPrefix(l.src[l.pos:], "||"):
			l.pos += 2
			return append(pipe, cmd), nil
		case c == '|':
			l.next()
			if len(cmd.Args) == 0 {
				return nil, l.errorf("a pipe with no command before it")
			}
			pipe, cmd = append(pipe, cmd), Command{}
			continue
		case c == '>' || c == '<':
			// A redirection: its target is not an argument.
			for !l.eof() && (l.peek() == '>' || l.peek() == '<' || l.peek() == '&') {
				l.next()
			}
			for !l.eof() && (l.peek() == ' ' || l.peek() == '\t') {
				l.next()
			}
			if _, err := l.word(); err != nil {
				return nil, err
			}
			continue
		}
		w, err := l.word()
		if err != nil {
			return nil, err
		}
		cmd.Args = append(cmd.Args, w)
	}
	if len(cmd.Args) > 0 {
		pipe = append(pipe, cmd)
	}
	return pipe, nil
}

// word reads one word.
func (l *lexer) word() (Word, error) {
	var w Word
	text := func(s string) {
		if n := len(w); n > 0 && w[n-1].Var == "" && w[n-1].Sub == nil {
			w[n-1].Text += s
			return
		}
		w = append(w, Part{Text: s})
	}
	for !l.eof() {
		c := l.peek()
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '|' || c == ')' || c == '>' || c == '<' ||
			c == '&' && strings.HasPrefix(l.src[l.pos:], "&&"):
			return w, nil
		case c == '\'':
			opened := l.line
			l.next()
			start := l.pos
			for !l.eof() && l.peek() != '\'' {
				l.next()
			}
			if l.eof() {
				return nil, errorAt(opened, "a ' is not closed")
			}
			text(l.src[start:l.pos])
			l.next()
		case c == '"':
			opened := l.line
			l.next()
			for {
				if l.eof() {
					return nil, errorAt(opened, `a " is not closed`)
				}
				d := l.peek()
				if d == '"' {
					l.next()
					break
				}
				if d == '$' {
					p, err := l.dollar()
					if err != nil {
						return nil, err
					}
					w = append(w, p)
					continue
				}
				l.next()
				if d == '\\' && !l.eof() && strings.IndexByte(`"\$`+"`", l.peek()) >= 0 {
					d = l.next()
				}
				text(string(d))
			}
		case c == '$':
			p, err := l.dollar()
			if err != nil {
				return nil, err
			}
			w = append(w, p)
		case c == '\\':
			l.next()
			if !l.eof() {
				if d := l.next(); d != '\n' {
					text(string(d))
				}
			}
		case c == '`':
			return nil, l.errorf("use $(…), not backquotes")
		default:
			l.next()
			text(string(c))
		}
	}
	return w, nil
}

// dollar reads $NAME, ${NAME} or $(…).
func (l *lexer) dollar() (Part, error) {
	l.next() // $
	if l.eof() {
		return Part{Text: "$"}, nil
	}
	switch l.peek() {
	case '(':
		l.next()
		pipe, err := l.pipeline(true)
		if err != nil {
			return Part{}, err
		}
		if len(pipe) == 0 {
			return Part{}, l.errorf("an empty $()")
		}
		return Part{Sub: pipe}, nil
	case '{':
		l.next()
		start := l.pos
		for !l.eof() && l.peek() != '}' {
			l.next()
		}
		if l.eof() {
			return Part{}, l.errorf("a ${ is not closed")
		}
		name := l.src[start:l.pos]
		l.next()
		return Part{Var: name}, nil
	}
	start := l.pos
	for !l.eof() {
		c := l.peek()
		if c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || l.pos > start && c >= '0' && c <= '9' {
			l.next()
			continue
		}
		break
	}
	if l.pos == start {
		return Part{Text: "$"}, nil
	}
	return Part{Var: l.src[start:l.pos]}, nil
}
