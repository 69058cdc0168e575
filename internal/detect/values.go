package detect

import (
	"net/netip"
	"strings"
	"time"
)

// Detector names reported in Finding.Detector and Summary.Detector.
const (
	DetPRCID      = "prc_id_card"
	DetPRCMobile  = "prc_mobile"
	DetEmail      = "email"
	DetBankCard   = "bank_card"
	DetIBAN       = "iban"
	DetIP         = "ip_address"
	DetMAC        = "mac_address"
	DetIMEI       = "imei"
	DetBirthDate  = "birth_date"
	DetColumnName = "column_name"
)

// Category ids from the manifest's built-in taxonomy (internal/manifest/builtin.yaml).
const (
	catName        = "basic.name"
	catNickname    = "basic.nickname"
	catAvatar      = "basic.avatar"
	catBirthDate   = "basic.birth_date"
	catGender      = "basic.gender"
	catRegion      = "basic.region"
	catAddress     = "basic.address"
	catPhone       = "basic.phone"
	catEmail       = "basic.email"
	catIDCard      = "identity.id_card"
	catPassport    = "identity.passport"
	catDriving     = "identity.driving_licence"
	catSocialSec   = "identity.social_security"
	catAccountID   = "account.id"
	catCredentials = "account.credentials"
	catSecurityQA  = "account.security_qa"
	catThirdParty  = "account.third_party"
	catIP          = "account.ip_address"
	catCookie      = "account.cookie_id"
	catHeightWt    = "health.height_weight"
	catEmployer    = "work.employer"
	catJobTitle    = "work.title"
	catEducation   = "work.education"
	catBankAccount = "financial.bank_account"
	catDeviceID    = "device.id"
	catIMEI        = "device.imei"
	catMAC         = "device.mac"
	catAndroidID   = "device.android_id"
	catIDFA        = "device.idfa"
	catOAID        = "device.oaid"
	catSerial      = "device.serial"
	catModel       = "device.model"
	catOS          = "device.os"
	catBrowser     = "device.browser"
	catPrecise     = "location.precise"
	catCoarse      = "location.coarse"
	catMarital     = "other.marital"
	catReligion    = "other.religion"
)

// valueDetectors lists every validating detector with the category it proposes,
// so that Categories and Sample know which categories values can confirm.
var valueDetectors = map[string]string{
	DetPRCID:     catIDCard,
	DetPRCMobile: catPhone,
	DetEmail:     catEmail,
	DetBankCard:  catBankAccount,
	DetIBAN:      catBankAccount,
	DetIP:        catIP,
	DetMAC:       catMAC,
	DetIMEI:      catIMEI,
	DetBirthDate: catBirthDate,
}

// maxValueLen bounds the values worth validating: every supported identifier is
// far shorter, and longer text is free prose that needs a different scanner.
const maxValueLen = 256

// now is the clock used to reject birth dates in the future.
var now = time.Now

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// prcProvinces are the first two digits of GB/T 2260 province-level codes.
var prcProvinces = map[int]bool{
	11: true, 12: true, 13: true, 14: true, 15: true,
	21: true, 22: true, 23: true,
	31: true, 32: true, 33: true, 34: true, 35: true, 36: true, 37: true,
	41: true, 42: true, 43: true, 44: true, 45: true, 46: true,
	50: true, 51: true, 52: true, 53: true, 54: true,
	61: true, 62: true, 63: true, 64: true, 65: true,
	71: true, 81: true, 82: true,
}

// isPRCID validates an 18-character resident identity number (GB 11643):
// province code, birth date and the ISO 7064 MOD 11-2 check character.
func isPRCID(s string) bool {
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * idWeights[i]
	}
	check := s[17]
	if check == 'x' {
		check = 'X'
	}
	if "10X98765432"[sum%11] != check {
		return false
	}
	if !prcProvinces[atoi(s[0:2])] {
		return false
	}
	return plausibleBirth(atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14]))
}

// plausibleBirth reports whether y-m-d is a real calendar date from 1900 up to today.
func plausibleBirth(y, m, d int) bool {
	if y < 1900 || m < 1 || m > 12 || d < 1 || d > 31 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return false
	}
	n := now()
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
	return !t.After(today)
}

// atoi converts a short run of ASCII digits already checked by the caller.
func atoi[T string | []byte](s T) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// digits returns s without the separators in seps, or false if s holds
// anything other than ASCII digits and those separators. A separator may not
// start or end the value, nor follow another separator.
func digits(s, seps string) (string, bool) {
	var b strings.Builder
	prevSep := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
			prevSep = false
		case strings.IndexByte(seps, c) >= 0:
			if prevSep {
				return "", false
			}
			prevSep = true
		default:
			return "", false
		}
	}
	if prevSep {
		return "", false
	}
	return b.String(), true
}

// isPRCMobile accepts an 11-digit mainland mobile number starting 13–19,
// optionally prefixed +86, 0086 or 86 and grouped with spaces or dashes.
func isPRCMobile(s string) bool {
	if len(s) > 24 {
		return false
	}
	plus := strings.HasPrefix(s, "+")
	if plus {
		s = s[1:]
	}
	// "(+86) 138…" and "(86)138…" put the country code in brackets.
	if strings.HasPrefix(s, "(") {
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return false
		}
		cc := s[1:end]
		if strings.HasPrefix(cc, "+") && !plus {
			cc, plus = cc[1:], true
		}
		if cc != "86" && cc != "0086" {
			return false
		}
		s = cc + " " + strings.TrimLeft(s[end+1:], " -")
	}
	d, ok := digits(s, " -")
	if !ok {
		return false
	}
	switch {
	case len(d) == 11 && !plus:
	case len(d) == 13 && strings.HasPrefix(d, "86"):
		d = d[2:]
	case len(d) == 15 && strings.HasPrefix(d, "0086") && !plus:
		d = d[4:]
	default:
		return false
	}
	return d[0] == '1' && d[1] >= '3' && d[1] <= '9'
}

// luhn reports whether ASCII digits pass the Luhn mod-10 check.
func luhn[T string | []byte](d T) bool {
	sum := 0
	for i := 0; i < len(d); i++ {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// allSame reports whether every byte of s is the same, as in test numbers like 0000….
func allSame[T string | []byte](s T) bool {
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return true
}

// isBankCard accepts a payment card number: 13–19 digits, Luhn-valid, with
// an issuer prefix and a length that issuer uses. Beyond UnionPay, Visa,
// Mastercard, Amex and JCB it knows Discover, Diners Club, Maestro and JCB's
// legacy 15-digit ranges, which circulate in the same card data. 12-digit
// Maestro numbers are left out: at that length too many order and account
// numbers pass Luhn by chance.
func isBankCard(s string) bool {
	d, ok := digits(s, " -")
	if !ok || len(d) < 13 || len(d) > 19 || allSame(d) || !luhn(d) {
		return false
	}
	return issuerLength(d)
}

// issuerLength reports whether a card number of bare digits has a known
// issuer prefix and a length that issuer uses.
func issuerLength(d string) bool {
	n := len(d)
	p2, p3, p4 := atoi(d[:2]), atoi(d[:3]), atoi(d[:4])
	switch {
	case d[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // American Express
		return n == 15
	case p2 == 35: // JCB
		return n >= 16
	case p4 == 2131 || p4 == 1800: // JCB, legacy ranges
		return n == 15
	case p2 == 62: // UnionPay
		return n >= 16
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65: // Discover
		return n >= 16
	case p3 >= 300 && p3 <= 305, p3 == 309, p2 == 36, p2 == 38, p2 == 39: // Diners Club
		return n >= 14
	case p4 == 5018, p4 == 5020, p4 == 5038, p4 == 5893, p4 == 6304, p4 == 6759, p4 >= 6761 && p4 <= 6763: // Maestro
		return n >= 16
	}
	return false
}

// isIBAN validates an International Bank Account Number by its ISO 13616
// mod-97 check digits; spaces between groups are allowed.
func isIBAN(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	rem := 0
	for i := 0; i < len(s); i++ {
		c := s[(i+4)%len(s)] // the first four characters move to the end
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		pos := (i + 4) % len(s)
		switch {
		case pos < 2 && (c < 'A' || c > 'Z'):
			return false
		case pos >= 2 && pos < 4 && (c < '0' || c > '9'):
			return false
		}
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// isIMEI accepts a 15-digit Luhn-valid IMEI (dashes or spaces allowed).
// American Express and legacy JCB numbers are also 15 Luhn-valid digits;
// Value gives those to the card detector, whose issuer prefixes are stricter.
func isIMEI(s string) bool {
	d, ok := digits(s, " -")
	return ok && len(d) == 15 && !allSame(d) && luhn(d)
}

// ipConfidence returns the confidence that s is an IP address (optionally with
// a port), or 0. Dotted quads of single digits read as version numbers as
// often as addresses, so they get less weight.
func ipConfidence(s string) float64 {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return 0
		}
		a = ap.Addr()
	}
	switch {
	case a.IsUnspecified():
		return 0.3
	case a.Is4():
		b := a.As4()
		if b[0] < 10 && b[1] < 10 && b[2] < 10 && b[3] < 10 {
			return 0.5
		}
		return 0.9
	}
	return 0.95
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// isMAC accepts a 48-bit MAC address written as six octets separated by a
// consistent ':' or '-', or as three dotted groups of four (0011.2233.4455).
// The all-zero and broadcast addresses identify no device.
func isMAC(s string) bool {
	var hex []byte
	switch len(s) {
	case 17:
		sep := s[2]
		if sep != ':' && sep != '-' {
			return false
		}
		for i := 0; i < 17; i++ {
			if i%3 == 2 {
				if s[i] != sep {
					return false
				}
				continue
			}
			if !isHex(s[i]) {
				return false
			}
			hex = append(hex, s[i]|0x20)
		}
	case 14:
		for i := 0; i < 14; i++ {
			if i%5 == 4 {
				if s[i] != '.' {
					return false
				}
				continue
			}
			if !isHex(s[i]) {
				return false
			}
			hex = append(hex, s[i]|0x20)
		}
	default:
		return false
	}
	h := string(hex)
	return h != "000000000000" && h != "ffffffffffff"
}

// isBirthDate accepts YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD naming a real day
// between 1900 and today.
func isBirthDate(s string) bool {
	var y, m, d string
	switch len(s) {
	case 10:
		if (s[4] != '-' && s[4] != '/') || s[7] != s[4] {
			return false
		}
		y, m, d = s[0:4], s[5:7], s[8:10]
	case 8:
		y, m, d = s[0:4], s[4:6], s[6:8]
	default:
		return false
	}
	for _, part := range []string{y, m, d} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return false
			}
		}
	}
	return plausibleBirth(atoi(y), atoi(m), atoi(d))
}

// Email limits from RFC 5321: local part 64 octets, whole address 254.
const (
	maxLocal = 64
	maxEmail = 254
)

// isEmail is a practical address check: one @, a dot-atom local part and a
// dotted host name whose last label is alphabetic and at least two letters.
func isEmail(s string) bool {
	if len(s) > maxEmail {
		return false
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || at > maxLocal || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	for _, atom := range strings.Split(local, ".") {
		if atom == "" {
			return false
		}
		for i := 0; i < len(atom); i++ {
			c := atom[i]
			if !isAlnum(c) && strings.IndexByte("!#$%&'*+/=?^_`{|}~-", c) < 0 {
				return false
			}
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if !isLetter(tld[i]) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isAlnum(c byte) bool { return isLetter(c) || c >= '0' && c <= '9' }
