package policy

import (
	"bytes"
	"flag"
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
		for _, lang := range Languages {
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
	}
	for name, m := range examples(t) {
		for _, lang := range Languages {
			t.Run(name+"/"+lang, func(t *testing.T) {
				doc, err := Render(m, lang)
				if err != nil {
					t.Fatal(err)
				}
				body := strings.ToLower(strings.ReplaceAll(plainText(doc), "**", ""))
				key := "en"
				if lang == "zh-CN" {
					key = "zh"
				}
				manifest.WalkTexts(m, func(path string, text manifest.Text) {
					root := path
					if i := strings.IndexAny(path, ".["); i >= 0 {
						root = path[:i]
					}
					if notInPolicy[root] {
						return
					}
					want := strings.ToLower(strings.TrimRight(strings.TrimSpace(text[key]), ".。"))
					if key == "zh" {
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
