package manifest

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// MaxSize bounds a manifest file; anything larger is not a hand-written manifest.
const MaxSize = 8 << 20

//go:embed builtin.yaml
var builtinYAML []byte

// Builtins is the vocabulary every manifest can reference.
type Builtins struct {
	Categories        []Category `yaml:"categories"`
	NoConsentCases    []Ref      `yaml:"no_consent_cases"`
	RefusalGrounds    []Ref      `yaml:"refusal_grounds"`
	LegalHolds        []Ref      `yaml:"legal_holds"`
	SharingExceptions []Ref      `yaml:"sharing_exceptions"`
	// StatutoryRefusalGrounds are the refusal grounds each jurisdiction's
	// law gives (see Manifest.RefusalGroundsIn).
	StatutoryRefusalGrounds []StatutoryGrounds `yaml:"statutory_refusal_grounds"`
}

// StatutoryGrounds are the refusal grounds a jurisdiction's law gives.
type StatutoryGrounds struct {
	Jurisdiction string   `yaml:"jurisdiction"`
	Law          Text     `yaml:"law"`
	Grounds      []string `yaml:"grounds"`
}

var builtins = sync.OnceValue(func() *Builtins {
	var b Builtins
	if err := decodeInto("builtin.yaml", builtinYAML, &b); err != nil {
		panic("manifest: built-in vocabulary is invalid: " + err.Error())
	}
	return &b
})

// BuiltinVocabulary returns the built-in taxonomy and statutory lists.
func BuiltinVocabulary() *Builtins { return builtins() }

// Load reads and validates the manifest at path.
func Load(path string) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a manifest. name is used in problem positions.
// On failure the error is Problems listing everything found, in file order.
func Parse(name string, data []byte) (*Manifest, error) {
	if len(data) > MaxSize {
		return nil, Problems{{File: name, Pos: Pos{1, 1}, Message: fmt.Sprintf("manifest larger than %d bytes", MaxSize)}}
	}
	var m Manifest
	pos, failed, problems := decodeFile(name, data, &m)
	if problems != nil && len(pos) == 0 {
		return nil, problems
	}
	v := &validator{m: &m, pos: pos, failed: failed, file: name}
	v.run()
	problems = append(problems, v.problems...)
	if len(problems) > 0 {
		problems.sort()
		return nil, problems.capped()
	}
	m.index()
	m.src = &source{file: name, pos: pos}
	return &m, nil
}

// decodeFile decodes data into out. It returns the positions of every value
// seen and the problems found; positions are empty when the YAML itself is unreadable.
func decodeFile(name string, data []byte, out any) (positions, map[string]bool, Problems) {
	empty := Problems{{File: name, Pos: Pos{1, 1}, Message: "empty manifest"}}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, empty
		}
		return nil, nil, Problems{syntaxAt(name, data, err)}
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, nil, Problems{{File: name, Pos: Pos{extra.Line, extra.Column}, Message: "more than one YAML document"}}
	case !errors.Is(err, io.EOF):
		return nil, nil, Problems{syntaxProblem(name, err)}
	}
	n := &root
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.DocumentNode || isNull(n) {
		return nil, nil, empty
	}
	d := &decoder{pos: positions{}, failed: map[string]bool{}}
	d.decode(n, reflect.ValueOf(out).Elem(), "", "")
	var ps Problems
	for _, p := range d.problems {
		ps = append(ps, Problem{File: name, Pos: p.pos, Message: p.msg})
	}
	return d.pos, d.failed, ps
}

func decodeInto(name string, data []byte, out any) error {
	_, _, ps := decodeFile(name, data, out)
	if len(ps) > 0 {
		ps.sort()
		return ps.capped()
	}
	return nil
}

// syntaxAt reports a YAML syntax error at the line that causes it. The
// YAML library names the start of the enclosing block (its context mark),
// which can be far above the mistake; the offending line is the first
// whose inclusion makes a prefix of the document fail the same way. Prefixes
// are searched by bisection, so a large manifest costs a dozen parses.
func syntaxAt(name string, data []byte, err error) Problem {
	p := syntaxProblem(name, err)
	lines := bytes.SplitAfter(data, []byte("\n"))
	fails := func(k int) bool {
		var n yaml.Node
		e := yaml.Unmarshal(bytes.Join(lines[:k], nil), &n)
		return e != nil && syntaxProblem(name, e).Message == p.Message
	}
	if len(lines) < 2 || !fails(len(lines)) {
		return p
	}
	lo, hi := 0, len(lines) // fails(hi); the smallest failing prefix is in (lo, hi]
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	if hi < p.Pos.Line {
		return p // the library's line is already the earlier one
	}
	line := string(lines[hi-1])
	col := len(line) - len(strings.TrimLeft(line, " \t")) + 1
	p.Pos = Pos{hi, col}
	return p
}
