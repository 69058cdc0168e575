// Package shareddata finds the evaluation data every developer and CI run
// has beside the project, at ../shared/data from the module root (see
// ../shared/README.md), for the tests that read it. CUSTOS_SHARED_DATA names
// another place.
//
// Missing data skips a test on a developer's machine and fails it when
// CUSTOS_REQUIRE_SERVICES=1 (as in CI) or when CUSTOS_SHARED_DATA says where
// it should be: a reference case that is silently not run proves nothing.
package shareddata

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared data directory: $CUSTOS_SHARED_DATA, else
// ../shared/data from the root of the module the test runs in.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("CUSTOS_SHARED_DATA"); d != "" {
		return d
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(filepath.Dir(root), "shared", "data")
}

// Read returns the file at elem under the shared data directory
// (e.g. "dsr-eval", "fides-postgres-example", "postgres_sample.sql").
func Read(t testing.TB, elem ...string) []byte {
	t.Helper()
	path := filepath.Join(append([]string{Dir(t)}, elem...)...)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		return data
	case errors.Is(err, os.ErrNotExist) && os.Getenv("CUSTOS_REQUIRE_SERVICES") != "1" && os.Getenv("CUSTOS_SHARED_DATA") == "":
		t.Skipf("shared data not present (set CUSTOS_REQUIRE_SERVICES=1 to fail instead): %v", err)
	default:
		t.Fatalf("shared data is required (CUSTOS_REQUIRE_SERVICES=1 or CUSTOS_SHARED_DATA) but unreadable: %v", err)
	}
	return nil
}

// moduleRoot is the nearest directory above the working directory (a test's
// package directory) that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("shareddata: no go.mod above the working directory")
		}
		dir = parent
	}
}
