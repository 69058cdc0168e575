package shareddata

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that notes how a test would end instead of ending it.
type recorder struct {
	testing.TB
	ended string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Skipf(f string, a ...any)  { r.ended = "skip: " + fmt.Sprintf(f, a...) }
func (r *recorder) Fatalf(f string, a ...any) { r.ended = "fail: " + fmt.Sprintf(f, a...) }
func (r *recorder) Fatal(a ...any)            { r.ended = "fail: " + fmt.Sprint(a...) }

func TestRead(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "present.txt"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, shared, require, file string
		want, ended                 string
	}{
		{name: "found", shared: dir, file: "present.txt", want: "data"},
		{name: "named place, missing: fail", shared: dir, file: "absent.txt", ended: "fail: shared data is required"},
		{name: "beside the repository, missing, required: fail", require: "1", file: "absent-" + t.Name(), ended: "fail: shared data is required"},
		{name: "beside the repository, missing: skip", file: "absent-" + t.Name(), ended: "skip: shared data not present"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CUSTOS_SHARED_DATA", tt.shared)
			t.Setenv("CUSTOS_REQUIRE_SERVICES", tt.require)
			r := &recorder{TB: t}
			got := Read(r, tt.file)
			if string(got) != tt.want || !strings.HasPrefix(r.ended, tt.ended) || (tt.ended == "") != (r.ended == "") {
				t.Errorf("Read = %q, ended %q; want %q, ended %q", got, r.ended, tt.want, tt.ended)
			}
		})
	}
}

// TestDirBesideTheRepository: without CUSTOS_SHARED_DATA the data is
// ../shared/data from the module root, wherever in the module the test runs.
func TestDirBesideTheRepository(t *testing.T) {
	t.Setenv("CUSTOS_SHARED_DATA", "")
	want, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data"))
	if err != nil {
		t.Fatal(err)
	}
	if got := Dir(t); got != want {
		t.Errorf("Dir = %q, want %q", got, want)
	}
}
