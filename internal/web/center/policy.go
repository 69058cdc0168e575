package center

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/policy"
	"github.com/custos-privacy/custos/internal/web"
)

// docView is a rendered policy shaped for the templates. Text stays text:
// the templates escape it, and only **bold** and bare URLs become markup,
// built by the templates themselves.
type docView struct {
	Lang     string
	Title    string
	Meta     []string
	Sections []sectionView
}

type sectionView struct {
	Anchor string
	Number string
	Title  string
	Level  int // heading level, 2 to 6
	Blocks []blockView
	Subs   []sectionView
}

type blockView struct {
	Para    []span
	Items   [][]span
	Ordered bool
	Head    []string
	Rows    [][]cell
}

// cell is a table cell with its column's heading, shown beside it when
// a narrow screen stacks the table.
type cell struct {
	Label string
	Spans []span
}

// span is a run of inline text: plain, bold, or a link.
type span struct {
	Text string
	Bold bool
	Href string
}

func viewDoc(doc *policy.Document) docView {
	v := docView{Lang: doc.Lang, Title: doc.Title, Meta: doc.Meta}
	for i, s := range doc.Sections {
		v.Sections = append(v.Sections, viewSection(doc.Lang, s, []int{i + 1}))
	}
	return v
}

func viewSection(lang string, s policy.Section, path []int) sectionView {
	v := sectionView{Title: s.Title, Level: min(len(path)+1, 6), Number: policy.SectionNumber(lang, path)}
	parts := make([]string, len(path))
	for i, n := range path {
		parts[i] = fmt.Sprint(n)
	}
	v.Anchor = "s-" + strings.Join(parts, "-")
	for _, b := range s.Blocks {
		switch x := b.(type) {
		case policy.Para:
			v.Blocks = append(v.Blocks, blockView{Para: spans(x.Text)})
		case policy.List:
			bv := blockView{Ordered: x.Ordered}
			for _, it := range x.Items {
				bv.Items = append(bv.Items, spans(it))
			}
			v.Blocks = append(v.Blocks, bv)
		case policy.Table:
			bv := blockView{Head: x.Head}
			for _, row := range x.Rows {
				var cells []cell
				for i, text := range row {
					if text == "" {
						text = "—"
					}
					c := cell{Spans: spans(text)}
					if i < len(x.Head) {
						c.Label = x.Head[i]
					}
					cells = append(cells, c)
				}
				bv.Rows = append(bv.Rows, cells)
			}
			v.Blocks = append(v.Blocks, bv)
		}
	}
	for i, sub := range s.Subs {
		v.Subs = append(v.Subs, viewSection(lang, sub, append(slices.Clone(path), i+1)))
	}
	return v
}

// spans splits inline text into plain, **bold** and http(s) link runs.
func spans(s string) []span {
	var out []span
	for i, part := range strings.Split(s, "**") {
		bold := i%2 == 1
		for part != "" {
			at := strings.Index(part, "https://")
			if j := strings.Index(part, "http://"); j >= 0 && (at < 0 || j < at) {
				at = j
			}
			if at < 0 {
				out = append(out, span{Text: part, Bold: bold})
				break
			}
			if at > 0 {
				out = append(out, span{Text: part[:at], Bold: bold})
			}
			end := at
			for end < len(part) && part[end] < 0x80 && !strings.ContainsRune(" \t\n<>\"'()", rune(part[end])) {
				end++
			}
			u := strings.TrimRight(part[at:end], ".,;:")
			out = append(out, span{Text: u, Bold: bold, Href: u})
			part = part[at+len(u):]
		}
	}
	return out
}

// plain flattens spans back to text, for diffs.
func plain(sp []span) string {
	var b strings.Builder
	for _, s := range sp {
		b.WriteString(s.Text)
	}
	return b.String()
}

// docLang is the language a policy is shown in: the page's if the
// manifest is published in it, else the prevailing one.
func docLang(m *manifest.Manifest, lang string) string {
	if slices.Contains(m.Policy.Languages, lang) {
		return lang
	}
	return m.DefaultLanguage()
}

// noticeHash is the hex SHA-256 of the policy text (markdown) of a version
// in a language: what the consent page shows and records as the notice.
func (c *center) noticeHash(seq int64, m *manifest.Manifest, lang string) (string, error) {
	key := fmt.Sprintf("%d/%s", seq, lang)
	if h, ok := c.notices.Load(key); ok {
		return h.(string), nil
	}
	doc, err := policy.Render(m, docLang(m, lang))
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := policy.Write(&buf, doc, "markdown"); err != nil {
		return "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	h := hex.EncodeToString(sum[:])
	c.notices.Store(key, h)
	return h, nil
}

type policyData struct {
	Version  consent.Version
	Current  bool
	Doc      docView
	Notice   string
	DocLang  string
	Versions []consent.Version
	// Upcoming is the version announced to come into force, if any.
	Upcoming *consent.Version
}

func (c *center) policyCurrent(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "policy.title")
	v, m, vs, err := c.opt.Consent.InForce()
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.showPolicy(w, r, p, v, m, vs)
}

// upcoming is the version announced to come into force next, if any.
func upcoming(vs []consent.Version) *consent.Version {
	for i := range vs {
		if vs[i].State == consent.VersionUpcoming {
			return &vs[i]
		}
	}
	return nil
}

// showPolicy renders one version; vs, the versions, are read for the
// version in force, which announces the next.
func (c *center) showPolicy(w http.ResponseWriter, r *http.Request, p *web.Page, v consent.Version, m *manifest.Manifest, vs []consent.Version) {
	lang := docLang(m, p.Lang)
	doc, err := policy.Render(m, lang)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	hash, err := c.noticeHash(v.Seq, m, p.Lang)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	p.Title = doc.Title
	switch v.State {
	case consent.VersionSuperseded:
		p.Notice = p.T("policy.archived", v.Label)
	case consent.VersionUpcoming:
		p.Notice = p.T("policy.upcoming_this", v.Label, v.EffectiveAt.In(calendar.China).Format("2006-01-02 15:04"))
	}
	d := policyData{Version: v, Current: v.State == consent.VersionInForce, Doc: viewDoc(doc), Notice: hash, DocLang: lang}
	if d.Current {
		d.Upcoming = upcoming(vs)
	}
	p.Data = d
	c.r.Render(w, http.StatusOK, "policy", p)
}

func (c *center) policyVersions(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "versions.title")
	vs, err := c.opt.Consent.Versions(r.Context())
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	slices.Reverse(vs) // newest first
	p.Data = policyData{Versions: vs}
	c.r.Render(w, http.StatusOK, "versions", p)
}

func (c *center) policyVersion(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "policy.title")
	v, m, err := c.opt.Consent.VersionByLabel(r.Context(), r.PathValue("version"))
	if err != nil {
		c.r.Error(w, r, p, http.StatusNotFound, "error.notfound")
		return
	}
	var vs []consent.Version
	if v.State == consent.VersionInForce {
		if vs, err = c.opt.Consent.Versions(r.Context()); err != nil {
			c.fail(w, r, p, err)
			return
		}
	}
	c.showPolicy(w, r, p, v, m, vs)
}
