// Package webtest drives Custos' pages in a real browser: headless
// Chromium through the DevTools protocol (chromedp). Tests skip when no
// Chromium is installed, and fail instead when CUSTOS_REQUIRE_SERVICES=1.
// Under the race detector they always skip: see Browser.
package webtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the browser: CUSTOS_CHROMIUM, then the usual names.
func chromium() (string, bool) {
	if p := os.Getenv("CUSTOS_CHROMIUM"); p != "" {
		return p, true
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// Width and Height are the default window: a laptop screen.
const Width, Height = 1280, 900

// Browser starts a fresh headless Chromium (its own profile, so no state
// crosses tests) and returns a tab's context, valid until the test ends.
func Browser(t testing.TB, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	// Under the race detector the scenarios are slow on CI's two cores
	// and add little: the handlers they drive are checked under the
	// detector by the API and server tests, and CI runs the scenarios in
	// its plain step. Not a missing service, so CUSTOS_REQUIRE_SERVICES=1
	// does not make this skip a failure.
	if raceEnabled {
		t.Skip("browser scenarios run in the plain go test step; skipped under the race detector")
	}
	path, ok := chromium()
	if !ok {
		if os.Getenv("CUSTOS_REQUIRE_SERVICES") == "1" {
			t.Fatal("Chromium is required (CUSTOS_REQUIRE_SERVICES=1) but not installed: apt-get install -y chromium")
		}
		t.Skip("Chromium not installed, skipping browser test (apt-get install -y chromium)")
	}
	// Not t.TempDir: Chromium's helper processes may still write to the
	// profile for a moment after the browser exits, which fails the test
	// at cleanup; the profile is removed on a best-effort basis instead.
	profile, err := os.MkdirTemp("", "custos-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	all := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(Width, Height),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("no-sandbox", os.Geteuid() == 0), // root cannot use the sandbox
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("lang", "en-US"),
	}, opts...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), all...)
	ctx, cancel := chromedp.NewContext(actx)
	// Bound the whole test so a hung page cannot hang CI.
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	if err := chromedp.Run(ctx); err != nil {
		cancelTimeout()
		cancel()
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
		for range 20 {
			if os.RemoveAll(profile) == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	return ctx
}

// Artifacts is where screenshots go: CUSTOS_ARTIFACTS, or a directory
// under the system temp dir.
func Artifacts() string {
	if d := os.Getenv("CUSTOS_ARTIFACTS"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "custos-artifacts")
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot saves the whole page as PNG under Artifacts()/screenshots,
// named for the test and name, and returns the path.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	var png []byte
	// Quality 100 asks for PNG; below it Chromium sends JPEG.
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	dir := filepath.Join(Artifacts(), "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, unsafeName.ReplaceAllString(t.Name()+"-"+name, "_")+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
	return file
}

// Step runs one step of a browser scenario with its own time limit; when
// it fails, what the page shows is logged and saved as a screenshot while
// the browser can still tell.
func Step(t testing.TB, ctx context.Context, name string, actions ...chromedp.Action) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(sctx, actions...); err != nil {
		var loc, text string
		chromedp.Run(ctx, chromedp.Location(&loc), chromedp.Text("main", &text, chromedp.ByQuery))
		Screenshot(t, ctx, "failed-"+name)
		t.Fatalf("%s: %v\nat %s the page says:\n%s", name, err, loc, text)
	}
}
