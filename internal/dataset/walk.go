package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/custos-privacy/custos/internal/yamlnode"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The shared YAML node helpers, under the names this package uses.
var (
	resolve  = yamlnode.Resolve
	isNull   = yamlnode.IsNull
	describe = yamlnode.Describe
	truncate = yamlnode.Truncate
	closest  = yamlnode.Closest
)

// walker reads a YAML node tree by hand, keeping every value's position and
// reporting every problem rather than the first.
type walker struct {
	file     string
	problems Problems
	pos      positions
	visited  int
	tooBig   bool
}

const (
	// maxNodes bounds the work per document: aliases can make a small file
	// expand exponentially ("billion laughs"). Real datasets stay far below.
	maxNodes = 200_000
	// maxDepth bounds nested Fides fields.
	maxDepth = 32
)

func newWalker(file string) *walker {
	return &walker{file: file, pos: positions{}}
}

func (w *walker) errorf(n *yaml.Node, format string, args ...any) {
	w.problems = append(w.problems, Problem{File: w.file, Pos: Pos{Line: n.Line, Col: n.Column}, Message: fmt.Sprintf(format, args...)})
}

// record remembers where the value at path is written.
func (w *walker) record(path string, n *yaml.Node) {
	if _, ok := w.pos[path]; !ok {
		w.pos[path] = Pos{Line: n.Line, Col: n.Column}
	}
}

// visit counts a node and reports false once the document is too large.
func (w *walker) visit(n *yaml.Node) bool {
	if w.visited++; w.visited > maxNodes {
		if !w.tooBig {
			w.tooBig = true
			w.errorf(n, "document too large: more than %d values once aliases are expanded", maxNodes)
		}
		return false
	}
	return true
}

var syntaxRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// root parses data as a single YAML document and returns its top node, or nil
// after reporting why there is none.
func (w *walker) root(data []byte, what string) *yaml.Node {
	if len(data) > MaxSize {
		w.problems = append(w.problems, Problem{File: w.file, Pos: Pos{Line: 1, Col: 1}, Message: fmt.Sprintf("%s larger than %d bytes", what, MaxSize)})
		return nil
	}
	empty := Problem{File: w.file, Pos: Pos{Line: 1, Col: 1}, Message: "empty " + what}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			w.problems = append(w.problems, empty)
		} else {
			w.problems = append(w.problems, w.syntax(err))
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		w.errorf(&extra, "more than one YAML document")
		return nil
	case !errors.Is(err, io.EOF):
		w.problems = append(w.problems, w.syntax(err))
		return nil
	}
	n := &doc
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	n = resolve(n)
	if n.Kind == yaml.DocumentNode || isNull(n) {
		w.problems = append(w.problems, empty)
		return nil
	}
	w.record("", n)
	return n
}

func (w *walker) syntax(err error) Problem {
	if m := syntaxRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{File: w.file, Pos: Pos{Line: line, Col: 1}, Message: "YAML syntax: " + m[2]}
	}
	return Problem{File: w.file, Pos: Pos{Line: 1, Col: 1}, Message: "YAML syntax: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

// entry is one key of a mapping: the key node and its value.
type entry struct {
	key, val *yaml.Node
}

// mapping checks that n is a mapping with only known keys, each once, and the
// required ones present and not null. It returns the entries by key.
func (w *walker) mapping(n *yaml.Node, known, required []string) map[string]entry {
	n = resolve(n)
	if !w.visit(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		w.errorf(n, "want a mapping, got %s", describe(n))
		return nil
	}
	out := make(map[string]entry, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			w.errorf(k, "want a key, got %s", describe(k))
			continue
		}
		if !contains(known, k.Value) {
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if s := closest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			w.errorf(k, "%s", msg)
			continue
		}
		if _, dup := out[k.Value]; dup {
			w.errorf(k, "duplicate key %q", k.Value)
			continue
		}
		if contains(required, k.Value) && isNull(v) {
			w.errorf(k, "required key %q has no value", k.Value)
			continue
		}
		out[k.Value] = entry{k, v}
	}
	for _, r := range required {
		if _, ok := out[r]; !ok && !w.hasKey(n, r) {
			w.errorf(n, "missing required key %q", r)
		}
	}
	return out
}

// hasKey reports whether n writes key at all (perhaps with a null value, already reported).
func (w *walker) hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return true
		}
	}
	return false
}

// list returns the items of a sequence; null is an empty list.
func (w *walker) list(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if isNull(n) || !w.visit(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		w.errorf(n, "want a list, got %s", describe(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolve(c)
	}
	return out
}

// str returns a scalar's text; numbers and booleans written unquoted are accepted as strings.
func (w *walker) str(n *yaml.Node) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		w.errorf(n, "want a string, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// enum returns a string that must be one of allowed.
func (w *walker) enum(n *yaml.Node, allowed ...string) (string, bool) {
	s, ok := w.str(n)
	if !ok {
		return "", false
	}
	if !contains(allowed, s) {
		msg := fmt.Sprintf("unknown value %q", s)
		if c := closest(s, allowed); c != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", c)
		}
		w.errorf(n, "%s: want one of %s", msg, strings.Join(allowed, ", "))
		return "", false
	}
	return s, true
}

// boolean reads true or false. Fides files write True and False.
func (w *walker) boolean(n *yaml.Node) bool {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		w.errorf(n, "want true or false, got %s", describe(n))
		return false
	}
	b, _ := strconv.ParseBool(strings.ToLower(n.Value))
	return b
}

// strings reads a list of strings, recording each item's position under path[i].
func (w *walker) strings(n *yaml.Node, path string) []string {
	var out []string
	for _, item := range w.list(n) {
		if s, ok := w.str(item); ok {
			w.record(fmt.Sprintf("%s[%d]", path, len(out)), item)
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
