package detect

import "strings"

// Detector names Text reports beyond those of Value.
const (
	DetPRCLandline   = "prc_landline"
	DetPhoneNumber   = "phone_number" // E.164 and North American numbers
	DetUSCC          = "uscc"         // Unified Social Credit Code, an organisation's
	DetPRCPassport   = "prc_passport"
	DetPermitHKM     = "permit_hk_macao"
	DetPermitTW      = "permit_taiwan"
	DetHKID          = "hk_id_card"
	DetTWID          = "tw_id_card"
	DetMacaoID       = "macao_id_card"
	DetPlate         = "licence_plate"
	DetIDFA          = "idfa"
	DetOAID          = "oaid"
	DetAndroidID     = "android_id"
	DetPersonName    = "person_name"
	DetAddress       = "postal_address"
	DetUSSSN         = "us_ssn"
	DetPersonalURL   = "personal_url"
	DetMEID          = "meid"
	confMasked       = 0.8
	confContextBoost = 0.08
)

// DetectorInfo describes one detector Text runs.
type DetectorInfo struct {
	Name     string // as in Span.Detector
	Category string // built-in category id its spans carry
	// Personal is false for a detector of an organisation's identifiers
	// (the Unified Social Credit Code): its spans are reported, but they
	// are not personal information.
	Personal bool
	// Sensitive reports whether the category is sensitive personal
	// information under PIPL (identity documents, financial accounts).
	Sensitive bool
	Doc       string // one line
}

// Category of an organisation's credit code: the employer, the nearest
// built-in id (the code names an organisation, not a person).
const catOrganisation = catEmployer

// catOther is the built-in class id "other", for licence plates, which the
// taxonomy does not name on their own.
const catOther = "other"

var detectorInfos = []DetectorInfo{
	{DetPRCID, catIDCard, true, true, "PRC resident ID number: GB 11643 check digit, birth date, province code"},
	{DetHKID, catIDCard, true, true, "Hong Kong identity card number with its check digit"},
	{DetTWID, catIDCard, true, true, "Taiwan national ID number with its check digit"},
	{DetMacaoID, catIDCard, true, true, "Macao resident ID number, after a word naming Macao"},
	{DetPRCPassport, catPassport, true, true, "PRC passport number (E/G/D/S/P and eight digits), after a word naming a passport"},
	{DetPermitHKM, catPassport, true, true, "Mainland Travel Permit for Hong Kong and Macao residents (H/M and eight digits), in context"},
	{DetPermitTW, catPassport, true, true, "Mainland Travel Permit for Taiwan residents (eight digits), in context"},
	{DetPRCMobile, catPhone, true, false, "PRC mobile number in an issued segment, with +86/0086, spaces or dashes"},
	{DetPRCLandline, catPhone, true, false, "PRC landline with area code: 010-12345678, 0755 1234 5678"},
	{DetPhoneNumber, catPhone, true, false, "international number after + (E.164) and North American 415-555-0132"},
	{DetBankCard, catBankAccount, true, true, "payment card: issuer prefix and length (UnionPay 62, Visa, Mastercard, …) and Luhn"},
	{DetIBAN, catBankAccount, true, true, "IBAN with its ISO 13616 mod-97 check digits"},
	{DetUSSSN, catSocialSec, true, true, "US Social Security number under the SSA's area, group and serial rules"},
	{DetEmail, catEmail, true, false, "e-mail address, also percent-encoded (%40) and masked (a***@x.com)"},
	{DetIP, catIP, true, false, "IPv4 and IPv6 address"},
	{DetMAC, catMAC, true, false, "48-bit MAC address"},
	{DetIMEI, catIMEI, true, false, "IMEI (15 digits, Luhn) after a word naming it"},
	{DetMEID, catIMEI, true, false, "MEID (14 hex digits) after a word naming it"},
	{DetIDFA, catIDFA, true, false, "Apple advertising identifier (a UUID) after a word naming it"},
	{DetOAID, catOAID, true, false, "open anonymous device identifier after a word naming it"},
	{DetAndroidID, catAndroidID, true, false, "Android ID (16 hex digits) after a word naming it"},
	{DetBirthDate, catBirthDate, true, false, "date of birth after a word naming one"},
	{DetPlate, catOther, true, false, "licence plate: province character, letter, five or six characters (new-energy); English-style plates in context"},
	{DetPersonName, catName, true, false, "Chinese personal name: surname list and a word before (姓名, 联系人, 收件人 …) or after (先生, 女士 …)"},
	{DetAddress, catAddress, true, false, "postal address: province or city from a gazetteer, road, number and building marks"},
	{DetPersonalURL, catAccountID, true, false, "the user name or id in a URL path (/users/<name>) or query (?user=…)"},
	{DetUSCC, catOrganisation, false, false, "Unified Social Credit Code (GB 32100 check character) — an organisation's, not personal"},
}

// Detectors lists the detectors Text runs.
func Detectors() []DetectorInfo { return append([]DetectorInfo(nil), detectorInfos...) }

func detectorCategory(det string) string {
	for _, d := range detectorInfos {
		if d.Name == det {
			return d.Category
		}
	}
	return ""
}

// personalPaths are the URL path segments after which a user's name or id follows.
var personalPaths = []string{"/users/", "/user/", "/u/", "/profile/", "/profiles/", "/people/", "/members/", "/member/", "/~"}

// personalParams are the query parameters whose value names a user.
var personalParams = []string{"user=", "username=", "user_name=", "name=", "uid=", "user_id=", "userid=", "login="}

// notUsers are path segments that follow /users/ without naming anyone.
var notUsers = map[string]bool{"me": true, "self": true, "new": true, "edit": true, "list": true, "search": true, "settings": true, "login": true, "logout": true, "register": true, "index": true}

// maxURL bounds the URL read for personal parts.
const maxURL = 2048

// url notes, for the main loop, the personal parts of the URL at s[i:].
func (sc *scanner) url(i int) {
	s := sc.s
	j := i + 4
	if j < len(s) && lower(s[j]) == 's' {
		j++
	}
	if !strings.HasPrefix(s[j:], "://") {
		return
	}
	if i < sc.urlEnd {
		return // a URL inside the query of another
	}
	e := j + 3
	for e < len(s) && e-i < maxURL && s[e] > ' ' && s[e] < 0x7f && strings.IndexByte("\"'<>`\\", s[e]) < 0 {
		e++
	}
	sc.urlEnd = e
	u := s[i:e]
	for k := 0; k < len(u) && sc.npend < len(sc.pend); k++ {
		if u[k] != '/' && u[k] != '?' && u[k] != '&' {
			continue
		}
		var skip int
		if u[k] == '/' {
			for _, p := range personalPaths {
				if hasPrefixFold(u[k:], p) {
					skip = len(p)
					break
				}
			}
		} else {
			for _, p := range personalParams {
				if hasPrefixFold(u[k+1:], p) {
					skip = 1 + len(p)
					break
				}
			}
		}
		if skip == 0 {
			continue
		}
		a := k + skip
		b := a
		for b < len(u) && strings.IndexByte("/?#&;", u[b]) < 0 {
			b++
		}
		if b > a && !notUsers[strings.ToLower(u[a:b])] {
			sc.pend[sc.npend] = [2]int{i + a, i + b}
			sc.npend++
		}
		k = b - 1
	}
}
