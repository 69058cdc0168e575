package docstest

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/custos-privacy/custos/internal/web/webtest"
)

// documents are the files whose examples run, relative to the repository.
func documents(t *testing.T, root string) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md"}
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		files = append(files, filepath.ToSlash(rel))
	}
	slices.Sort(files[1:])
	return files
}

// TestDocumentedCalls sends every curl example of the documentation to the
// demo a reader runs (`custos serve --demo`, webtest.DemoHistory: the
// starter manifest's two versions, the demo subjects and their history, an
// admin key in $KEY), one fresh server per document, the blocks of a
// document in order. A call that answers 400 or more fails with
// the document's file:line, unless the block expects that status (see the
// package comment for the markers).
func TestDocumentedCalls(t *testing.T) {
	root := repoRoot(t)
	blocks, skipped, calls := 0, 0, 0
	for _, file := range documents(t, root) {
		src, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		bs, err := Extract(file, src)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) == 0 {
			continue
		}
		t.Run(file, func(t *testing.T) {
			var run *Runner
			if slices.ContainsFunc(bs, func(b Block) bool { return b.Skip == "" }) {
				d := webtest.DemoHistory(t)
				u, _ := url.Parse(d.URL)
				run = &Runner{Base: d.URL, Root: root, Vars: map[string]string{"KEY": d.AdminKey, "HOST": u.Host}}
			}
			for _, b := range bs {
				t.Run(fmt.Sprintf("line %d", b.Line), func(t *testing.T) {
					if b.Skip != "" {
						skipped++
						t.Skipf("%s:%d: %s", b.File, b.Line, b.Skip)
					}
					blocks++
					if err := run.Run(t.Context(), b); err != nil {
						t.Error(err)
					}
				})
			}
			if run != nil {
				calls += run.Calls
			}
		})
	}
	t.Logf("ran %d blocks (%d calls); skipped %d blocks", blocks, calls, skipped)
	if blocks == 0 || calls == 0 {
		t.Errorf("no documented call ran: the documents moved, or the extraction broke")
	}
}

// repoRoot is the directory holding go.mod above the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
