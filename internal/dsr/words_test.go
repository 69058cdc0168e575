package dsr_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/dsr"
)

// ASCII words a Chinese message may carry: links, addresses and the
// request's own number are not English. Everything else is.
var (
	notWords     = regexp.MustCompile(`https?://\S+|[\w.+-]+@[\w.-]+|\b(?:rq|bd|rt)_[0-9A-Za-z_-]+`)
	asciiWord    = regexp.MustCompile(`[A-Za-z]{2,}`)
	hanCharacter = regexp.MustCompile(`\p{Han}`)
)

// englishIn lists the English words left in a Chinese text once links,
// addresses and request numbers are taken out.
func englishIn(s string) []string {
	return asciiWord.FindAllString(notWords.ReplaceAllString(s, ""), -1)
}

// TestOutcomeMessagesSpeakTheSubjectsLanguage: what a request's subject is
// told when it is done — the status page's explanation and the message
// sent — is wholly in the request's language, names purposes by the names
// the policy gives them, and never carries the operators' summary, a
// purpose id or a datastore's name.
func TestOutcomeMessagesSpeakTheSubjectsLanguage(t *testing.T) {
	start := time.Date(2026, 5, 11, 10, 0, 0, 0, time.UTC)
	type want struct{ zh, en string } // a phrase each language's explanation holds
	tests := []struct {
		name    string
		kind    string
		details map[string]any
		in      map[string]string
		want    want
		// runDue: a cancellation completes when its cooling-off period
		// has passed, by the scheduler.
		runDue bool
	}{
		{name: "withdraw one consent", kind: "withdraw_consent", details: map[string]any{"purposes": []string{"analytics"}},
			want: want{"我们已撤回您对以下处理的同意：产品使用统计分析。", "We have withdrawn your consent to product usage analytics."}},
		{name: "withdraw every consent", kind: "withdraw_consent",
			want: want{"我们已撤回您给予的全部同意", "We have withdrawn every consent you had given"}},
		{name: "object to a consent purpose and a contract purpose", kind: "objection", details: map[string]any{"purposes": []string{"analytics", "account_registration"}},
			want: want{"不能以反对的方式停止：", "cannot stop the following by an objection"}},
		{name: "restriction", kind: "restriction",
			want: want{"除存储外，我们已停止处理您的个人信息。", "We have stopped all processing of your personal information other than storing it."}},
		{name: "deletion", kind: "deletion",
			want: want{"我们已删除您的个人信息。", "We have erased your personal information."}},
		{name: "deletion under a legal hold", kind: "deletion", in: map[string]string{"legal_hold": "court_order"},
			want: want{"我们暂时不能删除您的个人信息，原因是：", "We cannot delete your personal information yet"}},
		{name: "account cancellation, scheduled", kind: "cancel_account",
			want: want{"您的账号将于 2026-05-26 注销", "Your account will be cancelled on 2026-05-26"}},
		{name: "account cancellation, carried out", kind: "cancel_account", runDue: true,
			want: want{"我们已删除您的个人信息。", "We have erased your personal information."}},
		{name: "correction with fields held elsewhere", kind: "correction", details: map[string]any{"correction": map[string]string{"birth_date": "1990-01-02", "nickname": "lin"}},
			want: want{"其余更正已交由工作人员处理", "our staff are making the other corrections"}},
		{name: "access", kind: "access",
			want: want{"您的个人信息导出文件已准备好", "The export of your personal information is ready"}},
		{name: "portability to a third party", kind: "portability", details: map[string]any{"transmit_to": map[string]string{"name": "示例云"}},
			want: want{"我们会将导出文件发送给您指定的接收方（示例云）", "We will send the export to the recipient you named (示例云)"}},
		{name: "an explanation in the operator's words", kind: "explain_rules", in: map[string]string{"explanation": "说明文字"},
			want: want{"说明文字", "说明文字"}},
	}
	for _, tt := range tests {
		for _, lang := range []string{"zh-CN", "en"} {
			t.Run(tt.name+"/"+lang, func(t *testing.T) {
				e := newEnv(t, starterManifest, start)
				e.subject("st-words-1", "words@example.com", "", nil)
				e.grant("st-words-1", nil, "analytics", "marketing")
				in := map[string]any{"type": tt.kind, "subject_id": "st-words-1", "language": lang}
				if tt.details != nil {
					in["details"] = tt.details
				}
				v := e.submitOperator(in)
				e.act(v.ID, "approve", nil)
				body := map[string]string{}
				for k, val := range tt.in {
					body[k] = val
				}
				done := e.act(v.ID, "complete", body)
				if tt.runDue {
					e.clock.Set(done.EffectiveAt.Add(time.Hour))
					if n, err := e.req.RunDue(e.ctx); err != nil || n != 1 {
						t.Fatalf("RunDue = %d, %v", n, err)
					}
					done = e.get(v.ID)
				}
				told := []string{done.Explanation}
				e.dispatch()
				ds, err := e.st.Deliveries(e.ctx, v.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range ds {
					if d.Template != "request_completed" && d.Template != "cancellation_scheduled" {
						continue
					}
					if m, ok := e.sent.byDelivery(d.ID); ok {
						told = append(told, m.Subject, m.Text)
					}
				}
				if len(told) < 3 {
					t.Fatalf("no outcome message was sent; templates %v", e.templates(v.ID))
				}
				wantPhrase := map[string]string{"zh-CN": tt.want.zh, "en": tt.want.en}[lang]
				if !strings.Contains(done.Explanation, wantPhrase) {
					t.Errorf("explanation %q lacks %q", done.Explanation, wantPhrase)
				}
				for _, s := range told {
					// What the subject and the operator wrote is passed on as written.
					ours := strings.NewReplacer("示例云", "", "说明文字", "").Replace(s)
					if words := englishIn(ours); lang == "zh-CN" && len(words) > 0 {
						t.Errorf("the Chinese message holds English %q:\n%s", words, s)
					}
					if han := hanCharacter.FindAllString(ours, -1); lang == "en" && len(han) > 0 {
						t.Errorf("the English message holds Chinese %q:\n%s", han, s)
					}
					for _, internal := range []string{"account_registration", "court_order", "withdraw_consent", "custos", "nickname", "erased;"} {
						if strings.Contains(s, internal) {
							t.Errorf("the message names %q:\n%s", internal, s)
						}
					}
				}
			})
		}
	}
}

// TestDeadlineWords: a request's deadline rule is said in the page's
// language with the policy's words for its units, and a rule that cannot
// be read is said as nothing, never as its own spelling.
func TestDeadlineWords(t *testing.T) {
	tests := []struct {
		rule   string
		zh, en string
	}{
		{"15 working_days", "15个工作日", "15 working days"},
		{"1 working_days", "1个工作日", "1 working day"},
		{"30 calendar_days (+30 calendar_days)", "30日（必要时可延长30日）", "30 days (extendable by 30 days)"},
		{"1 months (+2 months)", "1个月（必要时可延长2个月）", "1 month (extendable by 2 months)"},
		{"", "", ""},
		{"soon", "", ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.rule), func(t *testing.T) {
			if got := dsr.DeadlineWords(tt.rule, "zh-CN"); got != tt.zh {
				t.Errorf("zh-CN = %q, want %q", got, tt.zh)
			}
			if got := dsr.DeadlineWords(tt.rule, "en"); got != tt.en {
				t.Errorf("en = %q, want %q", got, tt.en)
			}
			for _, lang := range []string{"zh-CN", "en"} {
				if got := dsr.DeadlineWords(tt.rule, lang); strings.Contains(got, "_") {
					t.Errorf("%s words hold an identifier: %q", lang, got)
				}
			}
		})
	}
}

// TestProvisionalDueDateAnnounced: a due date that rests on a year whose
// public holidays are not published yet is not announced as firm. The
// acknowledgement says, in the subject's language, that the date is
// provisional and why; a firm date is announced without the caveat.
func TestProvisionalDueDateAnnounced(t *testing.T) {
	tests := []struct {
		name, lang  string
		received    time.Time
		due         string
		provisional bool
		want        []string // phrases the acknowledgement holds
		wantNot     []string
	}{
		{
			// starter "standard", 15 working days from Tuesday 15 December
			// 2026 runs into January 2027, whose arrangement is not in the
			// calendar: Monday to Friday count, 15-18 Dec (4), 21-25 (9),
			// 28-31 (13), 1 Jan (14), 4 Jan (15).
			name: "into an unpublished year, Chinese", lang: "zh-CN", received: chinaTime("2026-12-14 10:00"), due: "2027-01-04", provisional: true,
			want: []string{"2027-01-04", "暂定", "2027年的法定节假日安排尚未公布"},
		},
		{
			name: "into an unpublished year, English", lang: "en", received: chinaTime("2026-12-14 10:00"), due: "2027-01-04", provisional: true,
			want: []string{"2027-01-04", "provisional", "public holidays for 2027 have not been published"},
		},
		{
			// 1 June 2026: 15 working days on the published 2026 calendar.
			name: "inside a published year", lang: "en", received: chinaTime("2026-06-01 10:00"), due: "2026-06-23",
			want: []string{"2026-06-23"}, wantNot: []string{"provisional"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, starterManifest, tt.received)
			e.subject("st-prov-1", "prov@example.com", "", nil)
			v := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-prov-1", "language": tt.lang, "jurisdiction": "CN"})
			if v.DueDate != tt.due || v.DueProvisional != tt.provisional {
				t.Fatalf("intake = due %s provisional %v, want %s %v", v.DueDate, v.DueProvisional, tt.due, tt.provisional)
			}
			e.dispatch()
			var ack []string
			for _, m := range e.sent.all() {
				if strings.Contains(m.Text, v.ID) {
					ack = append(ack, m.Text)
				}
			}
			if len(ack) != 1 {
				t.Fatalf("acknowledgements sent: %d, want 1", len(ack))
			}
			for _, w := range tt.want {
				if !strings.Contains(ack[0], w) {
					t.Errorf("acknowledgement lacks %q:\n%s", w, ack[0])
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(ack[0], w) {
					t.Errorf("acknowledgement holds %q:\n%s", w, ack[0])
				}
			}
			if words := englishIn(ack[0]); tt.lang == "zh-CN" && len(words) > 0 {
				t.Errorf("the Chinese acknowledgement holds English %q:\n%s", words, ack[0])
			}
		})
	}
}
