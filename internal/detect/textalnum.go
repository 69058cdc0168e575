package detect

import "net/netip"

// Tokens of letters and digits: e-mail addresses, network and device
// identifiers, document numbers, codes.

// emails reads the addresses in b[a:e], which holds an '@'.
func (sc *scanner) emails(a, e int) {
	b := sc.buf[:e]
	for k := a; k < e; k++ {
		if b[k] != '@' {
			continue
		}
		l := k
		for l > a && (isAlnum(b[l-1]) || b[l-1] == '.' || b[l-1] == '_' || b[l-1] == '-' || b[l-1] == '+' || b[l-1] == '*') {
			l--
		}
		for l < k && (b[l] == '.' || b[l] == '-') {
			l++
		}
		r := k + 1
		for r < e && (isAlnum(b[r]) || b[r] == '.' || b[r] == '-') {
			r++
		}
		for r > k+1 && (b[r-1] == '.' || b[r-1] == '-') {
			r--
		}
		if l == k || r == k+1 {
			continue
		}
		var vb [maxTok]byte
		v := vb[:0]
		masked := false
		for _, c := range b[l:r] {
			if c == '*' {
				masked, c = true, 'x'
			}
			v = append(v, c)
		}
		if isEmail(string(v)) {
			conf := confEmail
			if masked {
				conf = confMasked
			}
			sc.emitTok(l, r, DetEmail, conf, masked)
		}
		k = r - 1
	}
}

// alnum reads a token of letters and digits that is not a bare number.
func (sc *scanner) alnum(a, e int) {
	b := sc.buf[:e]
	t := b[a:e]
	n := len(t)
	// Version strings: v1.2.3.4.
	if (t[0] == 'v' || t[0] == 'V') && n > 1 && isDigit(t[1]) {
		return
	}
	upperDigits, hex, digitsN := true, true, 0
	colons, dashes, dots := 0, 0, 0
	for _, c := range t {
		switch {
		case isDigit(c):
			digitsN++
		case c >= 'A' && c <= 'Z':
		default:
			upperDigits = false
		}
		switch c {
		case ':':
			colons++
		case '-':
			dashes++
		case '.':
			dots++
		}
		if !isHex(c) {
			hex = false
		}
	}
	start, end := sc.off[a], sc.off[e]
	switch {
	case colons > 0:
		sc.colonToken(a, e, colons)
		return
	case n == 17 && dashes == 5 || n == 14 && dots == 2:
		if isMAC(string(t)) {
			sc.emit(start, end, DetMAC, confMAC, false)
		}
		return
	case n == 36 && dashes == 4 && isUUID(t):
		ctx := sc.context(start)
		switch {
		case ctx&ctxIDFA != 0:
			sc.emit(start, end, DetIDFA, 0.9, false)
		case ctx&ctxOAID != 0:
			sc.emit(start, end, DetOAID, 0.9, false)
		}
		return // any other UUID identifies a record, not a person
	case hex && digitsN < n && (n == 16 || n == 14 || n == 32 || n == 64):
		ctx := sc.context(start)
		switch {
		case n == 16 && ctx&ctxAndroid != 0:
			sc.emit(start, end, DetAndroidID, 0.85, false)
		case n == 14 && ctx&ctxMEID != 0:
			sc.emit(start, end, DetMEID, 0.85, false)
		case (n == 16 || n == 32 || n == 64) && ctx&ctxOAID != 0:
			sc.emit(start, end, DetOAID, 0.85, false)
		}
		return // hashes and other hex strings
	}
	if dashes+dots == 0 && n == 18 && upperDigits && isUSCC(t) {
		conf := 0.9
		if sc.context(start)&ctxCredit != 0 {
			conf = 0.98
		}
		sc.emit(start, end, DetUSCC, conf, false)
		return
	}
	if n >= 15 && isLetter(t[0]) && isLetter(t[1]) && isDigit(t[2]) && isDigit(t[3]) {
		var vb [maxTok]byte
		v := vb[:0]
		for _, c := range t {
			if c != ' ' {
				v = append(v, c)
			}
		}
		if isIBAN(string(v)) {
			sc.emit(start, end, DetIBAN, confIBAN, false)
			return
		}
	}
	if dashes+dots == 0 {
		if det, conf, e2 := sc.document(t, end); det != "" {
			sc.emit(start, e2, det, conf, false)
			return
		}
	}
	if plateEN(t) {
		if sc.context(start)&ctxPlate != 0 {
			sc.emit(start, end, DetPlate, 0.85, false)
		}
	}
}

// colonToken reads an IPv6 address, a MAC address, or an IPv4 address with a port.
func (sc *scanner) colonToken(a, e, colons int) {
	t := sc.buf[a:e]
	if len(t) == 17 && colons == 5 {
		if isMAC(string(t)) {
			sc.emitTok(a, e, DetMAC, confMAC, false)
		}
		return
	}
	if colons == 1 {
		// 10.0.0.1:8080 — the address without its port.
		k, dots := 0, 0
		for k < len(t) && t[k] != ':' {
			if t[k] == '.' {
				dots++
			} else if !isDigit(t[k]) {
				return
			}
			k++
		}
		for _, c := range t[k+1:] {
			if !isDigit(c) {
				return
			}
		}
		if dots != 3 || len(t)-k-1 > 5 || len(t)-k-1 == 0 {
			return
		}
		if ap, err := netip.ParseAddrPort(string(t)); err == nil && ap.Addr().Is4() && !ap.Addr().IsLoopback() && !ap.Addr().IsUnspecified() {
			if sc.context(sc.off[a])&ctxVersion == 0 {
				sc.emitTok(a, a+k, DetIP, 0.9, false)
			}
		}
		return
	}
	for _, c := range t {
		if !isHex(c) && c != ':' && c != '.' {
			return
		}
	}
	if colons >= 2 {
		if ad, err := netip.ParseAddr(string(t)); err == nil && ad.Is6() && !ad.IsUnspecified() && !ad.IsLoopback() {
			sc.emitTok(a, e, DetIP, 0.95, false)
		}
	}
}

func isUUID(t []byte) bool {
	for k, c := range t {
		if k == 8 || k == 13 || k == 18 || k == 23 {
			if c != '-' {
				return false
			}
		} else if !isHex(c) {
			return false
		}
	}
	return true
}

// document reads identity documents written as letters and digits: a Hong
// Kong ID with its check digit (in brackets after the token), a Taiwan ID,
// and, after a word naming them, passports and travel permits. end is the
// token's end in the text; the returned end may take in a bracketed check digit.
func (sc *scanner) document(t []byte, end int) (string, float64, int) {
	n := len(t)
	allDigits := func(b []byte) bool {
		for _, c := range b {
			if !isDigit(c) {
				return false
			}
		}
		return len(b) > 0
	}
	up := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	switch {
	case n == 10 && up(t[0]) && (t[1] == '1' || t[1] == '2') && allDigits(t[1:]) && twID(t):
		return DetTWID, 0.9, end
	case (n == 7 || n == 8) && up(t[0]) && allDigits(t[n-6:]) && (n == 7 || up(t[1])):
		if e2, ch := bracketChar(sc.s, end); e2 > 0 {
			if hkID(t, ch) {
				return DetHKID, 0.9, e2
			}
		}
	case (n == 8 || n == 9) && up(t[0]) && allDigits(t[n-7:]) && (n == 8 || up(t[1])) && hkIDCheck(t):
		if sc.context(end-n)&ctxHK != 0 {
			return DetHKID, 0.85, end
		}
	}
	ctx := ctxBits(0)
	if n == 9 || n == 11 {
		ctx = sc.context(end - n)
	}
	switch {
	case n == 9 && (t[0] == 'H' || t[0] == 'M') && allDigits(t[1:]) && ctx&ctxPermitHKM != 0,
		n == 11 && (t[0] == 'H' || t[0] == 'M') && allDigits(t[1:]) && ctx&ctxPermitHKM != 0:
		return DetPermitHKM, 0.9, end
	case n == 9 && ctx&ctxPassport != 0 && (allDigits(t[1:]) && (t[0] == 'E' || t[0] == 'G' || t[0] == 'D' || t[0] == 'S' || t[0] == 'P') ||
		t[0] == 'E' && up(t[1]) && allDigits(t[2:])):
		return DetPRCPassport, 0.9, end
	}
	return "", 0, 0
}

// hkID checks a Hong Kong identity card number (one or two letters, six
// digits) against the check character ch ('0'–'9' or 'A').
func hkID(t []byte, ch byte) bool {
	if ch != 'A' && !isDigit(ch) {
		return false
	}
	sum := 0
	if len(t) == 7 {
		sum = 36 * 9
	}
	w := len(t) + 1
	for _, c := range t {
		v := int(c - '0')
		if c >= 'A' && c <= 'Z' {
			v = int(c-'A') + 10
		}
		sum += v * w
		w--
	}
	want := (11 - sum%11) % 11
	if ch == 'A' {
		return want == 10
	}
	return int(ch-'0') == want
}

// hkIDCheck checks a Hong Kong ID written without brackets: A1234563.
func hkIDCheck(t []byte) bool { return hkID(t[:len(t)-1], t[len(t)-1]) }

// twID checks a Taiwan national ID: a letter for the place of first
// registration, 1 or 2, seven digits and a check digit.
func twID(t []byte) bool {
	const codes = "ABCDEFGHJKLMNPQRSTUVXYWZIO" // A=10 … O=35
	v := -1
	for k := 0; k < len(codes); k++ {
		if codes[k] == t[0] {
			v = k + 10
		}
	}
	if v < 0 {
		return false
	}
	sum := v/10 + (v%10)*9
	for k := 1; k < 9; k++ {
		sum += int(t[k]-'0') * (9 - k)
	}
	sum += int(t[9] - '0')
	return sum%10 == 0
}

// isUSCC validates a Unified Social Credit Code (GB 32100-2015): eighteen
// characters from 0–9 and the capitals without I, O, Z, S, V, with a
// check character over the first seventeen.
func isUSCC(t []byte) bool {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	weights := [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	val := func(c byte) int {
		for k := 0; k < len(alphabet); k++ {
			if alphabet[k] == c {
				return k
			}
		}
		return -1
	}
	sum := 0
	letters := 0
	for k := 0; k < 17; k++ {
		v := val(t[k])
		if v < 0 {
			return false
		}
		if v >= 10 {
			letters++
		}
		sum += v * weights[k]
	}
	// The registration authority (first character) is 1–9, A–G or Y; a
	// numeric code is as likely an ID number or any 18-digit id.
	if val(t[0]) == 0 || letters == 0 && val(t[17]) < 10 {
		return false
	}
	return val(t[17]) == (31-sum%31)%31
}

// plateEN reads a plate as English-language texts write them: two or three
// letters, an optional dash, three or four digits, an optional letter
// (BSJ-6746, KG-1099B, HDE-775X).
func plateEN(t []byte) bool {
	k := 0
	for k < len(t) && t[k] >= 'A' && t[k] <= 'Z' {
		k++
	}
	if k < 2 || k > 3 {
		return false
	}
	if k < len(t) && t[k] == '-' {
		k++
	}
	d := 0
	for k < len(t) && isDigit(t[k]) {
		k++
		d++
	}
	if d < 3 || d > 4 {
		return false
	}
	if k < len(t) && t[k] >= 'A' && t[k] <= 'Z' {
		k++
	}
	return k == len(t)
}
