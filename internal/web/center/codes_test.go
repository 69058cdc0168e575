package center_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/dsr"
)

// channels is a deployment's message channels: email, SMS, both or neither.
func channels(email, sms bool) func(channel string) bool {
	return func(channel string) bool { return channel == "email" && email || channel == "sms" && sms }
}

// TestFormsSayWhichCodesCannotBeSent: where the deployment has no message
// channel for email or for SMS, the sign-in and request forms say so
// before anything is filled in, name how else to reach the organisation
// (the manifest's contact channels), and offer only the kinds of identity
// a code can reach; with neither, they show no form at all.
func TestFormsSayWhichCodesCannotBeSent(t *testing.T) {
	notices := map[string]map[string]string{
		"email": {"en": "Codes cannot be sent by email at the moment: use your phone number", "zh-CN": "目前无法通过电子邮件发送验证码：请使用手机号码"},
		"phone": {"en": "Codes cannot be sent by text message at the moment: use your email address", "zh-CN": "目前无法通过短信发送验证码：请使用电子邮箱"},
		"both":  {"en": "Codes cannot be sent by email or text message at the moment", "zh-CN": "目前无法通过电子邮件或短信发送验证码"},
	}
	// The starter manifest's contact channels, as a reader sees them.
	contact := map[string]string{"en": "Personal Information Protection Office: privacy@qingyun.example.cn", "zh-CN": "个人信息保护办公室: privacy@qingyun.example.cn"}
	forms := []struct{ path, form string }{
		{"/privacy/signin", `id="signin-form"`},
		{"/privacy/requests/new?type=access", `id="request-form"`},
	}
	tests := []struct {
		name       string
		email, sms bool
		missing    string   // which notice, "" for none
		offered    []string // the kinds the form offers
		label      map[string]string
	}{
		{"both channels", true, true, "", []string{"email", "phone"}, map[string]string{"en": "Email address or phone number", "zh-CN": "电子邮箱或手机号码"}},
		{"email only", true, false, "phone", []string{"email"}, map[string]string{"en": "Email address", "zh-CN": "电子邮箱"}},
		{"SMS only", false, true, "email", []string{"phone"}, map[string]string{"en": "Phone number", "zh-CN": "手机号码"}},
		{"no channel", false, false, "both", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessDelivering(t, channels(tc.email, tc.sms))
			b := h.browser(t)
			before, err := h.d.Server.Requests().List(t.Context(), dsr.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, lang := range []string{"en", "zh-CN"} {
				w := newWording(t, lang, starterV1)
				for _, f := range forms {
					t.Run(lang+f.path, func(t *testing.T) {
						sep := "?"
						if strings.Contains(f.path, "?") {
							sep = "&"
						}
						r := b.get(f.path + sep + "lang=" + lang)
						if r.status != http.StatusOK {
							t.Fatalf("status %d\n%s", r.status, excerpt(r.body))
						}
						checkPage(t, r, lang)
						text := visible(r.body)
						for _, p := range w.problems(text) {
							t.Errorf("the page shows %s", p)
						}
						if tc.missing == "" {
							if strings.Contains(r.body, `id="codes-notice"`) {
								t.Errorf("a notice where every code can be sent:\n%s", excerpt(r.body))
							}
						} else {
							if !strings.Contains(r.body, `id="codes-notice"`) {
								t.Errorf("no notice:\n%s", excerpt(r.body))
							}
							for _, want := range []string{notices[tc.missing][lang], contact[lang]} {
								if !strings.Contains(text, want) {
									t.Errorf("the page does not say %q:\n%s", want, excerpt(r.body))
								}
							}
						}
						if got := strings.Contains(r.body, f.form); got != (len(tc.offered) > 0) {
							t.Errorf("the form is shown: %v, want %v", got, len(tc.offered) > 0)
						}
						for _, kind := range []string{"email", "phone"} {
							offered := strings.Contains(r.body, `name="kind" value="`+kind+`"`)
							want := false
							for _, k := range tc.offered {
								want = want || k == kind
							}
							if offered != want {
								t.Errorf("kind %s offered: %v, want %v", kind, offered, want)
							}
						}
						if tc.label != nil && !strings.Contains(r.body, `<label for="identity">`+tc.label[lang]+`</label>`) {
							t.Errorf("the identity field is not labelled %q", tc.label[lang])
						}
					})
				}
			}

			// A form from before a channel went away asks for a kind no
			// code can reach: it is answered with the notice, and no code
			// is queued nor request made.
			for _, kind := range []string{"email", "phone"} {
				if tc.missing != kind && tc.missing != "both" {
					continue
				}
				t.Run("posted "+kind, func(t *testing.T) {
					b.get("/privacy/?lang=en") // a form, and its CSRF token, even where the forms below are not shown
					r := b.post("/privacy/signin?lang=en", url.Values{"kind": {kind}, "identity": {map[string]string{"email": "lin.wei@example.com", "phone": "13800138000"}[kind]}})
					if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "A code cannot be sent that way at the moment.") || !strings.Contains(r.body, notices[tc.missing]["en"]) {
						t.Errorf("sign-in: status %d\n%s", r.status, excerpt(r.body))
					}
					r = b.post("/privacy/requests?lang=en", url.Values{"type": {"access"}, "jurisdiction": {"CN"}, "kind": {kind}, "identity": {map[string]string{"email": "lin.wei@example.com", "phone": "13800138000"}[kind]}})
					if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "A code cannot be sent that way at the moment.") || !strings.Contains(r.body, notices[tc.missing]["en"]) {
						t.Errorf("request: status %d\n%s", r.status, excerpt(r.body))
					}
					for _, v := range pii {
						if strings.Contains(r.body, v) {
							t.Errorf("the page echoes %q", v)
						}
					}
				})
			}
			if tc.missing != "" {
				after, err := h.d.Server.Requests().List(t.Context(), dsr.Filter{})
				if err != nil || len(after) != len(before) {
					t.Errorf("requests: %d before, %d after (%v), want none made", len(before), len(after), err)
				}
				assertLogsClean(t, h)
			}
		})
	}
}
