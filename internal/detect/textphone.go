package detect

// Telephone numbers: mainland mobiles and landlines, and the numbers of
// other countries as they are written next to a word naming them.

// phoneWordsAfter name a telephone number they follow: "… 1693-Office".
var phoneWordsAfter = []string{"office", "fax", "mobile", "home", "cell", "tel", "phone", "work", "(o)", "(m)", "(h)", "手机", "电话", "座机", "传真"}

// gluedLabel returns where "-Word" ends a number, or 0.
func gluedLabel(t []byte) int {
	k := len(t)
	for k > 0 && isLetter(t[k-1]) {
		k--
	}
	if k == len(t) || k < 2 || t[k-1] != '-' || !isDigit(t[k-2]) {
		return 0
	}
	return k - 1
}

// extension returns where "x123" ends a number of at least seven digits, or 0.
func extension(t []byte) int {
	k := len(t)
	for k > 0 && isDigit(t[k-1]) {
		k--
	}
	if k == len(t) || k < 8 || t[k-1] != 'x' || !isDigit(t[k-2]) {
		return 0
	}
	return k - 1
}

// dottedPhone reads a telephone number written with dots (930.167.3943,
// 01.84.17.61.18) after a word naming a telephone.
func (sc *scanner) dottedPhone(g []group, plus bool) bool {
	// 138.1234.5678: a mobile number in dotted groups.
	if !plus && len(g) == 3 && g[0].e-g[0].a == 3 && g[1].e-g[1].a == 4 && g[2].e-g[2].a == 4 {
		var d [11]byte
		k := copy(d[:], sc.buf[g[0].a:g[0].e])
		k += copy(d[k:], sc.buf[g[1].a:g[1].e])
		copy(d[k:], sc.buf[g[2].a:g[2].e])
		if mobileDigits(d[:], false) {
			start := sc.off[g[0].a]
			ctx := sc.context(start)
			if ctx&(ctxVersion|ctxSerial|ctxPrice|ctxOrder) == 0 {
				conf := confMobile
				if ctx&ctxPhone != 0 {
					conf += confContextBoost
				}
				sc.emit(start, sc.off[g[2].e], DetPRCMobile, conf, false)
			}
			return true
		}
	}
	if !plus && sc.quad(g) {
		return false // an IPv4 address, whatever word comes before it
	}
	L := 0
	for _, x := range g {
		L += x.e - x.a
		if x.e-x.a < 2 || hasByte(sc.buf[x.a:x.e], '*') {
			return false
		}
	}
	start, end := sc.off[g[0].a], sc.off[g[len(g)-1].e]
	if plus {
		start = sc.off[g[0].a-1]
	}
	if L < 9 || L > 15 || sc.context(start)&ctxPhone == 0 && !phoneAfter(sc.s, end) {
		return false
	}
	sc.emit(start, end, DetPhoneNumber, 0.7, false)
	return true
}

// withExtension extends a telephone number ending at token index k (text
// offset end) over the extension cut from the token, if any.
func (sc *scanner) withExtension(k, end int) int {
	if k == sc.extAt {
		return sc.off[sc.extEnd]
	}
	return end
}

// phoneAfter reports whether a word naming a telephone follows s[end:],
// after spaces and a dash.
func phoneAfter(s string, end int) bool {
	for end < len(s) && (s[end] == ' ' || s[end] == '-') {
		end++
	}
	for _, w := range phoneWordsAfter {
		if hasPrefixFold(s[end:], w) {
			return true
		}
	}
	return false
}

// mobileDigits accepts a mainland mobile number in a number segment
// issued today (13x, 145–149, 15x but 154, 162/165–167, 170–178, 18x, 19x),
// alone or after 86 / 0086.
func mobileDigits(d []byte, plus bool) bool {
	switch {
	case len(d) == 11 && !plus:
	case len(d) == 13 && d[0] == '8' && d[1] == '6':
		d = d[2:]
	case len(d) == 15 && !plus && string(d[:4]) == "0086":
		d = d[4:]
	default:
		return false
	}
	if d[0] != '1' {
		return false
	}
	switch d[1] {
	case '3', '8', '9':
		return true
	case '4':
		return d[2] >= '5'
	case '5':
		return d[2] != '4'
	case '6':
		return d[2] == '2' || d[2] >= '5' && d[2] <= '7'
	case '7':
		return d[2] != '9'
	}
	return false
}

// landline accepts an area code (010, 02x, or four digits 03xx–09xx) and a
// subscriber number of 7–8 digits not starting 0, written apart, or
// run together after a word naming a telephone.
func landline(g []group, d []byte, ctx ctxBits) bool {
	if len(d) < 10 || len(d) > 12 || d[0] != '0' {
		return false
	}
	area := 0
	switch {
	case d[1] == '1' && d[2] == '0', d[1] == '2':
		area = 3
	case d[1] >= '3':
		area = 4
	default:
		return false
	}
	sub := len(d) - area
	if sub < 7 || sub > 8 || d[area] == '0' {
		return false
	}
	if g[0].e-g[0].a == area && len(g) > 1 {
		return true
	}
	return len(g) == 1 && ctx&ctxPhone != 0
}

// quad reports whether g is four groups of a dotted IPv4 address: 1 to 3
// digits each, no leading zero, none above 255.
func (sc *scanner) quad(g []group) bool {
	if len(g) != 4 {
		return false
	}
	for _, x := range g {
		n := x.e - x.a
		if n < 1 || n > 3 || n > 1 && sc.buf[x.a] == '0' || atoi(sc.buf[x.a:x.e]) > 255 {
			return false
		}
		for _, c := range sc.buf[x.a:x.e] {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}
