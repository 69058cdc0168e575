package manifest

import (
	"fmt"
	"github.com/custos-privacy/custos/internal/yamlnode"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

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

// Pos is a position in a manifest file (1-based).
type Pos struct {
	Line, Col int
}

// Problem is one thing wrong with a manifest.
type Problem struct {
	File    string
	Pos     Pos
	Message string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Pos.Line, p.Pos.Col, p.Message)
}

// Problems is every problem found in a manifest, in file order.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// capped cuts a sorted report after maxProblems, saying so at the end.
func (ps Problems) capped() Problems {
	if len(ps) <= maxProblems {
		return ps
	}
	last := ps[maxProblems-1]
	out := append(Problems{}, ps[:maxProblems]...)
	return append(out, Problem{File: last.File, Pos: last.Pos, Message: fmt.Sprintf("too many problems: %d more not shown", len(ps)-maxProblems)})
}

func (ps Problems) sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Pos.Line != ps[j].Pos.Line {
			return ps[i].Pos.Line < ps[j].Pos.Line
		}
		if ps[i].Pos.Col != ps[j].Pos.Col {
			return ps[i].Pos.Col < ps[j].Pos.Col
		}
		return ps[i].Message < ps[j].Message
	})
}

// positions maps a value's path ("services[2].collects[0].purposes") to where it is written.
type positions map[string]Pos

// lookup returns the position of path, or of its nearest written ancestor.
func (p positions) lookup(path string) Pos {
	for {
		if pos, ok := p[path]; ok {
			return pos
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return p[""]
		}
		path = path[:i]
	}
}

// decoder turns a YAML node tree into Go values, checking keys, types,
// required fields and enumerations, and recording every value's position.
type decoder struct {
	problems []decodeProblem
	pos      positions
	depth    int
	visited  int // nodes decoded, aliases counted each time they are followed
	tooBig   bool
	failed   map[string]bool // paths whose value could not be decoded
}

type decodeProblem struct {
	pos Pos
	msg string
}

// maxProblems bounds the report; past it a file is not worth reading line by line.
const maxProblems = 500

// errorf records a problem. Every one is kept (maxNodes bounds them) because
// the report is cut only after sorting: a mapping's missing keys are found
// after its children but come first in file order.
func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.problems = append(d.problems, decodeProblem{Pos{n.Line, n.Column}, fmt.Sprintf(format, args...)})
}

const (
	maxDepth = 64
	// maxNodes bounds the work per document: aliases can make a small file
	// expand exponentially ("billion laughs"). Real manifests stay far below.
	maxNodes = 200_000
)

var (
	textType = reflect.TypeOf(Text(nil))
	dateType = reflect.TypeOf(Date(""))
	refType  = reflect.TypeOf(Ref{})
	dateRE   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// textLangs are the keys a Text may carry.
var textLangs = map[string]bool{KeyZH: true, KeyZHHant: true, KeyEN: true}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, tag reflect.StructTag) {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		d.errorf(n, "nesting too deep")
		return
	}
	if d.visited++; d.visited > maxNodes {
		if !d.tooBig {
			d.tooBig = true
			d.errorf(n, "document too large: more than %d values once aliases are expanded", maxNodes)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.errorf(n, "unresolved alias")
			return
		}
		d.decode(n.Alias, v, path, tag)
		return
	}
	if _, seen := d.pos[path]; !seen {
		d.pos[path] = Pos{n.Line, n.Column}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an explicit null leaves the zero value; required checks happen on keys
	}
	t := v.Type()
	switch {
	case t == textType:
		d.decodeText(n, v, path)
	case t == dateType:
		s, ok := d.scalar(n, "a date (YYYY-MM-DD)")
		if !ok {
			return
		}
		if !dateRE.MatchString(s) {
			d.errorf(n, "invalid date %q: want YYYY-MM-DD", s)
			return
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			d.errorf(n, "invalid date %q: no such day", s)
			return
		}
		v.SetString(s)
	case t == refType && n.Kind == yaml.ScalarNode:
		s, ok := d.scalar(n, "an id or a mapping")
		if ok {
			v.Field(0).SetString(s)
			d.pos[path+".id"] = Pos{n.Line, n.Column}
		}
	case t.Kind() == reflect.Pointer:
		nv := reflect.New(t.Elem())
		d.decode(n, nv.Elem(), path, tag)
		v.Set(nv)
	case t.Kind() == reflect.Struct:
		d.decodeStruct(n, v, path)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, "want a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i), tag)
		}
		v.Set(s)
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, "want a mapping, got %s", describe(n))
			return
		}
		m := reflect.MakeMapWithSize(t, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := resolve(n.Content[i]), n.Content[i+1]
			key, ok := d.scalar(k, "a key")
			if !ok {
				continue
			}
			if m.MapIndex(reflect.ValueOf(key)).IsValid() {
				d.errorf(k, "duplicate key %q", key)
				continue
			}
			ev := reflect.New(t.Elem()).Elem()
			d.pos[path+"."+key+"@key"] = Pos{k.Line, k.Column}
			d.decode(val, ev, path+"."+key, tag)
			m.SetMapIndex(reflect.ValueOf(key), ev)
		}
		v.Set(m)
	case t.Kind() == reflect.String:
		s, ok := d.scalar(n, "a string")
		if !ok {
			return
		}
		if allowed := tag.Get("enum"); allowed != "" && !inList(allowed, s) {
			d.errorf(n, "unknown value %q: want one of %s", s, strings.ReplaceAll(allowed, ",", ", "))
			return
		}
		v.SetString(s)
	case t.Kind() == reflect.Int:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.errorf(n, "want an integer, got %s", describe(n))
			return
		}
		i, err := strconv.ParseInt(n.Value, 0, 32)
		if err != nil {
			d.errorf(n, "integer %s out of range", n.Value)
			return
		}
		v.SetInt(i)
	case t.Kind() == reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.errorf(n, "want true or false, got %s", describe(n))
			return
		}
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		v.SetBool(b)
	default:
		panic("manifest: no decoder for " + t.String())
	}
}

func (d *decoder) decodeText(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "want text in each language ({zh: …, en: …}), got %s", describe(n))
		return
	}
	m := make(Text, 2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode || !textLangs[k.Value] {
			d.errorf(k, "unknown language %q: want zh, zh-Hant or en", k.Value)
			continue
		}
		if _, dup := m[k.Value]; dup {
			d.errorf(k, "duplicate key %q", k.Value)
			continue
		}
		if isNull(val) {
			continue // reported as a missing language by validation
		}
		s, ok := d.scalar(val, "a string")
		if !ok {
			continue
		}
		d.pos[path+"."+k.Value] = Pos{val.Line, val.Column}
		m[k.Value] = strings.TrimSpace(s)
	}
	v.Set(reflect.ValueOf(m))
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "want a mapping, got %s", describe(n))
		return
	}
	t := v.Type()
	fields := fieldsOf(t)
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "want a key, got %s", describe(k))
			continue
		}
		f, ok := fields.byKey[k.Value]
		if !ok {
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if s := closest(k.Value, fields.keys); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.errorf(k, "%s", msg)
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = true
		sub := k.Value
		if path != "" {
			sub = path + "." + k.Value
		}
		d.pos[sub] = Pos{val.Line, val.Column}
		if f.required && isNull(val) {
			d.errorf(k, "required key %q has no value", k.Value)
			d.failed[sub] = true
			continue
		}
		before := len(d.problems)
		d.decode(val, v.Field(f.index), sub, f.tag)
		if len(d.problems) > before {
			d.failed[sub] = true
		}
		if rv := v.Field(f.index); f.required && rv.Kind() == reflect.Slice && rv.Len() == 0 && !isNull(val) && len(d.problems) == before {
			d.errorf(val, "%q needs at least one entry", k.Value)
		}
	}
	var missing []string
	for _, f := range fields.list {
		if f.required && !seen[f.key] {
			missing = append(missing, f.key)
		}
	}
	for _, key := range missing {
		d.errorf(n, "missing required key %q", key)
	}
}

// scalar returns a scalar node's text; strings may be written unquoted as numbers.
func (d *decoder) scalar(n *yaml.Node, want string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "want %s, got %s", want, describe(n))
		return "", false
	}
	return n.Value, true
}

func inList(list, s string) bool {
	for _, x := range strings.Split(list, ",") {
		if x == s {
			return true
		}
	}
	return false
}

type field struct {
	key      string
	index    int
	required bool
	tag      reflect.StructTag
}

type fieldSet struct {
	list  []field
	byKey map[string]field
	keys  []string
}

// fieldsOf lists a struct's YAML fields in declaration order.
func fieldsOf(t reflect.Type) fieldSet {
	fs := fieldSet{byKey: map[string]field{}}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		key := FieldKey(sf)
		if key == "" {
			continue
		}
		f := field{key: key, index: i, required: sf.Tag.Get("req") == "true", tag: sf.Tag}
		fs.list = append(fs.list, f)
		fs.byKey[key] = f
		fs.keys = append(fs.keys, key)
	}
	return fs
}
