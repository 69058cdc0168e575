package text

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSON finds a string in a JSON document, a member name or a value at
// any depth, that breaks the rule, and reports where: a dotted path such
// as "identities.0.value" or "evidence.note", cut short before the first
// member name not fit to repeat (see Nameable). ok is true when every
// string is good text, and when doc is not JSON at all (the decoder
// reports that). encoding/json turns invalid UTF-8 into U+FFFD as it
// decodes, so the bytes themselves are checked too.
func JSON(doc []byte) (path string, ok bool) {
	if plain(doc) {
		return "", true
	}
	bad := -1 // offset of the first byte that is not UTF-8
	if !utf8.Valid(doc) {
		bad = invalidAt(doc)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var stack []frame
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			return "", true
		}
		if err != nil {
			return "", true
		}
		end := dec.InputOffset()
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, frame{object: t == '{', wantKey: true})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 {
					stack[len(stack)-1].next()
				}
			}
		case string:
			broken := bad >= int(start) && bad < int(end)
			if top != nil && top.object && top.wantKey {
				if broken || !Valid(t, false) {
					return pathOf(stack, false), false
				}
				top.key, top.wantKey = t, false
				continue
			}
			if broken || !Valid(t, multiLineAt(stack)) {
				return pathOf(stack, true), false
			}
			if top != nil {
				top.next()
			}
		default:
			if top != nil {
				top.next()
			}
		}
	}
}

// frame is an object or array being read.
type frame struct {
	object  bool
	wantKey bool   // object: the next string is a member name
	key     string // object: the member being read
	index   int    // array: the element being read
}

func (f *frame) next() {
	if f.object {
		f.wantKey = true
	} else {
		f.index++
	}
}

// pathOf names the place being read: with the member or element being
// read (value) or only the object it is in (a member name).
func pathOf(stack []frame, value bool) string {
	var parts []string
	for i, f := range stack {
		if !value && i == len(stack)-1 {
			break
		}
		if !f.object {
			parts = append(parts, strconv.Itoa(f.index))
			continue
		}
		if !Nameable(f.key) {
			break
		}
		parts = append(parts, f.key)
	}
	return strings.Join(parts, ".")
}

// multiLineAt tells whether the value being read lies in a field that
// may run over several lines.
func multiLineAt(stack []frame) bool {
	for _, f := range stack {
		if f.object && MultiLine(f.key) {
			return true
		}
	}
	return false
}

// plain reports whether doc is printable ASCII and JSON whitespace with
// no escapes: no string in it can hold a control character or invalid
// UTF-8, and the common body is passed without a second parse.
func plain(doc []byte) bool {
	for _, c := range doc {
		if c >= 0x20 && c < 0x7f && c != '\\' || c == '\t' || c == '\n' || c == '\r' {
			continue
		}
		return false
	}
	return true
}

func invalidAt(doc []byte) int {
	for i := 0; i < len(doc); {
		r, n := utf8.DecodeRune(doc[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}
