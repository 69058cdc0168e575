package dsr

import (
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/manifest"
)

// automatedAnswer is what the policy declares of the automated decisions
// an explanation request concerns (manifest.Automation), in lang: every
// purpose that declares them, or those of purposes when the request
// names some. explained lists the purposes told; both are empty when no
// purpose concerned declares how its decisions work, and the operator's
// words are then the whole answer.
func automatedAnswer(m *manifest.Manifest, lang string, purposes []string) (answer string, explained []string) {
	var parts []string
	for _, p := range m.Purposes {
		if !p.AutomatedDecision || p.Automation == nil || (len(purposes) > 0 && !slices.Contains(purposes, p.ID)) {
			continue
		}
		var said []string
		for _, part := range p.Automation.Parts() {
			if t := strings.TrimRight(part.Text.In(lang), "。. "); t != "" {
				said = append(said, part.Label.In(lang)+told(lang, "：", ": ")+t)
			}
		}
		name := p.Name.In(lang)
		parts = append(parts, told(lang, "关于“%s”中的自动化决策，%s。", "On the automated decisions in %s: %s.", name, strings.Join(said, told(lang, "；", "; "))))
		explained = append(explained, p.ID)
	}
	sep := " "
	if strings.HasPrefix(lang, "zh") {
		sep = ""
	}
	return strings.Join(parts, sep), explained
}

// escalation tells a person whose complaint was answered where else they
// can turn, from the policy's complaints section: the supervisory
// authorities, then the court. Empty when the policy names neither.
func escalation(m *manifest.Manifest, lang string) string {
	var regulators []string
	for _, r := range m.Complaints.Regulators {
		if t := r.In(lang); t != "" {
			regulators = append(regulators, t)
		}
	}
	var out []string
	if len(regulators) > 0 {
		out = append(out, told(lang, "如您对我们的答复不满意，还可以向%s投诉或举报。", "If our answer does not satisfy you, you may also complain to %s.",
			strings.Join(regulators, told(lang, "、", ", "))))
	}
	if c := m.Complaints.Court.In(lang); c != "" {
		out = append(out, told(lang, "您也可以向%s提起诉讼。", "You may also bring a claim before %s.", c))
	}
	sep := " "
	if strings.HasPrefix(lang, "zh") {
		sep = ""
	}
	return strings.Join(out, sep)
}
