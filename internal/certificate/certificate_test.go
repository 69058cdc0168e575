package certificate

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/receipt"
	"github.com/custos-privacy/custos/internal/secrets"
)

// testKey is fixed by a seed, so fuzz corpora stay valid.
func testKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
}

func testSigner(tb testing.TB) *Signer {
	tb.Helper()
	s, err := NewSigner(testKey(), "kid-test")
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func testCertificate() Certificate {
	return Certificate{
		ID:       "cert_0abc",
		Org:      "acme",
		Kind:     KindRequest,
		Request:  "req_123",
		PlanHash: strings.Repeat("ab", 32),
		Started:  time.Date(2026, 5, 4, 3, 5, 0, 123456000, time.UTC),
		Finished: time.Date(2026, 5, 4, 3, 5, 2, 0, time.UTC),
		Instance: "web-1",
		Targets: []Target{
			{Datastore: "shop", Collection: "orders", Action: ActionErase, Fields: []string{"phone", "address"}, Rows: 3},
			{Datastore: "shop", Collection: "customers", Action: ActionDelete, Rows: 1},
			{Datastore: "crm", Collection: "contacts", Action: ActionAnonymise, Fields: []string{"name"}, Rows: 2},
		},
	}
}

func signed(t *testing.T) (Certificate, []byte) {
	t.Helper()
	s := testSigner(t)
	c, err := s.Sign(testCertificate())
	if err != nil {
		t.Fatal(err)
	}
	return c, s.JWKS()
}

func TestSignParseVerify(t *testing.T) {
	c, jwks := signed(t)
	got, err := Parse(c.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Fatalf("round trip (-signed +parsed):\n%s", diff)
	}
	if err := Verify(got, jwks); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	// Sign puts targets and fields in their one order.
	wantOrder := []Target{
		{Datastore: "crm", Collection: "contacts", Action: ActionAnonymise, Fields: []string{"name"}, Rows: 2},
		{Datastore: "shop", Collection: "customers", Action: ActionDelete, Rows: 1},
		{Datastore: "shop", Collection: "orders", Action: ActionErase, Fields: []string{"address", "phone"}, Rows: 3},
	}
	if diff := cmp.Diff(wantOrder, got.Targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if got.Version != Version || got.KeyID != "kid-test" || got.Rows() != 6 {
		t.Errorf("version %d, kid %q, rows %d; want %d, kid-test, 6", got.Version, got.KeyID, got.Rows(), Version)
	}
}

func TestSignGivesAnID(t *testing.T) {
	c := testCertificate()
	c.ID = ""
	a, err := Sign(c, testKey(), "k")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Sign(c, testKey(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.ID, "cert_") || a.ID == b.ID {
		t.Errorf("ids %q and %q: want two distinct cert_ ids", a.ID, b.ID)
	}
}

func TestSignRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Certificate)
	}{
		{"no kind", func(c *Certificate) { c.Kind = "" }},
		{"sweep without rule", func(c *Certificate) { c.Kind = KindSweep; c.Request = "" }},
		{"request with a rule", func(c *Certificate) { c.Rule = "r1" }},
		{"plan hash not hex", func(c *Certificate) { c.PlanHash = "xyz" }},
		{"plan hash upper case", func(c *Certificate) { c.PlanHash = strings.Repeat("AB", 32) }},
		{"no start", func(c *Certificate) { c.Started = time.Time{} }},
		{"finished before start", func(c *Certificate) { c.Finished = c.Started.Add(-time.Second) }},
		{"id not ours", func(c *Certificate) { c.ID = "x_1" }},
		{"org with a newline", func(c *Certificate) { c.Org = "a\nb" }},
		{"instance with a control", func(c *Certificate) { c.Instance = "web\x1b[31m" }},
		{"unknown action", func(c *Certificate) { c.Targets[0].Action = "shred" }},
		{"erase without fields", func(c *Certificate) { c.Targets[0].Fields = nil }},
		{"delete with fields", func(c *Certificate) { c.Targets[1].Fields = []string{"x"} }},
		{"negative rows", func(c *Certificate) { c.Targets[2].Rows = -1 }},
		{"repeated target", func(c *Certificate) { c.Targets = append(c.Targets, c.Targets[0]) }},
		{"repeated field", func(c *Certificate) { c.Targets[0].Fields = []string{"phone", "phone"} }},
		{"empty collection", func(c *Certificate) { c.Targets[0].Collection = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCertificate()
			c.Targets = append([]Target{}, c.Targets...)
			tt.change(&c)
			if got, err := Sign(c, testKey(), "k"); err == nil {
				t.Errorf("Sign accepted %+v", got)
			}
		})
	}
	if _, err := Sign(testCertificate(), testKey(), ""); err == nil {
		t.Error("Sign accepted an empty key id")
	}
	if _, err := Sign(testCertificate(), ed25519.PrivateKey{1}, "k"); err == nil {
		t.Error("Sign accepted a short key")
	}
}

// TestTamper changes each value of a signed certificate in turn: none of
// the changes may verify.
func TestTamper(t *testing.T) {
	good, jwks := signed(t)
	changes := []struct {
		name   string
		change func(c *Certificate)
	}{
		{"id", func(c *Certificate) { c.ID = "cert_0abd" }},
		{"org", func(c *Certificate) { c.Org = "globex" }},
		{"org removed", func(c *Certificate) { c.Org = "" }},
		{"kind", func(c *Certificate) { c.Kind, c.Rule, c.Request = KindSweep, c.Request, "" }},
		{"request", func(c *Certificate) { c.Request = "req_124" }},
		{"plan hash", func(c *Certificate) { c.PlanHash = strings.Repeat("ac", 32) }},
		{"started", func(c *Certificate) { c.Started = c.Started.Add(-time.Microsecond) }},
		{"finished", func(c *Certificate) { c.Finished = c.Finished.Add(time.Hour) }},
		{"instance", func(c *Certificate) { c.Instance = "web-2" }},
		{"instance removed", func(c *Certificate) { c.Instance = "" }},
		{"target datastore", func(c *Certificate) { c.Targets[0].Datastore = "cr" }},
		{"target collection", func(c *Certificate) { c.Targets[1].Collection = "customer" }},
		{"target action", func(c *Certificate) { c.Targets[1].Action = ActionRestrict }},
		{"target field renamed", func(c *Certificate) { c.Targets[2].Fields = []string{"address", "phones"} }},
		{"target field dropped", func(c *Certificate) { c.Targets[2].Fields = []string{"address"} }},
		{"target field added", func(c *Certificate) { c.Targets[0].Fields = []string{"name", "surname"} }},
		{"rows changed", func(c *Certificate) { c.Targets[2].Rows = 30 }},
		{"rows zeroed", func(c *Certificate) { c.Targets[0].Rows = 0 }},
		{"targets reordered", func(c *Certificate) { c.Targets[0], c.Targets[2] = c.Targets[2], c.Targets[0] }},
		{"a target dropped", func(c *Certificate) { c.Targets = c.Targets[1:] }},
		{"every target dropped", func(c *Certificate) { c.Targets = []Target{} }},
		{"a target added", func(c *Certificate) {
			c.Targets = append(c.Targets, Target{Datastore: "zz", Collection: "logs", Action: ActionDelete, Rows: 1})
		}},
		{"signature", func(c *Certificate) { c.Sig = "A" + c.Sig[1:] }},
		{"kid", func(c *Certificate) { c.KeyID = "another" }},
	}
	for _, tt := range changes {
		t.Run(tt.name, func(t *testing.T) {
			x := good
			x.Targets = make([]Target, len(good.Targets))
			for i, tg := range good.Targets {
				tg.Fields = append([]string(nil), tg.Fields...)
				x.Targets[i] = tg
			}
			tt.change(&x)
			if cmp.Equal(x, good) {
				t.Fatal("the change changed nothing")
			}
			if err := Verify(x, jwks); err == nil {
				t.Errorf("Verify after changing the %s succeeded", tt.name)
			}
			// Through JSON too: what a verifier is handed is a file.
			if c, err := Parse(x.Marshal()); err == nil {
				if err := Verify(c, jwks); err == nil {
					t.Errorf("Verify of the parsed certificate after changing the %s succeeded", tt.name)
				}
			}
		})
	}
}

func TestVerifyKeys(t *testing.T) {
	good, _ := signed(t)
	other, err := NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)), "kid-test")
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(good, other.JWKS()); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify with another key under the same kid = %v, want ErrSignature", err)
	}
	renamed, _ := NewSigner(testKey(), "kid-other")
	if err := Verify(good, renamed.JWKS()); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Verify with no key of that kid = %v, want ErrUnknownKey", err)
	}
	if err := Verify(good, []byte(`{"keys":[]}`)); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Verify with an empty key set = %v, want ErrUnknownKey", err)
	}
	if err := Verify(good, []byte(`not json`)); err == nil {
		t.Error("Verify with a key set that is not JSON succeeded")
	}
	var tampered Certificate = good
	tampered.Targets = append([]Target{}, good.Targets...)
	tampered.Targets[0].Rows++
	if err := Verify(tampered, testSigner(t).JWKS()); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify of changed rows = %v, want ErrSignature", err)
	}
}

// TestReceiptKey signs with the server's receipt key under its JWK
// thumbprint and verifies with the key set the server publishes.
func TestReceiptKey(t *testing.T) {
	pemKey, err := receipt.GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := receipt.NewSigner(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := rs.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := secrets.ParseReceiptKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(priv, rs.KeyID())
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Sign(testCertificate())
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(c, jwks); err != nil {
		t.Fatalf("Verify with the published key set = %v", err)
	}
	if !bytes.Equal(s.JWKS(), jwks) {
		// Not required to be byte-equal; the keys must be the same.
		var a, b map[string]any
		json.Unmarshal(s.JWKS(), &a)
		json.Unmarshal(jwks, &b)
		if diff := cmp.Diff(b, a); diff != "" {
			t.Errorf("key sets differ (-receipt +certificate):\n%s", diff)
		}
	}
}

func TestParseRejects(t *testing.T) {
	c, jwks := signed(t)
	good := string(c.Marshal())
	var fields map[string]any
	if err := json.Unmarshal([]byte(good), &fields); err != nil {
		t.Fatal(err)
	}
	with := func(key string, v any) string {
		m := map[string]any{}
		for k, x := range fields {
			m[k] = x
		}
		if v == nil {
			delete(m, key)
		} else {
			m[key] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"not JSON", "cert 1"},
		{"an array", "[1]"},
		{"two values", good + good},
		{"unknown field", with("extra", 1)},
		{"unknown target field", with("targets", []any{map[string]any{"datastore": "a", "collection": "b", "action": "delete", "rows": 1, "key": "x"}})},
		{"other version", with("v", 2)},
		{"no version", with("v", nil)},
		{"no id", with("id", nil)},
		{"no kind", with("kind", nil)},
		{"no plan hash", with("plan_hash", nil)},
		{"time not RFC 3339", with("started", "2026-05-04 03:05:00")},
		{"time below a microsecond", with("started", "2026-05-04T03:05:00.1234567Z")},
		{"org with a newline", with("org", "ac\nme")},
		{"org with an escaped NUL", strings.Replace(good, `"org":"acme"`, `"org":"ac\u0000me"`, 1)},
		{"instance with a control", with("instance", "web\u0007")},
		{"instance too long", with("instance", strings.Repeat("w", 201))},
		{"rows a string", with("targets", []any{map[string]any{"datastore": "a", "collection": "b", "action": "delete", "rows": "1"}})},
		{"no key id", with("kid", "")},
		{"signature not base64url", with("sig", "!!")},
		{"short signature", with("sig", "AAAA")},
		{"too long", good[:len(good)-1] + strings.Repeat(" ", MaxSize) + "}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.in)); !errors.Is(err, ErrMalformed) {
				t.Errorf("Parse = %v, want ErrMalformed", err)
			}
		})
	}
	// The signature covers values, not spelling: a re-encoded certificate
	// with its times in another zone verifies.
	var pretty bytes.Buffer
	json.Indent(&pretty, []byte(with("started", "2026-05-04T11:05:00.123456+08:00")), "", "  ")
	got, err := Parse(pretty.Bytes())
	if err != nil {
		t.Fatalf("re-encoded certificate: %v", err)
	}
	if err := Verify(got, jwks); err != nil {
		t.Errorf("re-encoded certificate does not verify: %v", err)
	}
}

func TestPlanHash(t *testing.T) {
	type step struct {
		Collection string `json:"collection"`
		Rows       int64  `json:"rows"`
	}
	a, err := PlanHash([]step{{"orders", 3}, {"customers", 1}})
	if err != nil {
		t.Fatal(err)
	}
	// The same plan written as maps in another key order hashes the same.
	b, err := PlanHash([]map[string]any{{"rows": 3, "collection": "orders"}, {"rows": 1, "collection": "customers"}})
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("the same plan hashes to %s and %s", a, b)
	}
	// sha256 of [{"collection":"orders","rows":3},{"collection":"customers","rows":1}]
	const want = "54fa0c3758dcfcb1590e10b40367a04334ba14dbe86bb065ddca81f9d2a9f35e"
	if a != want {
		t.Errorf("PlanHash = %s, want %s", a, want)
	}
	c, _ := PlanHash([]step{{"orders", 4}, {"customers", 1}})
	if c == a {
		t.Error("a different row count hashes the same")
	}
	if len(a) != 64 || strings.ToLower(a) != a {
		t.Errorf("PlanHash = %q, want 64 lower-case hex digits", a)
	}
	if _, err := PlanHash(func() {}); err == nil {
		t.Error("PlanHash of a function succeeded")
	}
}
