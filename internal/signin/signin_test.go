package signin_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/signin"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

const (
	known   = "lin.wei@example.com" // on file as subject s-1
	unknown = "nobody@example.net"
	place   = "192.0.2.7 privacy.example"
)

var (
	key      = []byte("signin-test-key-0123456789abcdef")
	otherKey = []byte("another-center-key-0123456789abc")
)

// codes stands for the rights-request service: it knows one identity,
// keeps every code it is asked to send, sent or not, and the subjects the
// codes it sent went to.
type codes struct {
	hasher *identity.Hasher
	mu     sync.Mutex
	asked  []string // "kind lang ttl code"
	queued []string // subjects sent a code
}

func (c *codes) Holder(_ context.Context, kind string, hash []byte) (string, error) {
	if kind == identity.KindEmail && string(hash) == string(c.hasher.Hash(identity.KindEmail, known)) {
		return "s-1", nil
	}
	return "", store.ErrNotFound
}

func (c *codes) QueueCode(kind string, hash []byte, code, lang string, ttl time.Duration, _ map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, fmt.Sprintf("%s %s %s %s", kind, lang, ttl, code))
	if subject, err := c.Holder(context.Background(), kind, hash); err == nil {
		c.queued = append(c.queued, subject)
	}
}

// last is the last code asked for.
func (c *codes) last() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	code := c.asked[len(c.asked)-1]
	return code[len(code)-6:]
}

// fixture is two instances of signing in on two handles of one database,
// sharing a clock and the code messages.
type fixture struct {
	svcs   [2]*signin.Service
	stores [2]*store.Store
	clock  *clocktest.Clock
	codes  *codes
}

// backends runs fn on two handles of a fresh SQLite file and on two of a
// fresh PostgreSQL schema.
func backends(t *testing.T, fn func(t *testing.T, open func() *store.Store)) {
	storetest.Backends(t, func(t *testing.T, dsn string) {
		fn(t, func() *store.Store { return storetest.Open(t, dsn) })
	})
}

func newFixture(t *testing.T, open func() *store.Store) *fixture {
	t.Helper()
	hasher, err := identity.NewHasher([]byte("identity-test-key-0123456789abcd"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{clock: clocktest.New(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)), codes: &codes{hasher: hasher}}
	for i := range f.svcs {
		f.stores[i] = open()
		f.svcs[i] = f.service(t, i, key)
	}
	return f
}

// service is signing in on handle i under k.
func (f *fixture) service(t *testing.T, i int, k []byte) *signin.Service {
	t.Helper()
	s, err := signin.New(f.stores[i], k, signin.Options{Hasher: f.codes.hasher, Codes: f.codes, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// started names a Start result for the tables.
func started(err error) string {
	if err == nil {
		return "started"
	}
	return outcome("", err)
}

// outcome names a Verify result for the tables.
func outcome(subject string, err error) string {
	switch {
	case err == nil:
		return "signed in as " + subject
	case errors.Is(err, signin.ErrWrongCode):
		return "wrong"
	case errors.Is(err, signin.ErrTooManyAttempts):
		return "too many"
	case errors.Is(err, signin.ErrNoSignin):
		return "no sign-in"
	case errors.Is(err, signin.ErrRateLimited):
		return "rate limited"
	}
	return "error: " + err.Error()
}

// step is one attempt at the code: after moving the clock by wait, on
// instance (handle) on, with the right code or a wrong one.
type step struct {
	wait  time.Duration
	on    int
	right bool
	want  string
}

func wrongs(n int, on int) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = step{on: (on + i) % 2, want: "wrong"}
	}
	return out
}

// TestVerify: what each sequence of attempts gives, with the attempts
// spread over two instances on their own database handles: an attempt on
// one counts for the other, and a spent sign-in is gone for both.
func TestVerify(t *testing.T) {
	tests := []struct {
		name     string
		identity string
		steps    []step
	}{
		{name: "right code", identity: known, steps: []step{
			{on: 1, right: true, want: "signed in as s-1"},
			{on: 0, right: true, want: "no sign-in"},
		}},
		{name: "wrong code, then the right one", identity: known, steps: []step{
			{on: 0, want: "wrong"},
			{on: 1, right: true, want: "signed in as s-1"},
		}},
		{name: "four wrong, then the right one", identity: known,
			steps: append(wrongs(4, 1), step{on: 0, right: true, want: "signed in as s-1"})},
		{name: "five wrong end it", identity: known,
			steps: append(wrongs(5, 0), step{on: 1, right: true, want: "too many"}, step{on: 0, right: true, want: "no sign-in"})},
		{name: "in time at the last instant", identity: known, steps: []step{
			{wait: signin.CodeTTL, on: 1, right: true, want: "signed in as s-1"},
		}},
		{name: "expired", identity: known, steps: []step{
			{wait: signin.CodeTTL + time.Second, on: 1, right: true, want: "wrong"},
			{on: 0, right: true, want: "wrong"},
		}},
		{name: "unknown identity fails like a wrong code", identity: unknown,
			steps: append([]step{{on: 0, right: true, want: "wrong"}, {on: 1, right: true, want: "wrong"}},
				append(wrongs(3, 0), step{on: 1, right: true, want: "too many"})...)},
	}
	backends(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// Instances of its own, whose limits start afresh.
				f := newFixture(t, open)
				id, err := f.svcs[0].Start(ctx, place, identity.KindEmail, tt.identity, "en")
				if err != nil {
					t.Fatal(err)
				}
				right := f.codes.last()
				wrong := fmt.Sprintf("%06d", (mustAtoi(right)+1)%1_000_000)
				var got, want []string
				for _, s := range tt.steps {
					f.clock.Advance(s.wait)
					code := wrong
					if s.right {
						code = right
					}
					got = append(got, outcome(f.svcs[s.on].Verify(ctx, place, id, code)))
					want = append(want, s.want)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("attempts (-want +got):\n%s", diff)
				}
			})
		}
		t.Run("a sign-in that was never started", func(t *testing.T) {
			f := newFixture(t, open)
			if got := outcome(f.svcs[1].Verify(ctx, place, "no-such-sign-in", "123456")); got != "no sign-in" {
				t.Errorf("Verify = %s, want no sign-in", got)
			}
		})
		t.Run("another sign-in's code", func(t *testing.T) {
			f := newFixture(t, open)
			first, err := f.svcs[0].Start(ctx, place, identity.KindEmail, known, "en")
			if err != nil {
				t.Fatal(err)
			}
			firstCode := f.codes.last()
			second, err := f.svcs[1].Start(ctx, place, identity.KindEmail, known, "en")
			if err != nil {
				t.Fatal(err)
			}
			if f.codes.last() == firstCode {
				t.Skip("the two codes happen to be equal")
			}
			if got := outcome(f.svcs[1].Verify(ctx, place, second, firstCode)); got != "wrong" {
				t.Errorf("the first sign-in's code for the second: %s, want wrong", got)
			}
			if got := outcome(f.svcs[1].Verify(ctx, place, first, firstCode)); got != "signed in as s-1" {
				t.Errorf("the first sign-in's own code: %s", got)
			}
		})
		t.Run("codes are keyed", func(t *testing.T) {
			f := newFixture(t, open)
			id, err := f.svcs[0].Start(ctx, place, identity.KindEmail, known, "en")
			if err != nil {
				t.Fatal(err)
			}
			code := f.codes.last()
			si, err := f.stores[1].SigninAttempt(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(si.CodeHash) != 32 || string(si.CodeHash) == code {
				t.Errorf("stored code hash of %d bytes; want an HMAC-SHA-256, not the code", len(si.CodeHash))
			}
			other := f.service(t, 1, otherKey)
			if got := outcome(other.Verify(ctx, place, id, code)); got != "wrong" {
				t.Errorf("the right code under another key: %s, want wrong", got)
			}
		})
	})
}

func mustAtoi(s string) int {
	var n int
	fmt.Sscanf(s, "%d", &n)
	return n
}

// TestStart: a code is queued for a known identity and an unknown one
// alike, and reaches only the known one; the answer is the same; malformed identities are refused
// before they count against the limits.
func TestStart(t *testing.T) {
	tests := []struct {
		name, kind, value string
		err               error
		queued            []string // subjects of the deliveries queued
		asked             []string // code messages asked for, without the code
	}{
		{name: "known", kind: "email", value: "  Lin.Wei@Example.com ", queued: []string{"s-1"}, asked: []string{"email zh-CN 15m0s"}},
		{name: "unknown", kind: "email", value: unknown, queued: []string{}, asked: []string{"email zh-CN 15m0s"}},
		{name: "phone not on file", kind: "phone", value: "+86 139 0013 9000", queued: []string{}, asked: []string{"phone zh-CN 15m0s"}},
		{name: "malformed", kind: "email", value: "not an address", err: signin.ErrInvalidIdentity, queued: []string{}, asked: []string{}},
		{name: "a kind sign-in does not take", kind: "device_id", value: "abc", err: signin.ErrInvalidIdentity, queued: []string{}, asked: []string{}},
	}
	path := filepath.Join(t.TempDir(), "custos.db")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func() *store.Store { return storetest.Open(t, path) })
			id, err := f.svcs[0].Start(context.Background(), place, tt.kind, tt.value, "zh-CN")
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("Start = %q, %v; want %v", id, err, tt.err)
			}
			if err == nil && len(id) != 24 {
				t.Errorf("sign-in id %q: want 24 characters (18 random bytes)", id)
			}
			queued := append([]string{}, f.codes.queued...)
			if diff := cmp.Diff(tt.queued, queued); diff != "" {
				t.Errorf("queued (-want +got):\n%s", diff)
			}
			asked := []string{}
			for _, a := range f.codes.asked {
				asked = append(asked, a[:len(a)-7])
			}
			if diff := cmp.Diff(tt.asked, asked); diff != "" {
				t.Errorf("code messages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLimits: sign-ins per identity and per address, and codes tried per
// address, are limited for an hour; an unknown identity counts as a known
// one does.
func TestLimits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custos.db")
	tests := []struct {
		name string
		run  func(t *testing.T, f *fixture) []string
		want []string
	}{
		{name: "per identity", run: func(t *testing.T, f *fixture) []string {
			var got []string
			for i := range signin.PerIdentity + 1 {
				_, err := f.svcs[0].Start(ctx, fmt.Sprintf("192.0.2.%d host", i), "email", unknown, "en")
				got = append(got, started(err))
			}
			// Another identity from the same address is not held back.
			_, err := f.svcs[0].Start(ctx, "192.0.2.1 host", "email", known, "en")
			got = append(got, started(err))
			f.clock.Advance(time.Hour + time.Second)
			_, err = f.svcs[0].Start(ctx, "192.0.2.1 host", "email", unknown, "en")
			return append(got, started(err))
		}, want: append(repeat("started", signin.PerIdentity), "rate limited", "started", "started")},
		{name: "per address", run: func(t *testing.T, f *fixture) []string {
			var got []string
			for i := range signin.PerAddress + 1 {
				_, err := f.svcs[0].Start(ctx, place, "email", fmt.Sprintf("person%d@example.net", i), "en")
				got = append(got, started(err))
			}
			// The limits are each instance's own.
			_, err := f.svcs[1].Start(ctx, place, "email", "late@example.net", "en")
			return append(got, started(err))
		}, want: append(repeat("started", signin.PerAddress), "rate limited", "started")},
		{name: "codes per address", run: func(t *testing.T, f *fixture) []string {
			var got []string
			for range signin.VerifyPerAddress + 1 {
				got = append(got, outcome(f.svcs[0].Verify(ctx, place, "no-such-sign-in", "123456")))
			}
			return append(got, outcome(f.svcs[0].Verify(ctx, "198.51.100.1 host", "no-such-sign-in", "123456")))
		}, want: append(repeat("no sign-in", signin.VerifyPerAddress), "rate limited", "no sign-in")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func() *store.Store { return storetest.Open(t, path) })
			if diff := cmp.Diff(tt.want, tt.run(t, f)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestNew: signing in refuses to run without what it needs.
func TestNew(t *testing.T) {
	hasher, err := identity.NewHasher([]byte("identity-test-key-0123456789abcd"))
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.SQLite(t)
	full := signin.Options{Hasher: hasher, Codes: &codes{hasher: hasher}}
	tests := []struct {
		name string
		key  []byte
		edit func(o *signin.Options)
		ok   bool
	}{
		{name: "complete", key: key, ok: true},
		{name: "short key", key: key[:31]},
		{name: "no hasher", key: key, edit: func(o *signin.Options) { o.Hasher = nil }},
		{name: "no code messages", key: key, edit: func(o *signin.Options) { o.Codes = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := full
			if tt.edit != nil {
				tt.edit(&o)
			}
			if _, err := signin.New(st, tt.key, o); (err == nil) != tt.ok {
				t.Errorf("New: %v, want ok %v", err, tt.ok)
			}
		})
	}
}
