package scan

import (
	"bufio"
	"io"
	"path"
	"strings"
)

// ignoreRule is one .gitignore-style pattern.
type ignoreRule struct {
	base     string   // directory the pattern is relative to ("" for the root)
	segs     []string // pattern split at '/'
	negate   bool
	dirOnly  bool
	anchored bool // contains a '/' other than a trailing one: matched from base
}

// Ignore matches paths against .gitignore-style patterns: '#' comments,
// '!' negation, a trailing '/' for directories only, a '/' elsewhere to
// anchor the pattern to its directory, '*', '?', '[…]' within a name and
// '**' for any number of directories. The last matching pattern wins.
type Ignore struct {
	rules []ignoreRule
}

// Add adds one pattern, relative to directory base (slash-separated,
// "" for the top).
func (ig *Ignore) Add(base, pattern string) {
	p := strings.TrimRight(pattern, " \t\r")
	if p == "" || strings.HasPrefix(p, "#") {
		return
	}
	r := ignoreRule{base: strings.Trim(base, "/")}
	if strings.HasPrefix(p, `\`) {
		p = p[1:]
	} else if strings.HasPrefix(p, "!") {
		r.negate, p = true, p[1:]
	}
	if strings.HasSuffix(p, "/") {
		r.dirOnly, p = true, strings.TrimRight(p, "/")
	}
	if strings.Contains(p, "/") {
		r.anchored = true
		p = strings.TrimPrefix(p, "/")
	}
	if p == "" {
		return
	}
	r.segs = strings.Split(p, "/")
	ig.rules = append(ig.rules, r)
}

// Read adds every pattern of an ignore file found in directory base.
func (ig *Ignore) Read(base string, r io.Reader) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		ig.Add(base, sc.Text())
	}
	return sc.Err()
}

// Match reports whether rel (slash-separated, relative to the top) is
// ignored.
func (ig *Ignore) Match(rel string, dir bool) bool {
	rel = strings.Trim(rel, "/")
	ignored := false
	for _, r := range ig.rules {
		if r.dirOnly && !dir {
			continue
		}
		sub := rel
		if r.base != "" {
			var ok bool
			sub, ok = strings.CutPrefix(rel, r.base+"/")
			if !ok {
				continue
			}
		}
		parts := strings.Split(sub, "/")
		var m bool
		if r.anchored {
			m = matchSegs(r.segs, parts)
		} else {
			m = matchName(r.segs[0], parts[len(parts)-1])
		}
		if m {
			ignored = !r.negate
		}
	}
	return ignored
}

func matchName(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

// matchSegs matches path segments against pattern segments, '**' matching
// zero or more segments.
func matchSegs(pat, parts []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			if len(rest) == 0 {
				return true
			}
			for i := 0; i <= len(parts); i++ {
				if matchSegs(rest, parts[i:]) {
					return true
				}
			}
			return false
		}
		if len(parts) == 0 || !matchName(pat[0], parts[0]) {
			return false
		}
		pat, parts = pat[1:], parts[1:]
	}
	return len(parts) == 0
}
