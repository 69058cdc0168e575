package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/manifest"

	"github.com/custos-privacy/custos/internal/calendar"
)

// Link is one entry of a page's navigation.
type Link struct {
	Href    string
	Label   string
	Current bool
}

// Page is what the layout needs of every page; Data is the page's own.
type Page struct {
	Lang  string
	Title string
	// Site names the organisation (the controller) in the header.
	Site string
	// Area is "privacy" or "console"; it selects the header's look.
	Area string
	Nav  []Link
	// Prevailing is the manifest's prevailing language, stated on
	// public pages; empty hides the statement.
	Prevailing string
	// Path is the current path and query, for the language switch.
	Path string
	CSRF string
	// Notice and Alert are one-line messages above the content.
	Notice, Alert string
	Data          any

	cat *Catalog
}

// T translates key into the page's language.
func (p *Page) T(key string, args ...any) string { return p.cat.T(p.Lang, key, args...) }

// LangURL is the current page in another language.
func (p *Page) LangURL(lang string) string { return WithLang(p.Path, lang) }

// Langs are the languages offered in the switch.
func (p *Page) Langs() []string { return Languages }

// Renderer renders a package's pages inside the shared layout.
type Renderer struct {
	pages map[string]*template.Template
	cat   *Catalog
	log   *slog.Logger
}

// Funcs are the template functions every page may use.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(calendar.China).Format("2006-01-02")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(calendar.China).Format("2006-01-02 15:04")
		},
		"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"join": strings.Join,
		"text": func(t manifest.Text, lang string) string { return t.In(lang) },
	}
}

// NewRenderer parses every pages/*.html of fsys, each with the shared
// layout and the package's partials/*.html (if any). A page defines the
// template "content".
func NewRenderer(fsys fs.FS, cat *Catalog, funcs template.FuncMap, log *slog.Logger) (*Renderer, error) {
	base := template.New("layout").Funcs(Funcs())
	if funcs != nil {
		base = base.Funcs(funcs)
	}
	base, err := base.ParseFS(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: layout: %w", err)
	}
	if partials, _ := fs.Glob(fsys, "partials/*.html"); len(partials) > 0 {
		if base, err = base.ParseFS(fsys, partials...); err != nil {
			return nil, fmt.Errorf("web: partials: %w", err)
		}
	}
	files, err := fs.Glob(fsys, "pages/*.html")
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]*template.Template{}, cat: cat, log: log}
	// The shared error page, unless the package has its own. Built here,
	// before any request, so that rendering only ever reads the map.
	errPage, err := base.Clone()
	if err != nil {
		return nil, err
	}
	if r.pages["error"], err = errPage.New("content").Parse(errorContent); err != nil {
		return nil, err
	}
	for _, f := range files {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if t, err = t.ParseFS(fsys, f); err != nil {
			return nil, fmt.Errorf("web: %s: %w", f, err)
		}
		r.pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return r, nil
}

// WithLogger returns a renderer that shares r's parsed pages and logs to
// log. Parsed templates are read-only and safe to execute concurrently, so
// one parse serves every organisation a process serves; parsing them again
// for each held megabytes per organisation.
func (r *Renderer) WithLogger(log *slog.Logger) *Renderer {
	c := *r
	c.log = log
	return &c
}

// Catalog is the renderer's message catalogue.
func (r *Renderer) Catalog() *Catalog { return r.cat }

// Page starts a page for the request: language, path and CSRF token filled in.
func (r *Renderer) Page(req *http.Request, lang, title string) *Page {
	return &Page{Lang: lang, Title: title, Path: req.URL.RequestURI(), CSRF: CSRFToken(req), cat: r.cat}
}

// Render writes page name with status. The page is rendered to a buffer
// first, so a template error becomes a clean 500 rather than half a page.
func (r *Renderer) Render(w http.ResponseWriter, status int, name string, p *Page) {
	t, ok := r.pages[name]
	if !ok {
		r.log.Error("web: no such page", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if p.cat == nil {
		p.cat = r.cat
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		r.log.Error("web: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorContent is the body of the shared error page: the alert says what
// went wrong, a link leads back to the area's start.
const errorContent = `<p><a href="{{if eq .Area "console"}}/console/{{else}}/privacy/{{end}}">{{.T "error.back"}}</a></p>`

// Error renders the error page with status and a message key (with its
// arguments, if it takes any) as its alert.
func (r *Renderer) Error(w http.ResponseWriter, req *http.Request, p *Page, status int, key string, args ...any) {
	if p == nil {
		p = r.Page(req, Lang(req, ""), "")
	}
	p.Title = p.T("error.title")
	p.Alert = p.T(key, args...)
	r.Render(w, status, "error", p)
}
