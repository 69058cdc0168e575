package webtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/server"
)

// DemoServer is a `custos serve --demo` running inside the test on a free
// local port, with its messages written to a file instead of sent.
type DemoServer struct {
	URL      string // http://127.0.0.1:PORT
	AdminKey string
	// Dir is the demo directory (a temporary one): the database, the
	// secrets in SecretsDir and the messages in OutboxDir.
	Dir        string
	SecretsDir string
	OutboxDir  string
	Server     *server.Server
	// Clock is the server's clock: it starts at the wall clock and moves
	// only when a test moves it.
	Clock *clocktest.Clock
}

// Demo starts a demo server for the test and stops it when the test ends:
// the three base subjects under the starter's first version, which tests
// build on. Adjust the configuration with edit, if given, before the
// server is built.
func Demo(t testing.TB, edit ...func(*config.Config)) *DemoServer {
	t.Helper()
	return startDemo(t, false, edit)
}

// DemoHistory starts the demo as `custos serve --demo` shows it: both
// versions of the starter and weeks of consents and rights requests.
func DemoHistory(t testing.TB, edit ...func(*config.Config)) *DemoServer {
	t.Helper()
	return startDemo(t, true, edit)
}

func startDemo(t testing.TB, history bool, edit []func(*config.Config)) *DemoServer {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DB = filepath.Join(dir, "custos.db")
	cfg.Demo = true
	cfg.Addr = "127.0.0.1:0"
	cfg.NotifyDir = filepath.Join(dir, "outbox")
	cfg.WebhookSecret = config.NewSecret([]byte("whsec-webtest-0123456789abcdef"), "test")
	for _, e := range edit {
		e(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	clk := clocktest.New(time.Now())
	srv, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler), server.WithClock(clk.Now), server.WithDemo(server.DemoOptions{Dir: dir, History: history}))
	if err != nil {
		cancel()
		t.Fatalf("demo server: %v", err)
	}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, func(a string) { addr <- a }) }()
	select {
	case a := <-addr:
		t.Cleanup(func() {
			cancel()
			<-done
			srv.Close()
		})
		d := srv.Demo()
		return &DemoServer{URL: "http://" + a, AdminKey: d.AdminKey, Dir: d.Dir, SecretsDir: d.SecretsDir, OutboxDir: cfg.NotifyDir, Server: srv, Clock: clk}
	case err := <-done:
		cancel()
		srv.Close()
		t.Fatalf("demo server: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("demo server did not start within 30 s")
	}
	return nil
}

// PublishAfterNotice publishes a manifest through the API the way a promise
// of 7 days' notice before a material change allows: announced for 7 days
// ahead, then the server's clock moved past that instant.
func (d *DemoServer) PublishAfterNotice(t testing.TB, manifest []byte) {
	t.Helper()
	at := d.Clock.Now().AddDate(0, 0, 7).Add(time.Second)
	req, err := http.NewRequest("POST", d.URL+"/v1/policy/versions?effective_at="+url.QueryEscape(at.UTC().Format(time.RFC3339)), bytes.NewReader(manifest))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.AdminKey)
	req.Header.Set("Content-Type", "application/yaml")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("publish: %s %s", res.Status, body)
	}
	d.Clock.Set(at.Add(time.Second))
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// Code waits for the newest message to addr (an email address or phone
// number as the subject registered it) holding a six-digit one-time code
// and returns the code.
func (d *DemoServer) Code(t testing.TB, addr string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if code := d.lastCode(addr); code != "" {
			return code
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no one-time code was sent to the test address within 15 s")
	return ""
}

func (d *DemoServer) lastCode(addr string) string {
	f, err := os.Open(filepath.Join(d.OutboxDir, notify.FileName))
	if err != nil {
		return ""
	}
	defer f.Close()
	code := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l notify.FileLine
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.To != addr {
			continue
		}
		if m := sixDigits.FindStringSubmatch(l.Text); m != nil {
			code = m[1]
		}
	}
	return code
}
