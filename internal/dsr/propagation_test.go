package dsr_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/dsr"
)

// TestDeletionCompletesHonestly: a deletion completes while its notices
// to recipients are still on their way, and says so. The subject is told
// which recipients, by their names in the manifest, are still being told;
// the request's view counts the notices by progress until each is
// acknowledged or given up.
func TestDeletionCompletesHonestly(t *testing.T) {
	start := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	names := map[string][]string{
		"en": {"Our affiliates", "External suppliers processing on our behalf", "Third-party personal information processors",
			"Shenzhen Tencent Computer System Co., Ltd.", "Wuhan SendCloud Technology Co., Ltd.", "Shanghai Lianlu e-commerce Co., Ltd."},
		"zh-CN": {"我们的关联公司", "受托处理的外部供应商", "第三方个人信息处理者", "深圳市腾讯计算机系统有限公司", "武汉 SendCloud 科技有限公司", "上海联麓电子商务有限公司"},
	}
	still := map[string]string{"en": "We are still telling the following recipients", "zh-CN": "我们正在将您的请求告知曾接收您个人信息的以下接收方"}
	for _, lang := range []string{"en", "zh-CN"} {
		t.Run(lang, func(t *testing.T) {
			e := newEnv(t, deepinManifest, start)
			e.subject("deepin-2001", "erase.me@example.com", "", nil)
			e.grant("deepin-2001", nil, "big-data-analysis")
			v := e.submitOperator(map[string]any{"type": "deletion", "subject_id": "deepin-2001", "language": lang})
			e.act(v.ID, "approve", nil)
			done := e.act(v.ID, "complete", map[string]string{})
			if done.State != dsr.StateCompleted {
				t.Fatalf("state %s", done.State)
			}

			told := []string{done.Explanation}
			e.dispatch()
			ds, err := e.st.Deliveries(e.ctx, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if m, ok := e.sent.byDelivery(d.ID); ok && d.Template == "request_completed" {
					told = append(told, m.Text)
				}
			}
			if len(told) != 2 {
				t.Fatalf("the subject was not sent the outcome; templates %v", e.templates(v.ID))
			}
			for _, s := range told {
				if !strings.Contains(s, still[lang]) {
					t.Errorf("the outcome does not say notices are still on their way:\n%s", s)
				}
				for _, n := range names[lang] {
					if !strings.Contains(s, n) {
						t.Errorf("the outcome does not name %q:\n%s", n, s)
					}
				}
				for _, internal := range []string{"sdk:", "sendcloud-mail", "http", "entrusted-suppliers"} {
					if strings.Contains(s, internal) {
						t.Errorf("the outcome names %q:\n%s", internal, s)
					}
				}
			}

			type row struct{ Recipient, Name, Progress string }
			rows := func(v dsr.View) []row {
				var out []row
				for _, r := range v.Recipients {
					out = append(out, row{r.Recipient, r.Name, r.Progress})
				}
				return out
			}
			ids := []string{"affiliates", "entrusted-suppliers", "sdk:lianlu-sms", "sdk:sendcloud-mail", "sdk:tencent-tsec-text", "third-party-processors"}
			byID := map[string]string{}
			for i, id := range []string{"affiliates", "entrusted-suppliers", "third-party-processors", "sdk:tencent-tsec-text", "sdk:sendcloud-mail", "sdk:lianlu-sms"} {
				byID[id] = names[lang][i]
			}
			want := func(progress map[string]string) []row {
				var out []row
				for _, id := range ids {
					p := progress[id]
					if p == "" {
						p = dsr.ProgressPending
					}
					out = append(out, row{id, byID[id], p})
				}
				return out
			}
			got := e.get(v.ID)
			if diff := cmp.Diff(want(nil), rows(got)); diff != "" {
				t.Errorf("recipients on completion (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(&dsr.Propagation{Pending: 6}, got.Propagation); diff != "" {
				t.Errorf("propagation on completion (-want +got):\n%s", diff)
			}

			// One is sent, one acknowledged, the others given up.
			if err := e.st.MarkRecipientTask(e.ctx, e.taskOf(t, got, "affiliates"), "sent", 1, start, ""); err != nil {
				t.Fatal(err)
			}
			e.must(200, "POST", "/v1/requests/"+v.ID+"/recipients/sdk:sendcloud-mail/ack", e.op, "", nil)
			for _, id := range []string{"entrusted-suppliers", "sdk:lianlu-sms", "sdk:tencent-tsec-text", "third-party-processors"} {
				if err := e.st.MarkRecipientTask(e.ctx, e.taskOf(t, got, id), "dead", 10, start, "recipient replied 410"); err != nil {
					t.Fatal(err)
				}
			}
			later := e.get(v.ID)
			progress := map[string]string{"affiliates": dsr.ProgressSent, "sdk:sendcloud-mail": dsr.ProgressAcknowledged,
				"entrusted-suppliers": dsr.ProgressGivenUp, "sdk:lianlu-sms": dsr.ProgressGivenUp, "sdk:tencent-tsec-text": dsr.ProgressGivenUp, "third-party-processors": dsr.ProgressGivenUp}
			if diff := cmp.Diff(want(progress), rows(later)); diff != "" {
				t.Errorf("recipients later (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(&dsr.Propagation{Sent: 1, Acknowledged: 1, GivenUp: 4}, later.Propagation); diff != "" {
				t.Errorf("propagation later (-want +got):\n%s", diff)
			}
			e.must(200, "POST", "/v1/requests/"+v.ID+"/recipients/affiliates/ack", e.op, "", nil)
			if p := e.get(v.ID).Propagation; p == nil || !p.Done {
				t.Errorf("propagation once every notice is settled = %+v, want done", p)
			}
			e.noPI("erase.me@example.com")
		})
	}
}

// taskOf returns the id of the request's notice task for recipient.
func (e *env) taskOf(t *testing.T, v dsr.View, recipient string) string {
	t.Helper()
	ts, err := e.st.RecipientTasks(e.ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ts {
		if r.Recipient == recipient {
			return r.ID
		}
	}
	t.Fatalf("no notice for %s", recipient)
	return ""
}
