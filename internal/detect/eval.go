package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Span-level evaluation of a text scanner on labelled corpora: the shared
// cn-pii-bench sets and presidio-research's synthetic set. The same scoring
// serves Text and any other scanner whose findings are written as Spans.

// EvalSpan is a labelled entity: a corpus label and UTF-8 byte offsets.
type EvalSpan struct {
	Label      string
	Start, End int
}

// EvalSample is one labelled text.
type EvalSample struct {
	ID    string
	Text  string
	Spans []EvalSpan
}

// TypeScore counts one evaluation type's findings against the labels.
type TypeScore struct {
	Type       string
	TP, FP, FN int
	// Exact counts the TP whose span has exactly the labelled boundaries;
	// the rest overlap their label.
	Exact int
}

// Precision is TP/(TP+FP), or 1 with no findings.
func (s TypeScore) Precision() float64 {
	if s.TP+s.FP == 0 {
		return 1
	}
	return float64(s.TP) / float64(s.TP+s.FP)
}

// Recall is TP/(TP+FN), or 1 with no labels.
func (s TypeScore) Recall() float64 {
	if s.TP+s.FN == 0 {
		return 1
	}
	return float64(s.TP) / float64(s.TP+s.FN)
}

// F1 is the harmonic mean of precision and recall.
func (s TypeScore) F1() float64 {
	p, r := s.Precision(), s.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// EvalSets are the corpora LoadEval reads, by the name it gives them.
var EvalSets = []string{"cn-pii-bench/cases", "cn-pii-bench/adversarial", "cn-pii-bench/en", "presidio-research/synth"}

// evalTypes is the one place corpus labels and detectors meet: each
// evaluation type lists the labels that name it in the corpora and the
// detectors whose spans count as it.
//
// Labels of no type ("url", which the corpora put on any URL rather than a
// personal one; dates, which only context makes a birth date) are neutral
// to the detectors listed in neutralLabels: a span on them is neither right
// nor wrong. A span on any other label, or on none, is a false positive.
var evalTypes = []struct {
	typ       string
	labels    []string
	detectors []string
}{
	{"id_card", []string{"zh_id_card"}, []string{DetPRCID, DetHKID, DetTWID, DetMacaoID}},
	{"phone", []string{"zh_phone", "PHONE_NUMBER"}, []string{DetPRCMobile, DetPRCLandline, DetPhoneNumber}},
	{"bank_card", []string{"zh_bank_card", "credit_card", "CREDIT_CARD"}, []string{DetBankCard}},
	{"iban", []string{"IBAN_CODE"}, []string{DetIBAN}},
	{"email", []string{"email", "EMAIL_ADDRESS"}, []string{DetEmail}},
	{"ip", []string{"ip_address", "IP_ADDRESS"}, []string{DetIP}},
	{"plate", []string{"plate"}, []string{DetPlate}},
	{"ssn", []string{"us_ssn", "US_SSN"}, []string{DetUSSSN}},
	{"name", []string{"zh_person_name", "PERSON"}, []string{DetPersonName}},
	{"address", []string{"zh_address", "STREET_ADDRESS"}, []string{DetAddress}},
	{"birth_date", nil, []string{DetBirthDate}},
	{"device", nil, []string{DetMAC, DetIMEI, DetMEID, DetIDFA, DetOAID, DetAndroidID}},
	{"document", nil, []string{DetPRCPassport, DetPermitHKM, DetPermitTW}},
	{"url", nil, []string{DetPersonalURL}},
	{"organisation", nil, []string{DetUSCC}},
}

var neutralLabels = map[string][]string{
	DetBirthDate:   {"date", "DATE_TIME"},
	DetPersonalURL: {"url", "DOMAIN_NAME"},
	DetAddress:     {"GPE", "ZIP_CODE"},
}

// EvalTypes lists the evaluation types Score reports, in the order of its table.
func EvalTypes() []string {
	out := make([]string, 0, len(evalTypes))
	for _, t := range evalTypes {
		out = append(out, t.typ)
	}
	return out
}

// EvalTypeDetector names a detector whose spans Score counts as the
// evaluation type typ, or "" for an unknown type: another scanner's
// findings are scored by writing them as Spans with this detector.
func EvalTypeDetector(typ string) string {
	for _, t := range evalTypes {
		if t.typ == typ {
			return t.detectors[0]
		}
	}
	return ""
}

// EvalNeutral reports whether a finding of evaluation type typ may land on
// a corpus label without being right or wrong (a place name inside an
// address, a date under a birth date).
func EvalNeutral(typ, label string) bool {
	for _, t := range evalTypes {
		if t.typ != typ {
			continue
		}
		for _, d := range t.detectors {
			if slices.Contains(neutralLabels[d], label) {
				return true
			}
		}
	}
	return false
}

// EvalTypeOfLabel returns the evaluation type a corpus label names, or "".
func EvalTypeOfLabel(label string) string { return evalTypeOfLabel(label) }

func evalTypeOfLabel(label string) string {
	for _, t := range evalTypes {
		if slices.Contains(t.labels, label) {
			return t.typ
		}
	}
	return ""
}

func evalTypeOfDetector(det string) string {
	for _, t := range evalTypes {
		if slices.Contains(t.detectors, det) {
			return t.typ
		}
	}
	return ""
}

// Score runs find on every sample and scores its spans by evaluation type.
// A span is right when it overlaps a labelled entity of its type not
// already taken; a masked span is neither right nor wrong (the corpora do
// not label masked values as personal information); labelled entities no
// span found are misses. Types with no label and no finding are left out.
func Score(samples []EvalSample, find func(text string) []Span) []TypeScore {
	scores := map[string]*TypeScore{}
	get := func(t string) *TypeScore {
		if scores[t] == nil {
			scores[t] = &TypeScore{Type: t}
		}
		return scores[t]
	}
	for _, smp := range samples {
		taken := make([]bool, len(smp.Spans))
		for _, sp := range find(smp.Text) {
			typ := evalTypeOfDetector(sp.Detector)
			if typ == "" || sp.Masked {
				continue
			}
			hit, neutral := -1, false
			for k, l := range smp.Spans {
				if l.Start >= sp.End || sp.Start >= l.End {
					continue
				}
				if evalTypeOfLabel(l.Label) == typ && !taken[k] {
					hit = k
					break
				}
				if slices.Contains(neutralLabels[sp.Detector], l.Label) {
					neutral = true
				}
			}
			switch {
			case hit >= 0:
				taken[hit] = true
				get(typ).TP++
				if smp.Spans[hit].Start == sp.Start && smp.Spans[hit].End == sp.End {
					get(typ).Exact++
				}
			case !neutral:
				get(typ).FP++
			}
		}
		for k, l := range smp.Spans {
			if typ := evalTypeOfLabel(l.Label); typ != "" && !taken[k] {
				get(typ).FN++
			}
		}
	}
	out := make([]TypeScore, 0, len(scores))
	for _, s := range scores {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b TypeScore) int { return strings.Compare(a.Type, b.Type) })
	return out
}

// LoadEval reads the labelled corpora under dir (the pii-eval directory of
// the shared data) into samples with byte offsets, keyed by the names in EvalSets.
func LoadEval(dir string) (map[string][]EvalSample, error) {
	out := map[string][]EvalSample{}
	for set, file := range map[string]string{
		"cn-pii-bench/cases":       "cases.jsonl",
		"cn-pii-bench/adversarial": "cases_adversarial.jsonl",
		"cn-pii-bench/en":          "cases_en.jsonl",
	} {
		s, err := readCNBench(filepath.Join(dir, "cn-pii-bench", file))
		if err != nil {
			return nil, err
		}
		out[set] = s
	}
	s, err := readPresidio(filepath.Join(dir, "presidio-research", "synth_dataset_v2.json"))
	if err != nil {
		return nil, err
	}
	out["presidio-research/synth"] = s
	return out, nil
}

// readCNBench reads a cn-pii-bench JSON Lines file (UTF-8 byte offsets).
func readCNBench(path string) ([]EvalSample, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load eval: %w", err)
	}
	var out []EvalSample
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var c struct {
			ID     string `json:"id"`
			Text   string `json:"text"`
			Expect []struct {
				Type  string `json:"type"`
				Value string `json:"value"`
				Start int    `json:"start"`
				End   int    `json:"end"`
			} `json:"expect"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("load eval: %s:%d: %w", path, line, err)
		}
		smp := EvalSample{ID: c.ID, Text: c.Text}
		for _, e := range c.Expect {
			if e.Start < 0 || e.End > len(c.Text) || e.Start > e.End || c.Text[e.Start:e.End] != e.Value {
				return nil, fmt.Errorf("load eval: %s:%d: span [%d,%d) does not hold its labelled value", path, line, e.Start, e.End)
			}
			smp.Spans = append(smp.Spans, EvalSpan{e.Type, e.Start, e.End})
		}
		out = append(out, smp)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load eval: %s: %w", path, err)
	}
	return out, nil
}

// readPresidio reads presidio-research's synthetic set (code-point offsets).
func readPresidio(path string) ([]EvalSample, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load eval: %w", err)
	}
	var raw []struct {
		FullText string `json:"full_text"`
		Spans    []struct {
			Type  string `json:"entity_type"`
			Value string `json:"entity_value"`
			Start int    `json:"start_position"`
			End   int    `json:"end_position"`
		} `json:"spans"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("load eval: %s: %w", path, err)
	}
	out := make([]EvalSample, 0, len(raw))
	for n, r := range raw {
		// byteAt[k] is the byte offset of code point k.
		byteAt := make([]int, 0, len(r.FullText)+1)
		for k := range r.FullText {
			byteAt = append(byteAt, k)
		}
		byteAt = append(byteAt, len(r.FullText))
		smp := EvalSample{ID: fmt.Sprintf("synth-%d", n), Text: r.FullText}
		for _, e := range r.Spans {
			if e.Start < 0 || e.End >= len(byteAt) || e.Start > e.End {
				return nil, fmt.Errorf("load eval: %s: sample %d: span [%d,%d) outside its text", path, n, e.Start, e.End)
			}
			a, b := byteAt[e.Start], byteAt[e.End]
			if r.FullText[a:b] != e.Value {
				return nil, fmt.Errorf("load eval: %s: sample %d: span [%d,%d) does not hold its labelled value", path, n, e.Start, e.End)
			}
			smp.Spans = append(smp.Spans, EvalSpan{e.Type, a, b})
		}
		out = append(out, smp)
	}
	return out, nil
}
