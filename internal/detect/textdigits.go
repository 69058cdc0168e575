package detect

// Validators on bare digits, for the number reader.

// dateGroups reports whether groups open with a date: 2026-06-01.
func dateGroups(g []group, b []byte) bool {
	if len(g) < 3 || g[0].e-g[0].a != 4 || g[1].e-g[1].a != 2 || g[2].e-g[2].a != 2 || g[1].sep != '-' || g[2].sep != '-' {
		return false
	}
	y := atoi(b[g[0].a:g[0].e])
	return y >= 1900 && y <= 2100
}

// cardGroups reports whether digit groups are grouped as cards are
// printed: one run, fours (the last group shorter), or 4-6-5 and 4-6-4
// (American Express, Diners Club).
func cardGroups(g []group) bool {
	if len(g) == 1 {
		return true
	}
	n := func(k int) int { return g[k].e - g[k].a }
	if len(g) == 3 && n(0) == 4 && n(1) == 6 && (n(2) == 5 || n(2) == 4) {
		return true
	}
	for k := 0; k < len(g)-1; k++ {
		if n(k) != 4 {
			return false
		}
	}
	return n(len(g)-1) <= 4
}

// cardDigits is isBankCard on bare digits. Twelve-digit Maestro numbers
// count only after a word naming a card.
func cardDigits(d []byte, cardCtx bool) bool {
	n := len(d)
	if n == 12 {
		// Maestro's twelve-digit numbers (50, 56–69).
		return cardCtx && luhn(d) && !allSame(d) && (d[0] == '5' || d[0] == '6')
	}
	if n < 13 || n > 19 || allSame(d) || !luhn(d) {
		return false
	}
	return issuerLength(string(d))
}

// ssnDigits applies the US Social Security Administration's rules: no area
// 000, 666 or 900–999, no group 00, no serial 0000.
func ssnDigits(d []byte) bool {
	if len(d) != 9 {
		return false
	}
	area := atoi(d[0:3])
	return area != 0 && area != 666 && area < 900 && atoi(d[3:5]) != 0 && atoi(d[5:9]) != 0
}
