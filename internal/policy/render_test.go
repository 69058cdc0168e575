package policy

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/manifest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/policy -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file; run go test ./internal/policy -update and review the diff\n%s", name, firstDifference(want, got))
	}
}

func firstDifference(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n- " + w + "\n+ " + g
		}
	}
	return ""
}

// examples returns every example manifest in the repository, by example name.
func examples(t *testing.T) map[string]*manifest.Manifest {
	t.Helper()
	paths, err := filepath.Glob("../../examples/*/custos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no examples found under examples/")
	}
	out := map[string]*manifest.Manifest{}
	for _, p := range paths {
		m, err := manifest.Load(p)
		if err != nil {
			t.Fatalf("example %s is invalid:\n%v", p, err)
		}
		out[filepath.Base(filepath.Dir(p))] = m
	}
	return out
}

func TestRenderGolden(t *testing.T) {
	for name, m := range examples(t) {
		for _, lang := range m.Policy.Languages {
			doc, err := Render(m, lang)
			if err != nil {
				t.Fatal(err)
			}
			for _, format := range Formats {
				t.Run(name+"/"+lang+"/"+format, func(t *testing.T) {
					var buf bytes.Buffer
					if err := Write(&buf, doc, format); err != nil {
						t.Fatal(err)
					}
					ext := map[string]string{"markdown": "md", "html": "html"}[format]
					golden(t, name+"."+lang+"."+ext, buf.Bytes())
				})
			}
		}
	}
}

func TestInventoryGolden(t *testing.T) {
	for name, m := range examples(t) {
		for _, format := range InventoryFormats {
			t.Run(name+"/"+format, func(t *testing.T) {
				inv, err := BuildInventory(m, "en")
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := WriteInventory(&buf, inv, format); err != nil {
					t.Fatal(err)
				}
				ext := map[string]string{"markdown": "md", "csv": "csv", "json": "json"}[format]
				golden(t, name+".inventory."+ext, buf.Bytes())
			})
		}
	}
}

// TestRenderCarriesEveryText proves the policy says everything the manifest
// says: every text in the manifest appears in both rendered languages.
func TestRenderCarriesEveryText(t *testing.T) {
	// Texts that belong to other documents than the policy.
	notInPolicy := map[string]bool{
		"subjects": true, // categories of data subjects: the record of processing
		"vault":    true, // how the vault keeps values: for operators, not the policy
	}
	for name, m := range examples(t) {
		for _, lang := range m.Policy.Languages {
			t.Run(name+"/"+lang, func(t *testing.T) {
				doc, err := Render(m, lang)
				if err != nil {
					t.Fatal(err)
				}
				body := strings.ToLower(strings.ReplaceAll(plainText(doc), "**", ""))
				key := manifest.TextKey(lang)
				manifest.WalkTexts(m, func(path string, text manifest.Text) {
					root := path
					if i := strings.IndexAny(path, ".["); i >= 0 {
						root = path[:i]
					}
					if notInPolicy[root] || inferredInterest(m, path) || assessmentRecord(path) {
						return
					}
					want := strings.ToLower(strings.TrimRight(strings.TrimSpace(text[key]), ".。"))
					if key != manifest.KeyEN {
						want = strings.ToLower(spaceHanLatin(strings.TrimRight(strings.TrimSpace(text[key]), "。")))
					}
					if !strings.Contains(body, want) {
						t.Errorf("%s (%s) is not in the rendered policy: %q", path, key, text[key])
					}
				})
			})
		}
	}
}

// assessmentRecord tells the texts of an impact assessment's record (who
// assessed, what, and the art. 56 contents) from those the policy prints:
// its subject.
func assessmentRecord(path string) bool {
	if !strings.HasPrefix(path, "assessments[") {
		return false
	}
	_, field, _ := strings.Cut(path, "].")
	return field != "subject" && !strings.HasPrefix(field, "subject.")
}

func plainText(doc *Document) string {
	var b strings.Builder
	b.WriteString(doc.Title + "\n")
	var walk func(s Section)
	walk = func(s Section) {
		b.WriteString(s.Title + "\n")
		for _, bl := range s.Blocks {
			switch x := bl.(type) {
			case Para:
				b.WriteString(x.Text + "\n")
			case List:
				b.WriteString(strings.Join(x.Items, "\n") + "\n")
			case Table:
				for _, row := range x.Rows {
					b.WriteString(strings.Join(row, "\n") + "\n")
				}
			}
		}
		for _, sub := range s.Subs {
			walk(sub)
		}
	}
	for _, s := range doc.Sections {
		walk(s)
	}
	return b.String()
}

// TestRenderStatesTheDecisionRules: the rendered policy states, in both
// languages, the rules the decision point applies to each example: who is a
// minor and what happens to them, what an unknown age means, what each
// browser signal refuses, what an objection does, and what express consent
// after a change holds back. (A basis that differs by jurisdiction is
// printed only where the policy states it: TestBasisByJurisdiction.)
func TestRenderStatesTheDecisionRules(t *testing.T) {
	tests := []struct {
		example string
		lang    string
		want    []string
	}{
		{"deepin", "en", []string{
			"We process the personal information of a person under 14 only with their guardian's consent, except where the law requires us to",
			"If we do not know your age, we treat you as aged 14 or over",
			"until you give it, we do not process your personal information for the purposes the change affects",
		}},
		{"deepin", "zh-CN", []string{"对于未满14周岁的人，除法律要求我们进行的处理外，我们仅在其监护人同意后处理其个人信息", "如我们不知道您的年龄，我们将您视为已满14周岁"}},
		{"smart-device-app", "en", []string{"We do not process the personal information of a person under 18, except where the law requires us to"}},
		{"opengemini", "zh-CN", []string{"对于未满18周岁的人，除法律要求我们进行的处理外，我们不处理其个人信息", "对于基于合法利益或公共利益的处理，您可以提出反对"}},
		// Yonyou Cloud ties no purpose to a basis (basis_inferred): the EU
		// bases the decision point applies are not printed as its words.
		{"yonyou-cloud", "en", []string{"We process the personal information of a person under 18 only with their guardian's consent, except where the law requires us to"}},
		{"yonyou-cloud", "zh-CN", []string{"对于未满18周岁的人，除法律要求我们进行的处理外，我们仅在其监护人同意后处理其个人信息"}},
		{"starter", "en", []string{
			"When your browser sends a Do Not Track signal, we take it as a withdrawal of your consent to product usage analytics and measuring our advertising",
			"When your browser sends a Global Privacy Control signal, we take it as a withdrawal of your consent to measuring our advertising",
		}},
		{"starter", "zh-CN", []string{"当您的浏览器发送“全球隐私控制”（Global Privacy Control）信号时，我们将其视为撤回您对推广广告效果衡量的同意"}},
	}
	ms := examples(t)
	for _, tt := range tests {
		t.Run(tt.example+"/"+tt.lang, func(t *testing.T) {
			doc, err := Render(ms[tt.example], tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := Write(&buf, doc, "markdown"); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(strings.Fields(buf.String()), " ")
			for _, w := range tt.want {
				if !strings.Contains(text, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("the policy does not say %q", w)
				}
			}
		})
	}
}

// inferredInterest reports whether path is the legitimate interest of a
// purpose whose basis the policy does not state: the decision point uses
// it, the policy does not print it.
func inferredInterest(m *manifest.Manifest, path string) bool {
	for i, p := range m.Purposes {
		if p.BasisInferred && path == fmt.Sprintf("purposes[%d].legitimate_interest", i) {
			return true
		}
	}
	return false
}

// TestBasisByJurisdiction: a purpose whose basis differs by jurisdiction
// names each, unless the policy does not state the basis.
func TestBasisByJurisdiction(t *testing.T) {
	m := loadBase(t, replace("    basis: consent\n    direct_marketing: true", "    basis: consent\n    bases: {EU: legitimate_interests}\n    legitimate_interest: {zh: 告知新功能, en: telling you about new features}\n    direct_marketing: true"),
		func(s string) string {
			return s + "jurisdictions:\n  - {id: EU, name: {zh: 欧盟, en: the European Union}}\n"
		})
	for lang, want := range map[string]string{
		"en":    "Your consent; for people in the European Union: our or a third party's legitimate interests",
		"zh-CN": "您的同意；对于欧盟的个人：我们或第三方的合法利益",
	} {
		if got := renderText(t, m, lang); !strings.Contains(got, want) {
			t.Errorf("%s: the policy does not say %q", lang, want)
		}
		m.Purposes[1].BasisInferred = true
		if got := renderText(t, m, lang); strings.Contains(got, want) {
			t.Errorf("%s: an inferred basis is printed: %q", lang, want)
		}
		m.Purposes[1].BasisInferred = false
	}
}

// TestInventoryCSVHeader: every column of the CSV record is named in one
// form, whatever the language, and there is one per cell.
func TestInventoryCSVHeader(t *testing.T) {
	for _, lang := range []string{"zh-CN", "en"} {
		inv, err := BuildInventory(loadBase(t), lang)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteInventory(&buf, inv, "csv"); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(buf.String(), "\n")
		head := strings.Split(lines[0], ",")
		for _, h := range head {
			if h != strings.ToLower(h) || strings.Contains(h, " ") {
				t.Errorf("%s: column %q is not snake_case", lang, h)
			}
		}
		rows, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) < 2 || len(rows[1]) != len(head) {
			t.Errorf("%s: %d columns named for %d cells", lang, len(head), len(rows[1]))
		}
	}
}
