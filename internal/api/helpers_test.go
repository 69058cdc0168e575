package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/server"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// update makes golden-file tests rewrite their files: go test ./internal/api -update
var update = flag.Bool("update", false, "rewrite golden files")

// lockedBuffer collects log output written from request goroutines and the
// store's writer at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a demo server with one key per role and everything it logged.
type env struct {
	srv    *server.Server
	h      http.Handler
	keys   map[string]string // role → secret
	keyIDs map[string]string // role → key id
	log    *lockedBuffer
	bodies []string // every response body, in order
	clock  *clocktest.Clock
}

// newEnv starts a demo server (secrets next to a fresh SQLite database,
// the starter manifest published, subjects demo-1001..1003 seeded) and
// mints a key for every role. configure, if given, changes the config.
func newEnv(tb testing.TB, level slog.Level, configure func(*config.Config)) *env {
	tb.Helper()
	cfg := config.Default()
	cfg.DB = filepath.Join(tb.TempDir(), "c.db")
	cfg.Demo = true
	if configure != nil {
		configure(&cfg)
	}
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
	ctx := context.Background()
	clk := clocktest.New(time.Now())
	srv, err := server.New(ctx, cfg, logger, server.WithClock(clk.Now))
	if err != nil {
		tb.Fatalf("server.New: %v", err)
	}
	tb.Cleanup(func() { srv.Close() })
	if srv.DemoKey() == "" {
		tb.Fatal("demo mode made no admin key")
	}
	e := &env{srv: srv, h: srv.Handler(), keys: map[string]string{}, keyIDs: map[string]string{}, log: logs, clock: clk}
	minter := consent.Actor{ID: "cli:test", Role: "system", Place: "test"}
	for _, role := range api.Roles {
		k, err := api.CreateKey(ctx, srv.Store(), minter, role+" key", role)
		if err != nil {
			tb.Fatalf("CreateKey(%s): %v", role, err)
		}
		e.keys[role], e.keyIDs[role] = k.Secret, k.ID
	}
	return e
}

// do sends one request. A non-empty key goes in Authorization as a bearer
// token; header entries are set after it and may replace it.
func (e *env) do(tb testing.TB, method, path, key, body string, header map[string]string) *httptest.ResponseRecorder {
	tb.Helper()
	return e.doContext(tb, context.Background(), method, path, key, body, header)
}

// doContext is do with the request bound to ctx.
func (e *env) doContext(tb testing.TB, ctx context.Context, method, path, key, body string, header map[string]string) *httptest.ResponseRecorder {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequestWithContext(ctx, method, path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	e.bodies = append(e.bodies, w.Body.String())
	return w
}

// errorOf decodes an error body; a body that is not one gives the zero value.
func errorOf(body []byte) api.ErrorBody {
	var eb api.ErrorBody
	json.Unmarshal(body, &eb)
	return eb
}

// jsonAt returns the value at a dotted path ("events.0.id") in a JSON
// document, as text; ok is false when the path leads nowhere.
func jsonAt(body []byte, path string) (string, bool) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return "", false
	}
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[part]; !ok {
				return "", false
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return "", false
			}
			v = x[i]
		default:
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case nil:
		return "", false
	}
	b, _ := json.Marshal(v)
	return string(b), true
}

// fillPath puts demo values into a route pattern's wildcards, so that an
// authorised call reaches the handler.
func fillPath(pattern string) string {
	id := "demo-1002"
	if strings.HasPrefix(pattern, "/v1/keys/") {
		id = "k_000000000000"
	}
	return strings.NewReplacer("{id}", id, "{subject_id}", "demo-1002", "{event}", "ce_doesnotexist", "{field}", "email").Replace(pattern)
}

// bodyFor is a harmless body for a route that takes one: it reaches the
// handler and is refused there, or changes nothing that matters.
func bodyFor(method string) string {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return "{}"
	}
	return ""
}

// publishAfterNotice publishes a manifest with a material change the way
// the starter's promise of 7 days' notice allows: announced for 7 days
// ahead, then the clock moved past that instant.
func (e *env) publishAfterNotice(tb testing.TB, src []byte) *httptest.ResponseRecorder {
	tb.Helper()
	at := e.clock.Now().AddDate(0, 0, 7).Add(time.Second)
	w := e.do(tb, "POST", "/v1/policy/versions?effective_at="+at.UTC().Format(time.RFC3339), e.keys[api.RoleAdmin], string(src), map[string]string{"Content-Type": "application/yaml"})
	e.clock.Set(at.Add(time.Second))
	return w
}

// withShop gives the server the starter's sample shop database, empty of
// nothing, and its dataset annotation, so that the retention routes are
// served.
func withShop(tb testing.TB) func(*config.Config) {
	tb.Helper()
	dir := tb.TempDir()
	shop := filepath.Join(dir, "shop.db")
	schema, err := os.ReadFile(filepath.Join("..", "..", "examples", "starter", "shop.sql"))
	if err != nil {
		tb.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+shop)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(string(schema)); err != nil {
		tb.Fatal(err)
	}
	ds, err := os.ReadFile(filepath.Join("..", "..", "examples", "starter", "dataset.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "dataset.yaml")
	if err := os.WriteFile(path, bytes.Replace(ds, []byte("dsn_env: SHOP_DSN"), []byte("dsn: file:"+shop), 1), 0o600); err != nil {
		tb.Fatal(err)
	}
	return func(c *config.Config) { c.Dataset = path }
}
