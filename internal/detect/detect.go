// Package detect proposes personal-information categories for database
// columns from their names (Chinese and English) and from sampled values.
//
// Value evidence comes from validating detectors: a value counts only when
// its checksum, calendar date, issuer prefix or address syntax is right, not
// merely its shape. Every category id is a built-in taxonomy id of package
// manifest. Findings are proposals for a person to confirm, never a verdict.
//
// Nothing here logs or returns the values it inspects.
package detect

import (
	"cmp"
	"slices"
	"strings"
)

// Finding is one piece of evidence that something holds a category of personal information.
type Finding struct {
	Category   string  // built-in category id, e.g. "basic.phone"
	Detector   string  // which detector produced it, e.g. "prc_mobile" or "column_name"
	Confidence float64 // 0..1
}

// Summary is the combined evidence for one category in a sampled column.
type Summary struct {
	Category   string
	Confidence float64 // 0..1
	Matches    int     // sampled non-empty values the detector accepted
	Sampled    int     // non-empty values sampled
	Detector   string  // the value detector behind Matches, or "column_name" for name-only evidence
}

// Confidences of the value detectors. Checksums (ID, cards, IBAN, IMEI) and
// strict syntaxes (MAC, email) leave little doubt; a mobile number has no
// checksum; a date is only a birth date if something else says so.
const (
	confPRCID     = 0.99
	confEmail     = 0.95
	confMAC       = 0.95
	confMobile    = 0.9
	confBankCard  = 0.9
	confIBAN      = 0.9
	confIMEI      = 0.85
	confBirthDate = 0.3
)

// Value runs the validating detectors on one value and returns what it is,
// most confident first. Surrounding white space is ignored.
func Value(s string) []Finding {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxValueLen {
		return nil
	}
	var out []Finding
	add := func(det string, conf float64) {
		out = append(out, Finding{Category: valueDetectors[det], Detector: det, Confidence: conf})
	}
	id := isPRCID(s)
	if id {
		add(DetPRCID, confPRCID)
	}
	if isPRCMobile(s) {
		add(DetPRCMobile, confMobile)
	}
	if isEmail(s) {
		add(DetEmail, confEmail)
	}
	// One in ten valid ID numbers also passes Luhn, and 4x, 5x and 62 are both
	// province codes and card prefixes; the ID's own checks are far stricter.
	card := !id && isBankCard(s)
	if card {
		add(DetBankCard, confBankCard)
	}
	if isIBAN(s) {
		add(DetIBAN, confIBAN)
	}
	if c := ipConfidence(s); c > 0 {
		add(DetIP, c)
	}
	if isMAC(s) {
		add(DetMAC, confMAC)
	}
	if !card && isIMEI(s) {
		add(DetIMEI, confIMEI)
	}
	if isBirthDate(s) {
		add(DetBirthDate, confBirthDate)
	}
	sortFindings(out)
	return out
}

func sortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		if c := cmp.Compare(b.Confidence, a.Confidence); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Category, b.Category); c != 0 {
			return c
		}
		return cmp.Compare(a.Detector, b.Detector)
	})
}

// Sample combines a column's name with a sample of its values. For each value
// detector, the value evidence is the share of non-empty sampled values it
// accepts times its confidence. A name that proposes the same category adds
// its own confidence (combined as independent evidence), scaled down when the
// values contradict it. Birth dates count only when the name suggests one,
// since any date column would otherwise qualify. One summary per category,
// most confident first.
func Sample(name string, values []string) []Summary {
	byName := map[string]Finding{}
	for _, f := range Column(name) {
		byName[f.Category] = f
	}
	type tally struct {
		matches int
		conf    float64
	}
	tallies := map[string]*tally{}
	sampled := 0
	for _, v := range values {
		if strings.TrimSpace(v) == "" {
			continue
		}
		sampled++
		for _, f := range Value(v) {
			if f.Category == catBirthDate {
				if _, ok := byName[catBirthDate]; !ok {
					continue
				}
			}
			t := tallies[f.Detector]
			if t == nil {
				t = &tally{}
				tallies[f.Detector] = t
			}
			t.matches++
			t.conf += f.Confidence
		}
	}

	best := map[string]Summary{}
	keep := func(s Summary) {
		if old, ok := best[s.Category]; !ok || s.Confidence > old.Confidence ||
			s.Confidence == old.Confidence && s.Detector < old.Detector {
			best[s.Category] = s
		}
	}
	for det, t := range tallies {
		cat := valueDetectors[det]
		share := float64(t.matches) / float64(sampled)
		conf := share * t.conf / float64(t.matches)
		if nf, ok := byName[cat]; ok {
			conf = 1 - (1-conf)*(1-nf.Confidence*(0.5+0.5*share))
		}
		keep(Summary{Category: cat, Confidence: clamp(conf), Matches: t.matches, Sampled: sampled, Detector: det})
	}
	confirmable := map[string]bool{}
	for _, cat := range valueDetectors {
		confirmable[cat] = true
	}
	for cat, nf := range byName {
		if _, ok := best[cat]; ok {
			continue
		}
		conf := nf.Confidence
		if sampled > 0 && confirmable[cat] {
			// A detector for this category saw every value and accepted none.
			conf *= 0.5
		}
		keep(Summary{Category: cat, Confidence: clamp(conf), Sampled: sampled, Detector: nf.Detector})
	}

	out := make([]Summary, 0, len(best))
	for _, s := range best {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Summary) int {
		if c := cmp.Compare(b.Confidence, a.Confidence); c != 0 {
			return c
		}
		return cmp.Compare(a.Category, b.Category)
	})
	return out
}

func clamp(f float64) float64 { return min(1, max(0, f)) }

// Categories lists, sorted, every category id Value, Column and Sample can return.
func Categories() []string {
	seen := map[string]bool{}
	for _, c := range valueDetectors {
		seen[c] = true
	}
	for _, r := range nameRules {
		if r.category != "" {
			seen[r.category] = true
		}
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
