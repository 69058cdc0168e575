package picture

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update makes golden-file tests rewrite their files: go test ./internal/web/picture -update
var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/web/picture -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		i := 0
		for i < len(want) && i < len(got) && want[i] == got[i] {
			i++
		}
		lo := max(0, i-80)
		t.Errorf("%s differs from the golden file at byte %d; run go test ./internal/web/picture -update and review the diff\nwant …%s\ngot  …%s",
			name, i, want[lo:min(len(want), i+80)], got[lo:min(len(got), i+80)])
	}
}
