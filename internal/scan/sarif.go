package scan

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// sarifWriter streams a SARIF 2.1.0 log: one run, one result per finding,
// one rule per detector. Messages name the category and detector, never
// the value.
type sarifWriter struct {
	w       io.Writer
	version string
	rules   map[string]string // detector → category
	n       int
	err     error
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
	Props     map[string]any  `json:"properties,omitempty"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifLocation struct {
	Physical sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	Artifact struct {
		URI string `json:"uri"`
	} `json:"artifactLocation"`
	Region struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	} `json:"region"`
}

func (s *sarifWriter) write(format string, a ...any) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(s.w, format, a...)
	}
}

func (s *sarifWriter) Finding(f Finding) error {
	if s.n == 0 {
		s.write(`{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{"columnKind":"unicodeCodePoints","results":[`)
	} else {
		s.write(",")
	}
	s.n++
	s.rules[f.Detector] = f.Category
	r := sarifResult{RuleID: f.Detector, Level: "warning", Locations: []sarifLocation{{}}}
	if f.Masked {
		r.Level = "note"
	}
	msg := fmt.Sprintf("%s found by %s (confidence %.2f)", f.Category, f.Detector, f.Confidence)
	if f.Masked {
		msg = fmt.Sprintf("%s written masked, found by %s", f.Category, f.Detector)
	}
	if f.Field != "" {
		msg += " in " + f.Field
	}
	r.Message.Text = msg
	loc := &r.Locations[0].Physical
	loc.Artifact.URI = f.Path
	loc.Region.StartLine = max(1, f.Line)
	loc.Region.StartColumn = f.Column
	r.Props = map[string]any{"category": f.Category, "confidence": f.Confidence, "sensitive": f.Sensitive, "excerpt": f.Excerpt}
	if f.Field != "" {
		r.Props["field"] = f.Field
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	s.write("%s", b)
	return s.err
}

func (s *sarifWriter) Close(sum Summary) error {
	if s.n == 0 {
		s.write(`{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{"columnKind":"unicodeCodePoints","results":[`)
	}
	type rule struct {
		ID    string         `json:"id"`
		Short sarifText      `json:"shortDescription"`
		Props map[string]any `json:"properties"`
	}
	ids := make([]string, 0, len(s.rules))
	for id := range s.rules {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	rules := []rule{}
	for _, id := range ids {
		rules = append(rules, rule{ID: id, Short: sarifText{Text: "Personal information (" + s.rules[id] + ") found by the " + id + " detector"},
			Props: map[string]any{"category": s.rules[id], "sensitive": Sensitive(s.rules[id])}})
	}
	driver := map[string]any{"name": "custos", "informationUri": "https://github.com/custos-privacy/custos/blob/main/docs/scan.md", "rules": rules}
	if s.version != "" {
		driver["version"] = s.version
	}
	tool := map[string]any{"driver": driver}
	tb, err := json.Marshal(tool)
	if err != nil {
		return err
	}
	sb, err := json.Marshal(map[string]any{"summary": sum})
	if err != nil {
		return err
	}
	s.write(`],"tool":%s,"properties":%s}]}`+"\n", tb, sb)
	return s.err
}
