package dsr_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAutomatedDecisionExplained: a request for an explanation of an
// automated decision is answered with what the policy declares of the
// purpose's automated decisions (its logic, significance, effects and how
// to have a person review it), in the requester's language, followed by
// nothing the policy does not state; the operator adds the case. Without
// a declaration the operator's words are the whole answer.
func TestAutomatedDecisionExplained(t *testing.T) {
	src, err := os.ReadFile(starterManifest)
	if err != nil {
		t.Fatal(err)
	}
	const moderation = "    basis: legal_obligation\n    automated_decision: true\n"
	if strings.Count(string(src), moderation) != 1 {
		t.Fatalf("the starter's moderation purpose is not where the test expects it")
	}
	declared := strings.Replace(string(src), moderation, moderation+
		"    automation:\n"+
		"      logic: {zh: 系统按已知违法信息特征比对发布内容, en: the system compares published content with known patterns of unlawful information}\n"+
		"      significance: {zh: 内容可能被暂缓公开, en: publication may be held back}\n"+
		"      human_review: {zh: 在笔记页面点击“申诉”，由审核人员复核, en: tap Appeal on the note and a moderator reviews it}\n", 1)
	path := filepath.Join(t.TempDir(), "custos.yaml")
	if err := os.WriteFile(path, []byte(declared), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 5, 11, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, manifest, lang string
		purposes             []string
		want, absent         []string
	}{
		{name: "declared, en", manifest: path, lang: "en",
			want: []string{"Your note was held for review on 3 May.", "On the automated decisions in moderation of published content: how it decides: the system compares published content with known patterns",
				"what it means for you: publication may be held back", "review by a person: tap Appeal on the note"},
			absent: []string{"what may follow"}},
		{name: "declared, zh", manifest: path, lang: "zh-CN",
			want: []string{"关于“公开内容审核”中的自动化决策，决策机制：系统按已知违法信息特征比对发布内容；对您的影响：内容可能被暂缓公开；人工复核：在笔记页面点击“申诉”"}},
		{name: "purpose named", manifest: path, lang: "en", purposes: []string{"content_moderation"},
			want: []string{"how it decides: the system compares"}},
		{name: "another purpose named", manifest: path, lang: "en", purposes: []string{"security"},
			absent: []string{"how it decides"}},
		{name: "nothing declared", manifest: starterManifest, lang: "en",
			want: []string{"Your note was held for review on 3 May."}, absent: []string{"how it decides"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.manifest, start)
			e.subject("st-adm", "adm@example.com", "", nil)
			in := map[string]any{"type": "explain_automated_decision", "subject_id": "st-adm", "language": tt.lang}
			if tt.purposes != nil {
				in["details"] = map[string]any{"purposes": tt.purposes}
			}
			v := e.submitOperator(in)
			e.act(v.ID, "approve", nil)
			done := e.act(v.ID, "complete", map[string]string{"explanation": "Your note was held for review on 3 May."})
			for _, w := range tt.want {
				if !strings.Contains(done.Explanation, w) {
					t.Errorf("the answer lacks %q:\n%s", w, done.Explanation)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(done.Explanation, a) {
					t.Errorf("the answer says %q:\n%s", a, done.Explanation)
				}
			}
		})
	}
}

// TestComplaintAnsweredWithEscalation: the answer to a complaint tells
// the person where else to turn, as the policy's complaints section
// names it (regulators, court); a complaint runs on its own deadline
// where the policy gives one (smart-device-app: 30 days, not the 30
// working days of other requests).
func TestComplaintAnsweredWithEscalation(t *testing.T) {
	start := time.Date(2026, 9, 28, 10, 0, 0, 0, time.UTC) // before the National Day holidays
	e := newEnv(t, starterManifest, start)
	e.subject("st-complaint", "c@example.com", "", nil)
	for lang, want := range map[string][]string{
		"en":    {"We looked into it.", "If our answer does not satisfy you, you may also complain to the Cyberspace Administration of China", "You may also bring a claim before the people's court with jurisdiction"},
		"zh-CN": {"如您对我们的答复不满意，还可以向国家网信部门", "您也可以向被告住所地有管辖权的人民法院提起诉讼。"},
	} {
		v := e.submitOperator(map[string]any{"type": "complaint", "subject_id": "st-complaint", "language": lang})
		e.act(v.ID, "approve", nil)
		done := e.act(v.ID, "complete", map[string]string{"explanation": "We looked into it."})
		for _, w := range want {
			if !strings.Contains(done.Explanation, w) {
				t.Errorf("%s: the answer lacks %q:\n%s", lang, w, done.Explanation)
			}
		}
	}
	s := newEnv(t, smartManifest, start)
	s.subject("st-complaint", "c@example.com", "", nil)
	c := s.submitOperator(map[string]any{"type": "complaint", "subject_id": "st-complaint", "language": "zh-CN"})
	o := s.submitOperator(map[string]any{"type": "correction", "subject_id": "st-complaint", "language": "zh-CN"})
	if c.DueDate != "2026-10-28" || o.DueDate == c.DueDate {
		t.Errorf("complaint due %s, correction due %s; want the complaint on its own 30 calendar days (2026-10-28)", c.DueDate, o.DueDate)
	}
}
