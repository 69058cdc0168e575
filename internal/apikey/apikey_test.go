package apikey_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/apikey"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

var admin = consent.Actor{ID: "cli:test", Role: "system", Place: "test"}

// counting counts the lookups that reach the store.
type counting struct {
	*store.Store
	lookups atomic.Int64
}

func (c *counting) KeyByHash(ctx context.Context, hash []byte) (store.APIKey, error) {
	c.lookups.Add(1)
	return c.Store.KeyByHash(ctx, hash)
}

// feed is a change feed the test drives.
type feed struct{ fns []func(consent.Change) }

func (f *feed) OnChange(fn func(consent.Change)) { f.fns = append(f.fns, fn) }

func (f *feed) send(action, object string) {
	for _, fn := range f.fns {
		fn(consent.Change{Action: action, Object: object})
	}
}

// codeOf is the fault code of err, or "" when it carries none.
func codeOf(err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Code
	}
	return ""
}

// keyEntries lists the trail's entries about keys as "action object detail".
func keyEntries(t *testing.T, st *store.Store) []string {
	t.Helper()
	es, err := st.AuditEntries(context.Background(), audit.Filter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range es {
		if strings.HasPrefix(e.Action, "key.") {
			out = append(out, e.Action+" "+e.Object+" "+e.Detail)
		}
	}
	return out
}

// TestCreate: a key gets one of the roles and a short name; its secret is
// returned once and only its hash is stored; the creation is audited.
func TestCreate(t *testing.T) {
	tests := []struct {
		name, keyName, role string
		code                string // fault code, "" for success
	}{
		{name: "admin", keyName: "ops laptop", role: apikey.RoleAdmin},
		{name: "service without a name", role: apikey.RoleService},
		{name: "unknown role", keyName: "x", role: "root", code: "invalid_role"},
		{name: "no role", keyName: "x", code: "invalid_role"},
		{name: "name too long", keyName: strings.Repeat("n", 101), role: apikey.RoleAuditor, code: "invalid_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := storetest.SQLite(t)
			clk := clocktest.New(time.Date(2026, 5, 4, 3, 2, 1, 123456789, time.UTC))
			s := apikey.New(st, apikey.Options{Now: clk.Now})
			c, err := s.Create(context.Background(), admin, tt.keyName, tt.role)
			if got := codeOf(err); got != tt.code || (err != nil) != (tt.code != "") {
				t.Fatalf("Create: %v, want code %q", err, tt.code)
			}
			if tt.code != "" {
				if diff := cmp.Diff([]string{}, keyEntries(t, st)); diff != "" {
					t.Errorf("a refused key was audited (-want +got):\n%s", diff)
				}
				return
			}
			want := apikey.Key{ID: c.ID, Name: tt.keyName, Role: tt.role, CreatedAt: time.Date(2026, 5, 4, 3, 2, 1, 123456000, time.UTC)}
			if diff := cmp.Diff(want, c.Key); diff != "" {
				t.Errorf("created (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(c.ID, "k_") || !strings.HasPrefix(c.Secret, apikey.Prefix) || len(c.Secret) != 47 {
				t.Errorf("id %q, secret of %d bytes: want k_… and cus_ with 43 more", c.ID, len(c.Secret))
			}
			stored, err := st.KeyByHash(context.Background(), apikey.Hash(c.Secret))
			if err != nil {
				t.Fatalf("the key is not found by its secret's hash: %v", err)
			}
			if stored.ID != c.ID || bytes.Contains(stored.Hash, []byte(c.Secret)) || len(stored.Hash) != 32 {
				t.Errorf("stored %s with a %d-byte hash; want %s and a SHA-256, never the secret", stored.ID, len(stored.Hash), c.ID)
			}
			list, err := s.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]apikey.Key{want}, list); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"key.create key:" + c.ID + ` {"role":"` + tt.role + `"}`}, keyEntries(t, st)); diff != "" {
				t.Errorf("audit (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("every secret is new", func(t *testing.T) {
		s := apikey.New(storetest.SQLite(t), apikey.Options{})
		seen := map[string]bool{}
		for range 20 {
			c, err := s.Create(context.Background(), admin, "", apikey.RoleService)
			if err != nil {
				t.Fatal(err)
			}
			if seen[c.ID] || seen[c.Secret] {
				t.Fatal("an id or a secret came twice")
			}
			seen[c.ID], seen[c.Secret] = true, true
		}
	})
}

// TestAuthenticate: only a valid key's secret authenticates, and every
// other secret gets the same answer.
func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	s := apikey.New(st, apikey.Options{})
	good, err := s.Create(ctx, admin, "good", apikey.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := s.Create(ctx, admin, "gone", apikey.RoleService)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoke(ctx, admin, gone.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, secret string
		want         string // key id, "" for ErrUnknown
	}{
		{name: "valid", secret: good.Secret, want: good.ID},
		{name: "revoked", secret: gone.Secret},
		{name: "unknown", secret: apikey.Prefix + strings.Repeat("A", 43)},
		{name: "without the prefix", secret: strings.TrimPrefix(good.Secret, apikey.Prefix)},
		{name: "a prefix of a valid one", secret: good.Secret[:len(good.Secret)-1]},
		{name: "too long", secret: good.Secret + strings.Repeat("A", 100)},
		{name: "empty", secret: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := s.Authenticate(ctx, tt.secret)
			if tt.want == "" {
				if !errors.Is(err, apikey.ErrUnknown) {
					t.Errorf("Authenticate = %+v, %v; want ErrUnknown", k, err)
				}
				return
			}
			if err != nil || k.ID != tt.want || k.Role != apikey.RoleOperator {
				t.Errorf("Authenticate = %+v, %v; want key %s (operator)", k, err, tt.want)
			}
		})
	}
}

// TestRevoke: a revoked key is returned as it now is and audited; an
// unknown id is not found; this instance refuses the key at once.
func TestRevoke(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	clk := clocktest.New(time.Now())
	s := apikey.New(st, apikey.Options{Now: clk.Now})
	c, err := s.Create(ctx, admin, "to revoke", apikey.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, c.Secret); err != nil {
		t.Fatal(err) // now cached
	}
	tests := []struct {
		name, id string
		code     string
	}{
		{name: "known", id: c.ID},
		{name: "again", id: c.ID},
		{name: "unknown", id: "k_000000000000", code: "key_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := s.Revoke(ctx, admin, tt.id)
			if codeOf(err) != tt.code || (err != nil) != (tt.code != "") {
				t.Fatalf("Revoke: %v, want code %q", err, tt.code)
			}
			if tt.code != "" {
				return
			}
			if k.ID != c.ID || !k.Revoked() {
				t.Errorf("Revoke = %+v; want %s revoked", k, c.ID)
			}
			if _, err := s.Authenticate(ctx, c.Secret); !errors.Is(err, apikey.ErrUnknown) {
				t.Errorf("a revoked key still authenticates on the instance that revoked it: %v", err)
			}
		})
	}
	want := []string{"key.create key:" + c.ID + ` {"role":"admin"}`, "key.revoke key:" + c.ID + " {}", "key.revoke key:" + c.ID + " {}"}
	if diff := cmp.Diff(want, keyEntries(t, st)); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

// TestCache: lookups are cached for TTL; another instance's revocation
// takes effect when its change arrives, or when the entry expires; other
// changes leave the cache alone.
func TestCache(t *testing.T) {
	tests := []struct {
		name string
		// learn is how instance b hears of the revocation made on a.
		learn    func(f *feed, clk *clocktest.Clock)
		accepted bool // b still accepts the key afterwards
	}{
		{name: "nothing yet", learn: func(*feed, *clocktest.Clock) {}, accepted: true},
		{name: "key change", learn: func(f *feed, _ *clocktest.Clock) { f.send(apikey.ActionRevoke, "key:x") }},
		{name: "key created elsewhere", learn: func(f *feed, _ *clocktest.Clock) { f.send(apikey.ActionCreate, "key:y") }},
		{name: "other change", learn: func(f *feed, _ *clocktest.Clock) { f.send("consent.grant", "subject:s") }, accepted: true},
		{name: "just before TTL", learn: func(_ *feed, clk *clocktest.Clock) { clk.Advance(apikey.TTL - time.Millisecond) }, accepted: true},
		{name: "TTL passed", learn: func(_ *feed, clk *clocktest.Clock) { clk.Advance(apikey.TTL) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.SQLite(t)
			clk := clocktest.New(time.Now())
			f := &feed{}
			a := apikey.New(st, apikey.Options{Now: clk.Now})
			cb := &counting{Store: st}
			b := apikey.New(cb, apikey.Options{Changes: f, Now: clk.Now})
			c, err := a.Create(ctx, admin, "", apikey.RoleService)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if _, err := b.Authenticate(ctx, c.Secret); err != nil {
					t.Fatal(err)
				}
			}
			if n := cb.lookups.Load(); n != 1 {
				t.Errorf("three authentications asked the store %d times, want once", n)
			}
			if _, err := a.Revoke(ctx, admin, c.ID); err != nil {
				t.Fatal(err)
			}
			tt.learn(f, clk)
			_, err = b.Authenticate(ctx, c.Secret)
			if accepted := err == nil; accepted != tt.accepted {
				t.Errorf("after the revocation elsewhere: accepted %v, want %v (%v)", accepted, tt.accepted, err)
			}
		})
	}
}
