package web

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// storePath is the package the API and the pages must reach only through
// the domain packages, which own the rules the data must follow.
const storePath = "github.com/custos-privacy/custos/internal/store"

// TestNoStoreInHandlers: no non-test file of the JSON API or of the pages
// imports the store. A handler that reads or writes rows itself skips the
// rules (audit entries, caches, limits) its domain package keeps; tests
// may still use the store to set up and inspect.
func TestNoStoreInHandlers(t *testing.T) {
	var files []string
	for _, root := range []string{"../api", "."} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 10 {
		t.Fatalf("found only %d Go files under ../api and the web tree: the walk is looking in the wrong place", len(files))
	}
	fset := token.NewFileSet()
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == storePath {
				// Named from the module root: "internal/web/../api/x.go" cleans to "internal/api/x.go".
				t.Errorf("%s imports %s: go through a domain package instead", filepath.ToSlash(filepath.Join("internal/web", path)), storePath)
			}
		}
	}
}
