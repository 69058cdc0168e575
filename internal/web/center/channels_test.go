package center_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
)

var viaSelectRE = regexp.MustCompile(`(?s)<select id="via" name="via"[^>]*>.*?</select>`)

// TestCancellationChannel: where the policy gives account cancellation a
// term per channel (Yonyou Cloud: YouZone's own cancellation at once, the
// privacy email within 30 working days), the request form asks which
// channel the person is using, in the page's language, defaulting to the
// privacy center itself, which takes the general deadline. The choice
// reaches the request under the intake's own rule: a channel the policy
// does not have is refused, without the identity typed being echoed.
func TestCancellationChannel(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Manifest = "../../../examples/yonyou-cloud/custos.yaml" })
	svc := h.d.Server.Service()
	admin := consent.Actor{ID: "test", Role: "admin", Place: "test"}
	addrs := map[string]string{"self_service": "own.function@example.cn", "privacy_email": "by.mail@example.cn", "": "by.center@example.cn", "fax": "by.fax@example.cn"}
	for via, addr := range addrs {
		in := consent.SubjectInput{ID: "cn-via-" + strings.TrimPrefix(via+"x", "_"), Jurisdiction: "CN", BirthDate: "1990-01-01",
			Identities: []consent.IdentityInput{{Kind: "email", Value: addr, Keep: true}}}
		if _, err := svc.CreateSubject(context.Background(), admin, in); err != nil {
			t.Fatal(err)
		}
	}
	b := h.browser(t)

	forms := []struct {
		lang string
		want []string
	}{
		{"en", []string{`<option value="" selected>This privacy center (the general time limit)</option>`,
			`<option value="self_service">the account&#39;s own cancellation function (signed in to the product) — takes effect at once</option>`,
			`<option value="privacy_email">Yonyou Cloud customer privacy email — 30 working days</option>`}},
		{"zh-CN", []string{`<option value="" selected>本隐私中心（一般处理期限）</option>`,
			`<option value="self_service">账号自带的注销功能（登录产品后自行注销） — 立即生效</option>`,
			`<option value="privacy_email">用友云客户隐私邮箱 — 30个工作日</option>`}},
	}
	for _, f := range forms {
		t.Run("form "+f.lang, func(t *testing.T) {
			page := b.get("/privacy/requests/new?type=cancel_account&lang=" + f.lang)
			checkPageWith(t, page, f.lang, false)
			sel := viaSelectRE.FindString(page.body)
			for _, w := range f.want {
				if !strings.Contains(sel, w) {
					t.Errorf("the channel choice lacks %s:\n%s", w, sel)
				}
			}
		})
	}
	// A right whose term does not depend on the channel asks nothing.
	if page := b.get("/privacy/requests/new?type=deletion&lang=en"); page.status != 200 || strings.Contains(page.body, `name="via"`) {
		t.Errorf("the deletion form (status %d) asks for a channel", page.status)
	}

	tests := []struct {
		via, deadline string
		immediate     bool
	}{
		{"self_service", "immediate", true},
		{"privacy_email", "30 working_days", false},
		{"", "30 working_days", false},
	}
	for _, tt := range tests {
		t.Run("via "+tt.via, func(t *testing.T) {
			addr := addrs[tt.via]
			r := b.post("/privacy/requests?lang=en", url.Values{"type": {"cancel_account"}, "jurisdiction": {"CN"}, "kind": {"email"}, "identity": {addr}, "via": {tt.via}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("submit: status %d\n%s", r.status, excerpt(r.body))
			}
			id := strings.Split(r.location(), "/")[3]
			b.post("/privacy/requests/"+id+"/verify?lang=en", url.Values{"code": {h.code(t, addr)}})
			v, err := h.d.Server.Requests().Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			received := calendar.FromTime(v.ReceivedAt).String()
			if v.Flags.Via != tt.via || v.Deadline != tt.deadline || (v.DueDate == received) != tt.immediate {
				t.Errorf("request = via %q, deadline %q, due %s (received %s); want via %q, deadline %q, due the day received %v",
					v.Flags.Via, v.Deadline, v.DueDate, received, tt.via, tt.deadline, tt.immediate)
			}
		})
	}

	r := b.post("/privacy/requests?lang=en", url.Values{"type": {"cancel_account"}, "jurisdiction": {"CN"}, "kind": {"email"}, "identity": {addrs["fax"]}, "via": {"fax"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Choose the channel you are using from the list.") || strings.Contains(r.body, addrs["fax"]) {
		t.Errorf("an unknown channel: status %d\n%s", r.status, excerpt(r.body))
	}
	for _, addr := range addrs {
		if strings.Contains(h.logs.String(), addr) {
			t.Errorf("the log carries %s", addr)
		}
	}
}
