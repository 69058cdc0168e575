package console_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/web/webtest"
)

// client is a browser stand-in: a cookie jar, no redirects followed.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, d *webtest.DemoServer) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: d.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, path string, form url.Values) resp {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept-Language", "en")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, string(b)}
}

func (c *client) get(path string) resp { return c.do("GET", path, nil) }

// csrf returns the CSRF cookie's token, fetching a page first if need be.
func (c *client) csrf() string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "custos_csrf" {
			return ck.Value
		}
	}
	c.get("/console/signin")
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "custos_csrf" {
			return ck.Value
		}
	}
	c.t.Fatal("no csrf cookie")
	return ""
}

// post sends a form with the CSRF token.
func (c *client) post(path string, form url.Values) resp {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf())
	return c.do("POST", path, form)
}

func (c *client) signIn(user, pw string) resp {
	c.t.Helper()
	return c.post("/console/signin", url.Values{"username": {user}, "password": {pw}})
}

func signedIn(t *testing.T, d *webtest.DemoServer, user, pw string) *client {
	t.Helper()
	c := newClient(t, d)
	if r := c.signIn(user, pw); r.status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d", user, r.status)
	}
	return c
}

// api calls the JSON API.
func api(t *testing.T, d *webtest.DemoServer, method, path string, header map[string]string, in any, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, d.URL+path, body)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		json.Unmarshal(b, out)
	}
	return res.StatusCode
}

// publicRequest files a public request for the demo subject with the
// email given, verifies it with the code sent, and returns its id and
// access token.
func publicRequest(t *testing.T, d *webtest.DemoServer, kind, email string) (string, string) {
	t.Helper()
	var acc struct {
		ID          string `json:"id"`
		AccessToken string `json:"access_token"`
	}
	in := map[string]any{"type": kind, "language": "en", "identity": map[string]string{"kind": "email", "value": email}}
	if st := api(t, d, "POST", "/v1/public/requests", nil, in, &acc); st != http.StatusAccepted || acc.ID == "" {
		t.Fatalf("public request: status %d, %+v", st, acc)
	}
	code := d.Code(t, email)
	if st := api(t, d, "POST", "/v1/public/requests/"+acc.ID+"/verify", map[string]string{"X-Request-Token": acc.AccessToken}, map[string]string{"code": code}, nil); st != http.StatusOK {
		t.Fatalf("verify: status %d", st)
	}
	return acc.ID, acc.AccessToken
}

// demo accounts (docs/console.md).
const (
	adminUser, adminPW       = "demo-admin", "custos-demo-admin"
	operatorUser, operatorPW = "demo-operator", "custos-demo-operator"
	approverUser, approverPW = "demo-approver", "custos-demo-approver"
)
