package console_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/web/webtest"
)

// consoleForms are the paths of every form of the console.
var consoleForms = []string{
	"/console/signin", "/console/signout", "/console/account/password",
	"/console/requests/rq_x/verify", "/console/requests/rq_x/approve", "/console/requests/rq_x/refuse",
	"/console/requests/rq_x/extend", "/console/requests/rq_x/complete", "/console/requests/rq_x/recipients/r_x/ack",
	"/console/requests/rq_x/fee", "/console/requests/rq_x/fee/paid", "/console/requests/rq_x/fee/waive", "/console/requests/rq_x/transmission/retry",
	"/console/assistance/as_x/done",
	"/console/approvals", "/console/approvals/ap_x/approve", "/console/approvals/ap_x/reject",
	"/console/approvals/ap_x/download", "/console/approvals/ap_x/resume",
	"/console/holds", "/console/holds/hl_x/lift", "/console/retention/run",
	"/console/policies", "/console/audit/verify",
	"/console/operators", "/console/operators/x/disable", "/console/operators/x/enable", "/console/operators/x/password",
}

// TestFormsRefusedWhole: on every form of the console, a body over the
// limit answers 413 (not 403, as when a failed parse lost the CSRF
// token), and a field with a control character or invalid UTF-8 answers
// 422 naming the field, before the handler runs.
func TestFormsRefusedWhole(t *testing.T) {
	d := webtest.Demo(t)
	c := signedIn(t, d, adminUser, adminPW)
	for _, path := range consoleForms {
		t.Run(path, func(t *testing.T) {
			r := c.post(path, url.Values{"reason": {"x"}, "pad": {strings.Repeat("a", 1<<20)}})
			if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "too large") {
				t.Errorf("over the limit: %d, want 413 saying so", r.status)
			}
			r = c.post(path, url.Values{"username": {"csrf\x00victim"}, "role": {"admin"}})
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "The field username holds a control character") {
				t.Errorf("NUL in a field: %d, want 422 naming it", r.status)
			}
		})
	}
	// A manifest uploaded whole, over the limit.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", c.csrf())
	fw, _ := mw.CreateFormFile("file", "custos.yaml")
	fw.Write(bytes.Repeat([]byte("# a comment\n"), 100_000))
	mw.Close()
	if r := c.send("POST", "/console/policies", mw.FormDataContentType(), &buf); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("upload over the limit: %d, want 413", r.status)
	}
	// No refused form reached a handler: the admin is still signed in
	// (signout was refused), and no operator was made.
	if r := c.get("/console/operators"); r.status != http.StatusOK || strings.Contains(r.body, "victim") {
		t.Errorf("after the refused forms: %d", r.status)
	}
}

// send sends a body of any type.
func (c *client) send(method, path, ctype string, body io.Reader) resp {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept-Language", "en")
	req.Header.Set("Content-Type", ctype)
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, string(b)}
}
