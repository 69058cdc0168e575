package client_test

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/custos-privacy/custos/client"
	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/testdb"
	"github.com/custos-privacy/custos/internal/web/webtest"
)

// backends runs fn against a real Custos server in demo mode (the starter
// manifest, subjects demo-1001..1003, an admin key) on SQLite and on a
// fresh PostgreSQL schema. The PostgreSQL run skips when the server is
// unreachable, and fails instead under CUSTOS_REQUIRE_SERVICES=1.
func backends(t *testing.T, fn func(t *testing.T, srv *server)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, newServer(t, webtest.Demo(t)))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, keys := testdb.Postgres(t), testdb.Postgres(t)
		fn(t, newServer(t, webtest.Demo(t, func(c *config.Config) {
			c.DB, c.Keystore = dsn, keys
			secretsFor(t, c)
		})))
	})
}

// secretsFor gives a configuration fresh secrets in the test's directory:
// demo mode would otherwise write them to the working directory when the
// database is not a file.
func secretsFor(t *testing.T, c *config.Config) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	if _, err := secrets.Init(dir, false); err != nil {
		t.Fatal(err)
	}
	read := func(name string) config.Secret {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return config.NewSecret(b, "test")
	}
	c.IdentityKey, c.DataKeyset, c.ReceiptKey = read(secrets.IdentityKeyFile), read(secrets.DataKeysetFile), read(secrets.ReceiptKeyFile)
}

// server is a demo server with a client per role and a record of the
// requests the clients sent.
type server struct {
	*webtest.DemoServer
	admin, service, public *client.Client
	rec                    *recorder
	serviceKey             string
}

func newServer(t *testing.T, d *webtest.DemoServer) *server {
	t.Helper()
	k, err := api.CreateKey(t.Context(), d.Server.Store(), consent.Actor{ID: "test", Role: api.RoleAdmin, Place: "client test"}, "client test", api.RoleService)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{DemoServer: d, rec: &recorder{next: http.DefaultTransport}, serviceKey: k.Secret}
	s.admin = s.client(t, client.WithAPIKey(d.AdminKey))
	s.service = s.client(t, client.WithAPIKey(k.Secret))
	s.public = s.client(t)
	return s
}

// client returns a client of the server whose requests are recorded.
func (s *server) client(t *testing.T, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(s.URL, append([]client.Option{client.WithHTTPClient(&http.Client{Transport: s.rec})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recorder counts the requests that go through it, by method and path.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent []string // "METHOD /path"
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.sent = append(r.sent, req.Method+" "+req.URL.Path)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}
