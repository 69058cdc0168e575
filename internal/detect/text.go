package detect

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Span is personal information found in running text: a log line, a CSV
// cell, a JSON string, a paragraph.
type Span struct {
	// Start and End are byte offsets into the text given to Text, End
	// exclusive; text[Start:End] is the value as written (full-width
	// digits, separators and all).
	Start, End int
	Category   string  // built-in category id, e.g. "basic.phone"
	Detector   string  // which detector found it, e.g. "prc_mobile"
	Confidence float64 // 0..1, raised or lowered by context words
	// Masked reports a value written masked (138****1234): it is
	// reported so that a reviewer sees where such values go, but it is
	// not personal information in clear.
	Masked bool
}

// TextOptions narrows what TextWith reports.
type TextOptions struct {
	// MinConfidence drops spans below it; zero keeps every span.
	MinConfidence float64
	// Detectors, when not empty, keeps only spans of the named detectors
	// (see Detectors for the names).
	Detectors []string
}

// Text finds personal information in s and returns the spans sorted by
// Start, none overlapping. It never returns or logs anything but offsets:
// the caller decides what to show.
func Text(s string) []Span { return TextWith(s, TextOptions{}) }

// TextWith is Text with options.
//
// The text is read once, front to back. Runs of characters that can make up
// a value (ASCII and full-width letters and digits, the punctuation of
// addresses, separators between digit groups, "%40" for "@") are
// normalised into a small buffer with a map back to byte offsets; each run
// is handed to the validators its shape admits. Chinese characters that may
// open a licence plate, a name or an address start their own small
// matchers. Context words are looked up only around a value that validated.
func TextWith(s string, opts TextOptions) []Span {
	sc := scanner{s: s, opts: opts}
	sc.run()
	return sc.out
}

// maxTok bounds a token: every value read here is far shorter. Longer runs
// are read in maxTok pieces, which can only miss values, never misplace them.
const maxTok = 128

type scanner struct {
	s    string
	opts TextOptions
	out  []Span
	// The token being read: normalised ASCII bytes and, for each, the byte
	// offset in s where its character starts; off[n] is where the last ends.
	buf [maxTok]byte
	off [maxTok + 1]int
	n   int
	// lastEnd is the end of the last span emitted; nothing may start before it.
	lastEnd int
	// pend holds the personal parts of a URL ahead of the scan, emitted
	// when the scan reaches them.
	pend   [4][2]int
	npend  int
	urlEnd int // where the last URL read ends
	// The context of the value at ctxPos-1 (0: none yet).
	ctxPos  int
	ctxBits ctxBits
	// tokStart is where the token being handled starts.
	tokStart int
	// inList: the name being read follows another in a list after a trigger.
	inList bool
	// An extension cut from the token: token indices where it starts and ends, or -1.
	extAt, extEnd int
}

// emit records a span unless it overlaps the previous one or the options drop it.
func (sc *scanner) emit(start, end int, det string, conf float64, masked bool) {
	if start < sc.lastEnd || end <= start {
		return
	}
	conf = math.Round(clamp(conf)*100) / 100
	if conf < sc.opts.MinConfidence {
		return
	}
	if len(sc.opts.Detectors) > 0 && !slices.Contains(sc.opts.Detectors, det) {
		return
	}
	sc.out = append(sc.out, Span{Start: start, End: end, Category: detectorCategory(det), Detector: det, Confidence: conf, Masked: masked})
	sc.lastEnd = end
}

// emitTok emits the token bytes [a,b) of the current token.
func (sc *scanner) emitTok(a, b int, det string, conf float64, masked bool) {
	sc.emit(sc.off[a], sc.off[b], det, conf, masked)
}

// normAt reads the character at s[i] and returns its ASCII equivalent (0 if
// it has none) and its length in bytes. Full-width forms U+FF01–U+FF5E map to
// their ASCII twins, the ideographic space to a space, and "%40" to "@".
func normAt(s string, i int) (byte, int) {
	c := s[i]
	if c < 0x80 {
		if c == '%' && i+2 < len(s) && s[i+1] == '4' && s[i+2] == '0' {
			return '@', 3
		}
		return c, 1
	}
	if c == 0xEF && i+2 < len(s) {
		c1, c2 := s[i+1], s[i+2]
		switch {
		case c1 == 0xBC && c2 >= 0x81 && c2 <= 0xBF: // U+FF01–U+FF3F
			return c2 - 0x81 + 0x21, 3
		case c1 == 0xBD && c2 >= 0x80 && c2 <= 0x9E: // U+FF40–U+FF5E
			return c2 - 0x80 + 0x60, 3
		}
	}
	if c == 0xE3 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2] == 0x80 { // U+3000
		return ' ', 3
	}
	if c >= 0xE0 && c < 0xF0 && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 && (c != 0xE0 || s[i+1] >= 0xA0) && (c != 0xED || s[i+1] < 0xA0) {
		return 0, 3 // the common case, decoded by hand
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return 0, n
}

func tokByte(c byte) bool { return tokBytes[c] }

var tokBytes = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isAlnum(byte(c)) || c == '@' || c == '.' || c == '_' || c == '-' || c == '+' || c == '*'
	}
	return t
}()

func (sc *scanner) run() {
	s := sc.s
	for i := 0; i < len(s); {
		if sc.npend > 0 && i >= sc.pend[0][0] {
			p := sc.pend[0]
			copy(sc.pend[:], sc.pend[1:sc.npend])
			sc.npend--
			if i == p[0] {
				v := s[p[0]:p[1]]
				sc.emit(p[0], p[1], DetPersonalURL, 0.7, strings.Contains(v, "*") || strings.Contains(v, "＊"))
				i = max(i, p[1])
				continue
			}
		}
		if c := s[i]; c < 0x80 && !tokByte(c) && c != '(' && c != '%' {
			i++ // the common case: ASCII space and punctuation
			continue
		}
		c, n := normAt(s, i)
		if c == '(' && i+1 < len(s) && isDigit(s[i+1]) {
			i = sc.token(i)
			continue
		}
		if c == 0 || !tokByte(c) {
			if c == 0 && n == 3 {
				if adv := sc.cjk(i); adv > 0 {
					i = adv
					continue
				}
			}
			i += n
			continue
		}
		if lower(c) == 'h' && hasPrefixFold(s[i:], "http") {
			sc.url(i)
		}
		i = sc.token(i)
	}
}

// token reads the token starting at i into the buffer, hands it to the
// validators and returns where it ends.
func (sc *scanner) token(i int) int {
	s := sc.s
	sc.n = 0
	hexish := true // every byte so far a hex digit, '.' or ':' — a ':' may follow
	open := false  // a '(' of an area code is open: (010) 1234 5678, +46 (0)8 …
	for i < len(s) && sc.n < maxTok {
		var c byte
		var n int
		if b := s[i]; b < 0x80 && b != '%' {
			c, n = b, 1
		} else {
			c, n = normAt(s, i)
		}
		switch {
		case c != 0 && tokByte(c):
		case c == '(' && !open && (sc.n == 0 || sc.buf[sc.n-1] == ' ') && i+1 < len(s) && isDigit(s[i+1]):
			open = true
		case c == ')' && open && isDigit(sc.buf[sc.n-1]) && i+1 < len(s) && (isDigit(s[i+1]) || s[i+1] == ' ' && i+2 < len(s) && isDigit(s[i+2])):
			open = false
		case c == ':' && sc.n == 0 && i+1 < len(s) && s[i+1] == ':':
		case c == ':' && hexish && sc.n > 0 && i+n < len(s) && nextHexOrColon(s, i+n):
		case c == ' ' || c == '\n' || c == '\r' || c == '\t':
			// One separator (or "\r\n") inside a number or a grouped IBAN.
			j := i + n
			if c == '\r' {
				if j >= len(s) || s[j] != '\n' {
					goto done
				}
				j++
			}
			if sc.n == 0 || j >= len(s) {
				goto done
			}
			p := sc.buf[sc.n-1]
			nc, _ := normAt(s, j)
			if nc == '(' && !open && j+1 < len(s) && isDigit(s[j+1]) {
				nc = '0' // "+46 (0)8": the bracket opens the next group
			}
			num := (isDigit(p) || p == '*' || p == ')') && (isDigit(nc) || nc == '*')
			iban := c == ' ' && isAlnum(p) && isAlnum(nc) && sc.ibanLike()
			if !num && !iban {
				goto done
			}
			if c != ' ' {
				c = '\n' // a line break, kept apart: loose matches do not cross it
			}
			n = j - i
		default:
			goto done
		}
		if !isHex(c) && c != '.' && c != ':' {
			hexish = false
		}
		sc.buf[sc.n] = c
		sc.off[sc.n] = i
		sc.n++
		i += n
	}
done:
	sc.off[sc.n] = i
	// Every value read from a token holds a digit or an '@': a word of
	// letters alone is prose.
	for _, c := range sc.buf[:sc.n] {
		if isDigit(c) || c == '@' {
			sc.handle()
			break
		}
	}
	return i
}

func nextHexOrColon(s string, i int) bool {
	c, _ := normAt(s, i)
	return isHex(c) || c == ':'
}

// ibanLike reports whether the token so far is an IBAN's first groups:
// two letters, two digits, then groups of four after single spaces.
func (sc *scanner) ibanLike() bool {
	b := sc.buf[:sc.n]
	if len(b) < 4 || len(b)%5 != 4 || !isLetter(b[0]) || !isLetter(b[1]) || !isDigit(b[2]) || !isDigit(b[3]) {
		return false
	}
	for k := 4; k < len(b); k += 5 {
		if b[k] != ' ' {
			return false
		}
	}
	return true
}

func hasByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case in s.
func hasPrefixFold[T string | []byte](s T, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lower(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
