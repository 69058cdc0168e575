package manifest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestAssessmentProblems: the record of an impact assessment is checked
// for its form; whether activities need one is internal/pia's to say.
func TestAssessmentProblems(t *testing.T) {
	const head = "assessments:\n  - id: pia-1\n    date: 2026-01-12\n    subject: {zh: 注册, en: registration}\n    risk: low\n"
	const digest = "sha256:7362c061e5fdf7d6e1287dca168f084a55806fe3ef9574333626b18081ed62af"
	n := len(splitLines(edited(t, nil, ""))) // the line assessments: lands on
	tests := []struct {
		name string
		add  string
		want []string
	}{
		{"legacy entry", "", nil},
		{"full record", "    activities: [registration, public_disclosure]\n    assessor: {zh: 办公室, en: office}\n    digest: " + digest + "\n    review_every: {count: 2, unit: years}", nil},
		{"unknown activity", "    activities: [registration, nope]", []string{
			lineCol(n+6, 32) + `activity "nope" is neither a purpose nor public_disclosure`}},
		{"activity twice", "    activities: [registration, registration]", []string{
			lineCol(n+6, 32) + `activity "registration" listed twice`}},
		{"bad digest", "    activities: [registration]\n    digest: md5:abc", []string{
			lineCol(n+7, 13) + `invalid digest "md5:abc": want sha256: and 64 hexadecimal digits, as custos pia draft writes it`}},
		{"digest without activities", "    digest: " + digest, []string{
			lineCol(n+6, 13) + "a digest fingerprints the activities assessed: list them under activities"}},
		{"review of zero", "    review_every: {count: 0, unit: years}", []string{
			lineCol(n+6, 27) + "review period must be at least 1 years"}},
		{"missing language", "    assessor: {zh: 办公室}", []string{
			lineCol(n+6, 15) + "missing en text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemLines(t, edited(t, nil, head+tt.add))
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func splitLines(s string) []string {
	lines := strings.Split(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func lineCol(line, col int) string { return fmt.Sprintf("%d:%d: ", line, col) }
