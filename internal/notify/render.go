package notify

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"text/template"
)

// Each file templates/<name>.<lang>.tmpl defines "subject", "text" (the
// email body) and "sms" (a short body for text messages). Values come from
// Delivery.Data: "request", "type" (a right, named by the right function),
// "due_date", "reason", "effective" for requests, "code" and "minutes" for
// one-time codes. A missing or empty value is an error rather than
// "<no value>" or a blank; optional ones are read with index, which yields
// "" when absent.
//
//go:embed templates/*.tmpl
var templateFS embed.FS

// Rendered is a template rendered for one delivery.
type Rendered struct {
	Subject string // one line
	Text    string // email body
	SMS     string // text message body
}

type templateKey struct{ name, lang string }

var catalog = mustLoadCatalog(templateFS)

func mustLoadCatalog(fsys fs.FS) map[templateKey]*template.Template {
	c, err := loadCatalog(fsys)
	if err != nil {
		// The templates are compiled into the binary: a broken one is a
		// build defect, which the package tests catch.
		panic(err)
	}
	return c
}

func loadCatalog(fsys fs.FS) (map[templateKey]*template.Template, error) {
	files, err := fs.Glob(fsys, "templates/*.tmpl")
	if err != nil {
		return nil, err
	}
	c := make(map[templateKey]*template.Template, len(files))
	for _, f := range files {
		base := strings.TrimSuffix(path.Base(f), ".tmpl")
		name, lang, ok := strings.Cut(base, ".")
		if !ok || !slices.Contains(Languages(), lang) {
			return nil, fmt.Errorf("notify: template file %s is not <name>.<lang>.tmpl", f)
		}
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		t, err := template.New(base).Funcs(funcsFor(lang)).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("notify: parse %s: %w", f, err)
		}
		c[templateKey{name, lang}] = t
	}
	return c, nil
}

// Languages returns the languages every template is written in.
func Languages() []string { return []string{LangZH, LangEN} }

// Templates returns the names of the message templates, sorted.
func Templates() []string {
	var names []string
	for k := range catalog {
		if !slices.Contains(names, k.name) {
			names = append(names, k.name)
		}
	}
	slices.Sort(names)
	return names
}

func hasTemplate(name, lang string) bool {
	_, ok := catalog[templateKey{name, lang}]
	return ok
}

// Render renders a template in a language with its values. Errors name the
// template and the missing value, never the values given.
func Render(name, lang string, data map[string]string) (Rendered, error) {
	t, ok := catalog[templateKey{name, lang}]
	if !ok {
		return Rendered{}, fmt.Errorf("%w: no template %q in language %q", ErrInvalid, name, lang)
	}
	// Empty counts as absent, so that a required value left blank fails
	// like a missing one and an optional one drops its line.
	present := make(map[string]string, len(data))
	for k, v := range data {
		if strings.TrimSpace(v) != "" {
			present[k] = v
		}
	}
	var r Rendered
	for _, part := range []struct {
		name string
		dst  *string
	}{{"subject", &r.Subject}, {"text", &r.Text}, {"sms", &r.SMS}} {
		var b strings.Builder
		if err := t.ExecuteTemplate(&b, part.name, present); err != nil {
			return Rendered{}, fmt.Errorf("%w: render %s.%s %s: %v", ErrInvalid, name, lang, part.name, execCause(err))
		}
		*part.dst = strings.TrimSpace(b.String())
	}
	// A subject is a header: values must not be able to break it into two.
	r.Subject = strings.Join(strings.Fields(r.Subject), " ")
	r.SMS = strings.Join(strings.Fields(r.SMS), " ")
	r.Text += "\n"
	return r, nil
}

// execCause keeps the part of a template error that says what went wrong
// (`map has no entry for key "due_date"`) and drops the rest.
func execCause(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// funcsFor returns the template functions for a language: names for the
// kinds of requests and for what recipients are asked to do, so templates
// can say "删除个人信息" for "deletion".
func funcsFor(lang string) template.FuncMap {
	i := 1
	if lang == LangZH {
		i = 0
	}
	return template.FuncMap{
		"right": func(v string) string {
			if n, ok := rightNames[v]; ok {
				return n[i]
			}
			return v
		},
		"action": func(v string) string {
			if n, ok := actionNames[v]; ok {
				return n[i]
			}
			return v
		},
	}
}

// actionNames name what a recipient is asked to do with what it received
// (a recipient task's action): {zh-CN, en}.
var actionNames = map[string][2]string{
	"deletion":    {"删除", "deletion"},
	"correction":  {"更正", "correction"},
	"restriction": {"限制处理", "restriction of processing"},
	"portability": {"转移", "transfer"},
}

// rightNames names the rights a request exercises (manifest rights.offered)
// as the object of "your request for …": {zh-CN, en}.
var rightNames = map[string][2]string{
	"access":                     {"查阅个人信息", "access to your personal information"},
	"copy":                       {"复制个人信息", "a copy of your personal information"},
	"portability":                {"转移个人信息", "transfer of your personal information"},
	"correction":                 {"更正、补充个人信息", "correction of your personal information"},
	"deletion":                   {"删除个人信息", "deletion of your personal information"},
	"withdraw_consent":           {"撤回同意", "withdrawal of your consent"},
	"cancel_account":             {"注销账号", "cancellation of your account"},
	"restriction":                {"限制处理个人信息", "restriction of processing"},
	"objection":                  {"拒绝处理个人信息", "objection to processing"},
	"explain_automated_decision": {"解释自动化决策", "an explanation of an automated decision"},
	"explain_rules":              {"解释个人信息处理规则", "an explanation of our processing rules"},
	"complaint":                  {"投诉", "a complaint"},
	"deceased":                   {"近亲属对死者个人信息行使权利", "a close relative's rights over a deceased person's information"},
}
