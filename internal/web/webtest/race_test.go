//go:build race

package webtest

import "testing"

// TestBrowserSkipsUnderRace: under the race detector Browser skips even
// when the services are required, rather than failing or starting Chromium.
func TestBrowserSkipsUnderRace(t *testing.T) {
	t.Setenv("CUSTOS_REQUIRE_SERVICES", "1")
	var skipped bool
	t.Run("browser", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Browser(t)
	})
	if !skipped {
		t.Error("Browser did not skip under the race detector")
	}
}
