package detect

import "strings"

// Numbers in running text: digit groups joined by single spaces, dashes,
// dots or line breaks, read into the longest value a validator accepts.

type group struct {
	a, e int  // token indices of the group's characters
	sep  byte // separator before the group, 0 for the first
}

// handle reads the token in the buffer.
func (sc *scanner) handle() {
	b := sc.buf[:sc.n]
	sc.tokStart = sc.off[0]
	a, e := sc.trim(0, len(b))
	if e-a < 4 {
		return
	}
	if hasByte(b[a:e], '@') {
		sc.emails(a, e)
		return
	}
	// A label glued on with a dash: 082 490 1693-Office.
	if k := gluedLabel(b[a:e]); k > 0 {
		e = a + k
	}
	// An extension after a telephone number: 345-899-3560x4587.
	sc.extAt, sc.extEnd = -1, -1
	if x := extension(b[a:e]); x > 0 {
		sc.extAt, sc.extEnd = a+x, e
		e = a + x
	}
	sc.part(a, e)
}

// trim narrows the token's b[a:e] to where a value may start (a digit,
// a letter, '*', or '+' or '(' before a digit) and end (not on a
// separator).
func (sc *scanner) trim(a, e int) (int, int) {
	b := sc.buf[:]
	for a < e && !((b[a] == '+' || b[a] == '(') && a+1 < e && isDigit(b[a+1]) || b[a] == '*' || isAlnum(b[a])) {
		a++
	}
	for e > a && (b[e-1] == '.' || b[e-1] == '-' || b[e-1] == '_' || b[e-1] == '+' || b[e-1] == ' ' || b[e-1] == '\n') {
		e--
	}
	return a, e
}

// isNumeric reports whether the token's b[a:e] is digit groups only.
func (sc *scanner) isNumeric(a, e int) bool {
	b := sc.buf[:]
	for k := a; k < e; k++ {
		switch c := b[k]; {
		case isDigit(c), c == '*', c == ' ', c == '\n', c == '-', c == '.', c == '(', c == ')':
		case c == '+' && k == a:
		case (c == 'X' || c == 'x') && k > a && isDigit(b[k-1]) && (k == e-1 || b[k+1] == ' '):
		default:
			return false
		}
	}
	return true
}

// part reads b[a:e] as digit groups or as letters and digits. A line
// break joins digits only inside a number: a token that is not one
// ("…079802\n2026-06-09T04") is read line by line, or the value ending a
// line would be lost to the next line's letters.
func (sc *scanner) part(a, e int) {
	b := sc.buf[:]
	a, e = sc.trim(a, e)
	if e-a < 4 {
		return
	}
	if sc.isNumeric(a, e) {
		sc.numeric(a, e)
		return
	}
	for k := a; k < e; k++ {
		if b[k] == '\n' {
			sc.part(a, k)
			sc.part(k+1, e)
			return
		}
	}
	sc.alnum(a, e)
}

// numeric reads a token of digit groups.
func (sc *scanner) numeric(a, e int) {
	b := sc.buf[:]
	plus := b[a] == '+'
	if plus {
		a++
	}
	var gs [24]group
	ng := 0
	for k := a; k < e && ng < len(gs); {
		// A separator is one of " -." or brackets with a space; it
		// counts as the dot or dash it holds, else as a space.
		var sep byte
		nl := false
		for k < e && (b[k] == ' ' || b[k] == '\n' || b[k] == '-' || b[k] == '.' || b[k] == '(' || b[k] == ')') {
			switch {
			case b[k] == '.' || b[k] == '-' && sep != '.':
				sep = b[k]
			case sep == 0:
				sep = ' '
			}
			nl = nl || b[k] == '\n'
			k++
		}
		if nl && sep == ' ' {
			sep = '\n'
		}
		if ng == 0 {
			sep = 0
		}
		st := k
		for k < e && (isDigit(b[k]) || b[k] == '*' || b[k] == 'X' || b[k] == 'x') {
			k++
		}
		if k == st {
			break
		}
		gs[ng] = group{st, k, sep}
		ng++
	}
	g := gs[:ng]
	if ng == 1 && g[0].e-g[0].a == 4 && sc.chineseDate(g[0]) {
		return
	}
	// Dotted sections: an IPv4 address, or a decimal, version or other
	// dotted number that is nothing here.
	lo := 0
	for k := 0; k < len(g); {
		if k+1 < len(g) && g[k+1].sep == '.' {
			m := k + 1
			for m < len(g) && g[m].sep == '.' {
				m++
			}
			sc.area(g, lo, k, plus && lo == 0)
			sc.dotted(g[k:m], plus && k == 0)
			k, lo = m, m
			continue
		}
		k++
	}
	sc.area(g, lo, len(g), plus && lo == 0)
}

// dotted reads groups joined by dots: only an IPv4 address is a value.
func (sc *scanner) dotted(g []group, plus bool) {
	if len(g) >= 3 && len(g) <= 6 && sc.dottedPhone(g, plus) {
		return
	}
	if len(g) != 4 || plus {
		return
	}
	small := true
	for _, x := range g {
		n := x.e - x.a
		if n > 3 || n > 1 && sc.buf[x.a] == '0' || hasByte(sc.buf[x.a:x.e], '*') || hasByte(sc.buf[x.a:x.e], 'X') || hasByte(sc.buf[x.a:x.e], 'x') {
			return
		}
		if atoi(sc.buf[x.a:x.e]) > 255 {
			return
		}
		small = small && n == 1
	}
	start, end := sc.off[g[0].a], sc.off[g[3].e]
	ctx := sc.context(start)
	if ctx&ctxVersion != 0 || start > 0 && lower(sc.s[start-1]) == 'v' {
		return
	}
	// Dotted quads of single digits (1.4.2.1) number sections and
	// versions as often as they address hosts.
	// 0.x.x.x and 127.x.x.x address no one.
	if first := atoi(sc.buf[g[0].a:g[0].e]); small && ctx&ctxIP == 0 || first == 0 || first == 127 {
		return
	}
	conf := 0.9
	if small {
		conf = 0.6
	}
	sc.emit(start, end, DetIP, conf, false)
}

// chineseDate reads a date of birth written 1990年3月7日 after a word
// naming one; the year is the group g.
func (sc *scanner) chineseDate(g group) bool {
	s := sc.s
	start, j := sc.off[g.a], sc.off[g.e]
	num := func(suffix string) int {
		n, k := 0, 0
		for k < 2 && j < len(s) {
			c, w := normAt(s, j)
			if !isDigit(c) {
				break
			}
			n, j, k = n*10+int(c-'0'), j+w, k+1
		}
		if k == 0 || !strings.HasPrefix(s[j:], suffix) {
			return -1
		}
		j += len(suffix)
		return n
	}
	if !strings.HasPrefix(s[j:], "年") {
		return false
	}
	j += len("年")
	m := num("月")
	if m < 0 {
		return false
	}
	d := num("日")
	if d < 0 {
		return false
	}
	if !plausibleBirth(atoi(sc.buf[g.a:g.e]), m, d) || sc.context(start)&ctxBirth == 0 {
		return false
	}
	sc.emit(start, j, DetBirthDate, 0.85, false)
	return true
}

// area tries every run of groups in g[lo:hi], longest first from the left.
// Groups that make up an ID number's shape (seventeen digits and X) are
// read whole or not at all: no shorter number hides in them.
func (sc *scanner) area(g []group, lo, hi int, plus bool) {
	if hi > lo && !plus {
		n, last := 0, g[hi-1]
		for _, x := range g[lo:hi] {
			n += x.e - x.a
		}
		if c := sc.buf[last.e-1]; n == 18 && (c == 'X' || c == 'x') {
			sc.groups(g, lo, hi, false)
			return
		}
	}
	for x := lo; x < hi; {
		found := false
		for y := min(hi, x+8); y > x; y-- {
			if sc.groups(g, x, y, plus && x == 0) {
				x, found = y, true
				break
			}
		}
		if !found {
			x++
		}
	}
}

// groups validates the digits of g[x:y] and emits what they are. It
// reports true when the groups are taken, as a value or as a hard
// negative (an order number, a price) that no shorter run may reuse.
func (sc *scanner) groups(g []group, x, y int, plus bool) bool {
	var dbuf [40]byte
	d := dbuf[:0]
	masked, hasX, nl := 0, false, false
	for k := x; k < y; k++ {
		if k > x && g[k].sep != ' ' && g[k].sep != '-' && g[k].sep != '\n' {
			return false
		}
		nl = nl || k > x && g[k].sep == '\n'
		for _, c := range sc.buf[g[k].a:g[k].e] {
			switch {
			case c == '*':
				masked++
			case c == 'X' || c == 'x':
				if k != y-1 {
					return false
				}
				hasX, c = true, 'X'
			}
			if len(d) == cap(d) {
				return false
			}
			d = append(d, c)
		}
	}
	L := len(d)
	if L < 6 {
		return false
	}
	start, end := sc.off[g[x].a], sc.off[g[y-1].e]
	if plus || g[x].a > 0 && sc.buf[g[x].a-1] == '(' {
		start = sc.off[g[x].a-1]
	}
	if hasX && (L != 18 || masked > 0 && d[L-1] != 'X') {
		return false
	}
	// A digit or letter right after the run ("13812345678.5", "…5678元")
	// belongs to something else only for a decimal; a price is looked
	// for in the context.
	ctx := sc.context(sc.tokStart) // no word stands between the token's groups
	if end < len(sc.s) && sc.s[end] == '.' && end+1 < len(sc.s) && isDigit(sc.s[end+1]) {
		return true // a decimal number: ¥13812345678.00
	}
	if masked > 0 {
		return sc.maskedNumber(d, masked, start, end, ctx, plus)
	}
	lens := func(want ...int) bool {
		if y-x != len(want) {
			return false
		}
		for k, n := range want {
			if g[x+k].e-g[x+k].a != n || k > 0 && g[x+k].sep != '-' {
				return false
			}
		}
		return true
	}
	negative := ctx&(ctxSerial|ctxPrice|ctxVersion) != 0
	boost := func(conf float64, bits ctxBits) float64 {
		if ctx&bits != 0 {
			return conf + confContextBoost
		}
		return conf
	}
	switch {
	case L == 18 && !plus && isPRCID(string(d)):
		if negative && ctx&ctxID == 0 {
			return true
		}
		sc.emit(start, end, DetPRCID, boost(confPRCID, ctxID), false)
		return true
	case hasX:
		return false
	case mobileDigits(d, plus):
		if negative && ctx&ctxPhone == 0 || ctx&ctxOrder != 0 && ctx&ctxPhone == 0 {
			return true
		}
		sc.emit(start, end, DetPRCMobile, boost(confMobile, ctxPhone), false)
		return true
	case !plus && cardGroups(g[x:y]) && cardDigits(d, ctx&ctxCard != 0):
		if ctx&(ctxOrder|ctxSerial|ctxPrice|ctxVersion) != 0 && ctx&ctxCard == 0 {
			return true
		}
		sc.emit(start, end, DetBankCard, boost(confBankCard, ctxCard), false)
		return true
	case !plus && L == 15 && ctx&ctxIMEI != 0 && !allSame(d) && luhn(d):
		sc.emit(start, end, DetIMEI, 0.95, false)
		return true
	case !plus && L == 14 && ctx&ctxMEID != 0:
		sc.emit(start, end, DetMEID, 0.85, false)
		return true
	case !plus && landline(g[x:y], d, ctx):
		if negative || ctx&ctxOrder != 0 && ctx&ctxPhone == 0 {
			return true
		}
		sc.emit(start, end, DetPRCLandline, boost(0.8, ctxPhone), false)
		return true
	case plus && L >= 8 && L <= 15 && d[0] != '0':
		sc.emit(start, sc.withExtension(g[y-1].e, end), DetPhoneNumber, boost(0.8, ctxPhone), false)
		return true
	case !plus && lens(3, 2, 4) && ssnDigits(d):
		sc.emit(start, end, DetUSSSN, boost(0.85, ctxSSN), false)
		return true
	case !plus && L == 9 && y-x == 1 && ctx&ctxSSN != 0 && ssnDigits(d):
		sc.emit(start, end, DetUSSSN, 0.85, false)
		return true
	case !plus && !nl && (lens(3, 3, 4) || lens(3, 4)) && d[0] >= '2' && d[3] >= '2' && !negative && ctx&ctxOrder == 0:
		// North American numbers 415-555-0132 (and 555-0132 after "phone").
		if y-x == 2 && ctx&ctxPhone == 0 {
			return false
		}
		sc.emit(start, sc.withExtension(g[y-1].e, end), DetPhoneNumber, boost(0.6, ctxPhone), false)
		return true
	case !plus && ctx&ctxBirth != 0 && (lens(4, 2, 2) || L == 8 && y-x == 1) &&
		plausibleBirth(atoi(d[0:4]), atoi(d[4:6]), atoi(d[6:8])):
		sc.emit(start, end, DetBirthDate, 0.85, false)
		return true
	case !nl && !dateGroups(g[x:y], sc.buf[:]) && !(y-x == 1 && L == 11 && d[0] == '1') && // not a failed PRC mobile
		!(!plus && y-x == 1 && (L == 10 || L == 13) && d[0] == '1') && // nor a Unix time in seconds or milliseconds
		(ctx&ctxPhone != 0 || phoneAfter(sc.s, end)) && L >= 7 && L <= 15 && !negative && ctx&ctxOrder == 0 && (plus || y-x > 1 || L >= 10):
		// Any telephone number next to a word naming one, in the groups
		// of whatever country it is from.
		sc.emit(start, sc.withExtension(g[y-1].e, end), DetPhoneNumber, 0.7, false)
		return true
	case !plus && L == 8 && y-x == 1 && ctx&ctxPermitTW != 0:
		sc.emit(start, end, DetPermitTW, 0.85, false)
		return true
	case !plus && L == 7 && y-x == 1 && ctx&ctxMacao != 0 && (d[0] == '1' || d[0] == '5' || d[0] == '7'):
		// 1234567(8): the check digit in brackets follows.
		if e := bracketDigit(sc.s, end); e > 0 {
			sc.emit(start, e, DetMacaoID, 0.85, false)
			return true
		}
	case !plus && L == 8 && y-x == 1 && ctx&ctxMacao != 0 && (d[0] == '1' || d[0] == '5' || d[0] == '7'):
		sc.emit(start, end, DetMacaoID, 0.8, false)
		return true
	}
	return false
}

// bracketDigit returns the end of "(d)" or "（d）" at s[i:], or 0.
func bracketDigit(s string, i int) int {
	e, _ := bracketChar(s, i)
	return e
}

// bracketChar returns the end of "(c)" or "（c）" at s[i:] and c, a digit or
// 'A', or 0 and 0.
func bracketChar(s string, i int) (int, byte) {
	for _, br := range [][2]string{{"(", ")"}, {"（", "）"}} {
		o, c := br[0], br[1]
		if len(s) >= i+len(o)+1+len(c) && s[i:i+len(o)] == o {
			j := i + len(o)
			if (isDigit(s[j]) || s[j] == 'A') && s[j+1:j+1+len(c)] == c {
				return j + 1 + len(c), s[j]
			}
		}
	}
	return 0, 0
}

// maskedNumber reads a number with masked digits (138****1234): a mobile,
// an ID number or a card by its length and visible prefix.
func (sc *scanner) maskedNumber(d []byte, masked, start, end int, ctx ctxBits, plus bool) bool {
	// +86 138****8000, 0086 138****8000: a masked mobile after the country code.
	switch {
	case len(d) == 13 && string(d[:2]) == "86":
		d = d[2:]
	case len(d) == 15 && string(d[:4]) == "0086" && !plus:
		d = d[4:]
	case plus:
		return false
	}
	L := len(d)
	p := 0
	for p < L && isDigit(d[p]) {
		p++
	}
	q := L
	for q > 0 && (isDigit(d[q-1]) || d[q-1] == 'X') {
		q--
	}
	if masked < 3 || p+(L-q) < 3 || q < p {
		return false
	}
	for _, c := range d[p:q] {
		if c != '*' {
			return false
		}
	}
	switch {
	case L == 11 && d[0] == '1' && (p < 2 || d[1] >= '3'):
		sc.emit(start, end, DetPRCMobile, confMasked, true)
	case L == 18 && (p < 2 || prcProvinces[atoi(d[0:2])]):
		sc.emit(start, end, DetPRCID, confMasked, true)
	case L >= 13 && L <= 19 && L-q >= 4 && (p >= 4 || ctx&ctxCard != 0):
		sc.emit(start, end, DetBankCard, confMasked, true)
	default:
		return false
	}
	return true
}
