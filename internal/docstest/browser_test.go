//go:build linux

package docstest

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// browser is what a reader's browser does with the pages: it keeps
// cookies, follows redirects when told to, and submits a page's forms with
// their hidden fields (the CSRF token among them).
type browser struct {
	c *http.Client
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is an answer: its status, final URL and body.
type page struct {
	status   int
	url      string
	location string
	body     string
}

func (b *browser) do(req *http.Request) (page, error) {
	req.Header.Set("Accept-Language", "en")
	res, err := b.c.Do(req)
	if err != nil {
		return page{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return page{}, err
	}
	return page{status: res.StatusCode, url: req.URL.String(), location: res.Header.Get("Location"), body: string(body)}, nil
}

// open gets a URL and follows its redirects, as typing it in does.
func (b *browser) open(u string) (page, error) {
	for range 10 {
		req, err := http.NewRequest("GET", u, nil)
		if err != nil {
			return page{}, err
		}
		p, err := b.do(req)
		if err != nil || p.location == "" || p.status < 300 || p.status > 399 {
			return p, err
		}
		next, err := req.URL.Parse(p.location)
		if err != nil {
			return p, err
		}
		u = next.String()
	}
	return page{}, fmt.Errorf("more than 10 redirects from %s", u)
}

var (
	formRE   = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	attrRE   = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
	hiddenRE = regexp.MustCompile(`<input\b[^>]*type="hidden"[^>]*>`)
)

// submit posts the form of p with the given id, its hidden fields and the
// fields given, and returns the answer without following it.
func (b *browser) submit(p page, id string, fields url.Values) (page, error) {
	for _, m := range formRE.FindAllStringSubmatch(p.body, -1) {
		attrs := attributes(m[1])
		if attrs["id"] != id {
			continue
		}
		form := url.Values{}
		for _, in := range hiddenRE.FindAllString(m[2], -1) {
			a := attributes(in)
			form.Set(a["name"], a["value"])
		}
		for k, v := range fields {
			form[k] = v
		}
		base, err := url.Parse(p.url)
		if err != nil {
			return page{}, err
		}
		action, err := base.Parse(attrs["action"])
		if err != nil {
			return page{}, err
		}
		req, err := http.NewRequest("POST", action.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return page{}, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return b.do(req)
	}
	return page{}, fmt.Errorf("%s has no form #%s", p.url, id)
}

func attributes(tag string) map[string]string {
	out := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(tag, -1) {
		out[a[1]] = html.UnescapeString(a[2])
	}
	return out
}
