package center_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// centerForms are the paths of every form of the privacy center.
var centerForms = []string{
	"/privacy/signin", "/privacy/signin/code", "/privacy/signout",
	"/privacy/consents", "/privacy/objections", "/privacy/acceptances",
	"/privacy/requests", "/privacy/requests/follow",
	"/privacy/requests/rq_x/verify", "/privacy/requests/rq_x/withdraw", "/privacy/requests/rq_x/download",
}

// TestFormsRefusedWhole: a form over the size limit is refused as too
// large (413), not as a forged form, and a field holding a control
// character or invalid UTF-8 is refused (422) naming the field, on every
// form of the center, before any handler acts on it.
func TestFormsRefusedWhole(t *testing.T) {
	h := newHarness(t)
	b := h.browser(t)
	b.get("/privacy/?lang=en") // the csrf cookie and token
	for _, path := range centerForms {
		t.Run(path, func(t *testing.T) {
			r := b.post(path+"?lang=en", url.Values{"identity": {"lin.wei@example.com"}, "pad": {strings.Repeat("a", 1<<20)}})
			if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "too large") {
				t.Errorf("over the limit: %d, want 413 saying so\n%s", r.status, excerpt(r.body))
			}
			r = b.post(path+"?lang=en", url.Values{"kind": {"email"}, "identity": {"lin.wei\x00@example.com"}, "type": {"access"}})
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "The field identity holds a control character") {
				t.Errorf("NUL in a field: %d, want 422 naming it\n%s", r.status, excerpt(r.body))
			}
			r = b.post(path+"?lang=en", url.Values{"kind": {"email"}, "identity": {"lin.wei@example.com"}, "code": {"12\xff3456"}})
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "The field code holds") {
				t.Errorf("invalid UTF-8 in a field: %d, want 422 naming it\n%s", r.status, excerpt(r.body))
			}
		})
	}
	if strings.Contains(h.logs.String(), "lin.wei") {
		t.Error("the log carries the identity")
	}
}
