package picture

import (
	"encoding/xml"
	"errors"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/manifest"
)

// svgDoc is what the tests read back from a picture.
type svgDoc struct {
	title, desc string
	groupTitles []string // the <title> of every <g>: a node's full description
	texts       []string // every <text>'s own characters
	paths       []map[string]string
}

// readSVG decodes a picture strictly as XML and checks what every picture
// must have: role="img", a viewBox, a title and a description named by
// aria-labelledby, unique ids, and nothing a strict CSP or a sanitiser
// would object to.
func readSVG(t *testing.T, h template.HTML) svgDoc {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(string(h)))
	dec.Strict = true
	var doc svgDoc
	var stack []string
	var chars strings.Builder
	ids := map[string]bool{}
	var root xml.StartElement
	var children []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			name := tok.Name.Local
			if name == "style" || name == "script" || name == "foreignObject" {
				t.Errorf("<%s> element in a picture", name)
			}
			attrs := map[string]string{}
			for _, a := range tok.Attr {
				attrs[a.Name.Local] = a.Value
				if a.Name.Local == "style" || strings.HasPrefix(a.Name.Local, "on") {
					t.Errorf("attribute %s on <%s>", a.Name.Local, name)
				}
				if a.Name.Local == "id" {
					if ids[a.Value] {
						t.Errorf("duplicate id %q", a.Value)
					}
					ids[a.Value] = true
				}
			}
			if len(stack) == 0 {
				root = tok.Copy()
			}
			if len(stack) == 1 {
				children = append(children, name)
			}
			if name == "path" {
				doc.paths = append(doc.paths, attrs)
			}
			stack = append(stack, name)
			chars.Reset()
		case xml.CharData:
			chars.Write(tok)
		case xml.EndElement:
			text := chars.String()
			parent := ""
			if len(stack) >= 2 {
				parent = stack[len(stack)-2]
			}
			switch {
			case tok.Name.Local == "title" && len(stack) == 2:
				doc.title = text
			case tok.Name.Local == "desc" && len(stack) == 2:
				doc.desc = text
			case tok.Name.Local == "title" && parent == "g":
				doc.groupTitles = append(doc.groupTitles, text)
			case tok.Name.Local == "text":
				doc.texts = append(doc.texts, strings.TrimSpace(text))
			}
			stack = stack[:len(stack)-1]
			chars.Reset()
		}
	}
	if root.Name.Local != "svg" {
		t.Fatalf("root element is <%s>, want <svg>", root.Name.Local)
	}
	attr := map[string]string{}
	for _, a := range root.Attr {
		attr[a.Name.Local] = a.Value
	}
	if attr["role"] != "img" || !strings.HasPrefix(attr["viewBox"], "0 0 ") {
		t.Errorf("root attributes %v: want role=img and a viewBox", attr)
	}
	if len(children) < 2 || children[0] != "title" || children[1] != "desc" {
		t.Errorf("root begins with %v, want title then desc", children[:min(2, len(children))])
	}
	for _, id := range strings.Fields(attr["aria-labelledby"]) {
		if !ids[id] {
			t.Errorf("aria-labelledby names %q, which is not in the picture", id)
		}
	}
	if doc.title == "" || doc.desc == "" {
		t.Errorf("title %q, desc %q: both must say something", doc.title, doc.desc)
	}
	return doc
}

func load(t *testing.T, path string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// manifests are the example manifests, the smallest valid one and one
// built to be awkward.
func manifests(t *testing.T) map[string]string {
	files, err := filepath.Glob("../../../examples/*/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("example manifests: %v, %v", files, err)
	}
	out := map[string]string{
		"minimal": "../../manifest/testdata/minimal.yaml",
		"hostile": "testdata/hostile.yaml",
	}
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil && regexp.MustCompile(`(?m)^custos_dataset:`).Match(data) {
			continue // a dataset annotation beside the manifest
		}
		name := filepath.Base(filepath.Dir(f)) + "-" + strings.TrimSuffix(filepath.Base(f), ".yaml")
		out[strings.TrimSuffix(name, "-custos")] = f
	}
	return out
}

func TestFlowMapGolden(t *testing.T) {
	for name, path := range manifests(t) {
		t.Run(name, func(t *testing.T) {
			m := load(t, path)
			langs := []string{"en"}
			if name == "starter" || name == "hostile" {
				langs = append(langs, "zh-CN")
			}
			for _, lang := range langs {
				h := FlowMap(m, lang)
				readSVG(t, h)
				golden(t, "flowmap-"+name+"."+lang+".svg", []byte(h))
			}
		})
	}
}

// TestFlowMapMarks checks, from the manifest rather than from the graph
// the map is drawn from, that every recipient or SDK abroad and every
// named recipient of a cross-border transfer is marked as cross-border,
// and every sensitive category as sensitive.
func TestFlowMapMarks(t *testing.T) {
	for name, path := range manifests(t) {
		t.Run(name, func(t *testing.T) {
			m := load(t, path)
			l := newLang("en", m)
			home := "CN"
			if len(m.Controllers) > 0 && m.Controllers[0].Country != "" {
				home = m.Controllers[0].Country
			}
			abroad := map[string]bool{}
			for _, r := range m.Recipients {
				if r.Country != "" && r.Country != home {
					abroad[l.t(r.Name, r.ID)] = true
				}
			}
			for _, s := range m.SDKs {
				if s.Country != "" && s.Country != home {
					abroad[l.t(s.Name, s.ID)] = true
				}
			}
			for _, x := range m.Storage.CrossBorder {
				if r, ok := m.Recipient(x.Recipient); ok {
					abroad[l.t(r.Name, r.ID)] = true
				}
			}
			sensitive := map[string]bool{}
			for _, s := range m.Services {
				for _, c := range s.Collects {
					for _, id := range c.Categories {
						if m.Sensitive(id) {
							cat, _ := m.Category(id)
							sensitive[l.t(cat.Name, id)] = true
						}
					}
				}
			}
			doc := readSVG(t, FlowMap(m, "en"))
			marked := func(label, mark string) bool {
				for _, title := range doc.groupTitles {
					if strings.HasPrefix(title, label+"; ") && strings.Contains(title, mark) {
						return true
					}
				}
				return false
			}
			for label := range abroad {
				if !marked(label, "cross-border: ") {
					t.Errorf("recipient %q is abroad but not marked cross-border", label)
				}
			}
			for label := range sensitive {
				if !marked(label, "sensitive personal information") {
					t.Errorf("category %q is sensitive but not marked", label)
				}
			}
			if name == "hostile" {
				for _, label := range []string{"Singapore relay", "Ads SDK", "Transfer to JP", "mobile phone number"} {
					if !marked(label, "cross-border: ") {
						t.Errorf("%q not marked cross-border", label)
					}
				}
				if marked("Courier", "cross-border") {
					t.Errorf("a recipient at home is marked cross-border")
				}
				if !strings.Contains(string(FlowMap(m, "en")), `stroke-dasharray="6 3"><path d=`) {
					t.Errorf("cross-border edges are not drawn dashed")
				}
				if !strings.Contains(doc.desc, "Leaving CN: ") || !strings.Contains(doc.desc, "Ads SDK (US)") {
					t.Errorf("description does not list what leaves the country: %q", doc.desc)
				}
			}
		})
	}
}

func TestFlowMapEscapes(t *testing.T) {
	m := load(t, "testdata/hostile.yaml")
	for _, lang := range []string{"en", "zh-CN"} {
		h := string(FlowMap(m, lang))
		for _, bad := range []string{"<script", "<b>", "alert(1)</script>"} {
			if strings.Contains(h, bad) {
				t.Errorf("%s: markup from the manifest reached the picture unescaped: %q", lang, bad)
			}
		}
		if !strings.Contains(h, "&lt;script&gt;") {
			t.Errorf("%s: the label with <script> is missing or not escaped as text", lang)
		}
	}
	doc := readSVG(t, FlowMap(m, "en"))
	found := false
	for _, title := range doc.groupTitles {
		found = found || strings.HasPrefix(title, "Account <script>alert(1)</script> & sign-in")
	}
	if !found {
		t.Errorf("the full label does not come back intact from the XML: %q", doc.groupTitles)
	}
	if !strings.Contains(doc.desc, `face images <b>&amp; "templates"`) {
		t.Errorf("description lost the text of a sensitive category: %q", doc.desc)
	}
}

func TestFlowMapLanguageFallback(t *testing.T) {
	m := load(t, "testdata/hostile.yaml")
	p, _ := m.Purpose("ads")
	delete(p.Name, "en")
	doc := readSVG(t, FlowMap(m, "en"))
	want := "个性化广告推送与效果衡量以及与合作伙伴的联合营销活动"
	ok := false
	for _, title := range doc.groupTitles {
		ok = ok || title == want
	}
	if !ok {
		t.Errorf("a purpose without English text is not shown in the prevailing language: %q", doc.groupTitles)
	}
	for _, text := range doc.texts {
		if strings.HasPrefix(text, "个性化") && !strings.HasSuffix(text, "…") {
			t.Errorf("a label too long for its box is not shortened: %q", text)
		}
	}
}

// crossings counts pairs of edges between the same two columns that cross.
func crossings(g *flowGraph) int {
	n := 0
	for i, a := range g.edges {
		for _, b := range g.edges[i+1:] {
			if a.from.col == b.from.col && (a.from.y-b.from.y)*(a.to.y-b.to.y) < 0 {
				n++
			}
		}
	}
	return n
}

func TestFlowMapLayout(t *testing.T) {
	for name, path := range manifests(t) {
		t.Run(name, func(t *testing.T) {
			m := load(t, path)
			g := buildFlow(m, newLang("en", m))
			for _, col := range g.cols {
				for i, n := range col {
					n.y = float64(i)
				}
			}
			before := crossings(g)
			height := g.layout()
			after := crossings(g)
			if after > before {
				t.Errorf("ordering added crossings: %d in manifest order, %d after", before, after)
			}
			if name == "yonyou-cloud" && after >= before {
				t.Errorf("ordering did not remove crossings: %d before, %d after", before, after)
			}
			rows := 0
			for _, col := range g.cols {
				rows = max(rows, len(col))
				for i, n := range col {
					if n.y-nodeHeight/2 < flowTop || n.y+nodeHeight/2 > height {
						t.Errorf("%q at y=%v is outside %v–%v", n.label, n.y, flowTop, height)
					}
					if i > 0 && n.y-col[i-1].y < rowPitch-0.001 {
						t.Errorf("%q overlaps %q", n.label, col[i-1].label)
					}
				}
			}
			if want := flowTop + float64(rows)*rowPitch; height != want {
				t.Errorf("height %v, want %v for %d rows", height, want, rows)
			}
		})
	}
}

func day(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }

func consentInput() []ConsentPoint {
	var pts []ConsentPoint
	for i, d := range []int{1, 8, 15, 22, 29} {
		pts = append(pts,
			ConsentPoint{At: day(d), Purpose: "ads", Granted: int64(40 + 5*i), Withdrawn: int64(60 - 5*i)},
			ConsentPoint{At: day(d), Purpose: "registration", Granted: 100, Withdrawn: 0},
		)
		if i != 2 { // nobody had decided at the middle point: a gap
			pts = append(pts, ConsentPoint{At: day(d), Purpose: "<script>legacy</script>", Granted: int64(i), Withdrawn: 1})
		} else {
			pts = append(pts, ConsentPoint{At: day(d), Purpose: "<script>legacy</script>"})
		}
	}
	return pts
}

func TestConsentChart(t *testing.T) {
	m := load(t, "testdata/hostile.yaml")
	for _, lang := range []string{"en", "zh-CN"} {
		h := ConsentChart(consentInput(), m, lang)
		doc := readSVG(t, h)
		golden(t, "consent."+lang+".svg", []byte(h))
		if strings.Contains(string(h), "<script") {
			t.Errorf("%s: a purpose id reached the picture unescaped", lang)
		}
		if lang != "en" {
			continue
		}
		want := "Share of subjects granting consent among those who decided, per purpose, from 2026-03-01 to 2026-03-29. " +
			"At 2026-03-29: personalised advertising 60% (60 of 100); <script>legacy</script> 80% (4 of 5)."
		if doc.desc != want {
			t.Errorf("desc:\n got %q\nwant %q", doc.desc, want)
		}
		var lines []string
		for _, p := range doc.paths {
			if p["stroke-width"] == "2" && strings.Contains(p["d"], "L") {
				lines = append(lines, p["d"])
			}
		}
		if len(lines) != 2 {
			t.Fatalf("%d lines, want 2 (the contract purpose is left out): %q", len(lines), lines)
		}
		if n := strings.Count(lines[1], "M"); n != 2 {
			t.Errorf("the line with a gap has %d segments, want 2: %q", n, lines[1])
		}
		// 40% at the first point: 40 % of the plot's height above its bottom.
		if !strings.Contains(lines[0], " "+num(plotBottom-0.4*plotHeight)) {
			t.Errorf("first point of ads not at 40%%: %q", lines[0])
		}
	}
	if doc := readSVG(t, ConsentChart(nil, nil, "en")); doc.desc != "No consent decisions yet." {
		t.Errorf("empty chart desc = %q", doc.desc)
	}
}

func TestRequestStates(t *testing.T) {
	open := []string{"received", "awaiting_verification", "verified", "in_progress", "awaiting_subject", "awaiting_fee", "extended"}
	counts := map[string]int64{"received": 3, "in_progress": 12, "extended": 1, "completed": 40, "refused": 2, "<odd&state>": 1}
	for _, lang := range []string{"en", "zh-CN"} {
		h := RequestStates(counts, open, lang)
		doc := readSVG(t, h)
		golden(t, "requests-state."+lang+".svg", []byte(h))
		if lang == "en" {
			want := "59 requests, 16 of them open. By state: Received 3, Awaiting verification 0, Verified 0, In progress 12, " +
				"Awaiting the subject 0, Awaiting the fee 0, Extended 1, Completed 40, Refused 2, Cancelled 0, Withdrawn 0, <odd&state> 1."
			if doc.desc != want {
				t.Errorf("desc:\n got %q\nwant %q", doc.desc, want)
			}
		}
	}
}

func TestRequestDeadlines(t *testing.T) {
	days := map[int]int64{math.MinInt32: 1, -3: 2, 0: 1, 2: 4, 3: 1, 5: 2, 6: 1, 10: 1, 11: 5, 15: 1, 16: 2, 60: 1}
	for _, lang := range []string{"en", "zh-CN"} {
		h := RequestDeadlines(days, lang)
		doc := readSVG(t, h)
		golden(t, "requests-due."+lang+".svg", []byte(h))
		if lang == "en" {
			want := "22 open requests by days left until the deadline: Overdue 3, 0–2 days 5, 3–5 days 3, 6–10 days 2, 11–15 days 6, Over 15 days 3."
			if doc.desc != want {
				t.Errorf("desc:\n got %q\nwant %q", doc.desc, want)
			}
		}
	}
	doc := readSVG(t, RequestDeadlines(nil, "en"))
	if !strings.HasPrefix(doc.desc, "0 open requests") {
		t.Errorf("empty histogram desc = %q", doc.desc)
	}
}
