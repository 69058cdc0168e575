package console

import (
	"testing"
	"time"
)

// SetRunWait makes Run now wait d for the sweep, for the test's duration.
func SetRunWait(t testing.TB, d time.Duration) {
	old := runWait
	runWait = d
	t.Cleanup(func() { runWait = old })
}
