package checkpoint

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/receipt"
)

// testSigner signs with a key fixed by a seed, so fuzz corpora stay valid.
func testSigner(tb testing.TB) *Signer {
	tb.Helper()
	s, err := NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)), "kid-test")
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func testCheckpoint() Checkpoint {
	return Checkpoint{
		At:       time.Date(2026, 5, 4, 3, 5, 0, 123456000, time.UTC),
		Instance: "web-1",
		Trail:    Head{Seq: 1042, Hash: bytes.Repeat([]byte{0xa1}, 32)},
		Ledger:   Head{Seq: 42, Hash: bytes.Repeat([]byte{0xb2}, 32)},
	}
}

func same(a, b Checkpoint) bool {
	return a.At.Equal(b.At) && a.Instance == b.Instance && a.KeyID == b.KeyID && bytes.Equal(a.Sig, b.Sig) &&
		a.Trail.Seq == b.Trail.Seq && bytes.Equal(a.Trail.Hash, b.Trail.Hash) &&
		a.Ledger.Seq == b.Ledger.Seq && bytes.Equal(a.Ledger.Hash, b.Ledger.Hash)
}

func TestSignVerify(t *testing.T) {
	s := testSigner(t)
	c := testCheckpoint()
	s.Sign(&c)
	got, err := Parse(c.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !same(c, got) {
		t.Fatalf("round trip: %+v, want %+v", got, c)
	}
	if err := s.Keys().Verify(got); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	// Every value is covered by the signature.
	changes := []struct {
		name   string
		change func(c *Checkpoint)
	}{
		{"time", func(c *Checkpoint) { c.At = c.At.Add(time.Microsecond) }},
		{"instance", func(c *Checkpoint) { c.Instance = "web-2" }},
		{"audit seq", func(c *Checkpoint) { c.Trail.Seq-- }},
		{"audit hash", func(c *Checkpoint) { c.Trail.Hash = bytes.Repeat([]byte{1}, 32) }},
		{"ledger seq", func(c *Checkpoint) { c.Ledger.Seq++ }},
		{"ledger hash", func(c *Checkpoint) { c.Ledger.Hash = c.Trail.Hash }},
		{"heads swapped", func(c *Checkpoint) { c.Trail, c.Ledger = c.Ledger, c.Trail }},
		{"signature", func(c *Checkpoint) { c.Sig = append([]byte{c.Sig[0] ^ 1}, c.Sig[1:]...) }},
	}
	for _, tt := range changes {
		t.Run(tt.name, func(t *testing.T) {
			x := got
			tt.change(&x)
			if err := s.Keys().Verify(x); !errors.Is(err, ErrSignature) {
				t.Errorf("Verify after changing the %s = %v, want ErrSignature", tt.name, err)
			}
		})
	}
	x := got
	x.KeyID = "another"
	if err := s.Keys().Verify(x); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Verify with an unknown key id = %v, want ErrUnknownKey", err)
	}
}

func TestParseRejects(t *testing.T) {
	s := testSigner(t)
	c := testCheckpoint()
	s.Sign(&c)
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
	hash := strings.Repeat("ab", 32)
	tests := []struct{ name, line string }{
		{"empty", ""},
		{"not JSON", "audit 5 abc"},
		{"an array", "[1]"},
		{"two values", good + good},
		{"unknown field", with("extra", 1)},
		{"other version", with("v", 2)},
		{"no version", with("v", nil)},
		{"no time", with("at", nil)},
		{"time not RFC 3339", with("at", "2026-05-04 03:05:00")},
		{"time below a microsecond", with("at", "2026-05-04T03:05:00.1234567Z")},
		{"no instance", with("instance", "")},
		{"instance with a newline", with("instance", "web\n1")},
		{"instance too long", with("instance", strings.Repeat("w", 201))},
		{"negative seq", with("audit", map[string]any{"seq": -1, "hash": hash})},
		{"short hash", with("ledger", map[string]any{"seq": 1, "hash": "abcd"})},
		{"hash not hex", with("ledger", map[string]any{"seq": 1, "hash": strings.Repeat("zz", 32)})},
		{"no ledger", with("ledger", nil)},
		{"no key id", with("kid", "")},
		{"signature not base64url", with("sig", "!!")},
		{"short signature", with("sig", "AAAA")},
		{"too long", good[:len(good)-1] + strings.Repeat(" ", MaxLine) + "}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.line)); !errors.Is(err, ErrMalformed) {
				t.Errorf("Parse = %v, want ErrMalformed", err)
			}
		})
	}
	// The signature covers values, not spelling: a re-encoded line verifies.
	spaced := strings.ReplaceAll(with("at", "2026-05-04T11:05:00.123456+08:00"), ",", ", ")
	got, err := Parse([]byte(spaced + "\n"))
	if err != nil {
		t.Fatalf("re-encoded line: %v", err)
	}
	if err := s.Keys().Verify(got); err != nil {
		t.Errorf("re-encoded line does not verify: %v", err)
	}
}

func TestParseJWKS(t *testing.T) {
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
	keys, err := ParseJWKS(jwks)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(keys[rs.KeyID()], rs.PublicKey()) || len(keys) != 1 {
		t.Errorf("keys = %v, want the receipt key under %s", keys, rs.KeyID())
	}
	for _, bad := range []string{``, `{}`, `{"keys":[]}`, `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"k"}]}`} {
		if _, err := ParseJWKS([]byte(bad)); err == nil {
			t.Errorf("ParseJWKS(%s) accepted", bad)
		}
	}
}

func TestFileSink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoints.jsonl")
	f := &File{Path: path}
	ctx := context.Background()
	if err := f.Append(ctx, []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	// A line cut short by a crash stays apart from the next one.
	raw, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	raw.WriteString(`{"n":`)
	raw.Close()
	if err := f.Append(ctx, []byte(`{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "{\"n\":1}\n{\"n\":\n{\"n\":2}\n"; string(got) != want {
		t.Errorf("file = %q, want %q", got, want)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", info.Mode().Perm())
	}
}

func TestHTTPSink(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	status := http.StatusNoContent
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with %q", r.Method, r.Header.Get("Content-Type"))
		}
		bodies = append(bodies, string(b))
		w.WriteHeader(status)
	}))
	defer srv.Close()
	sink, err := Open(srv.URL + "/ingest?token=secret")
	if err != nil {
		t.Fatal(err)
	}
	h := sink.(*HTTP)
	h.Client = srv.Client()
	if err := h.Append(context.Background(), []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	status = http.StatusServiceUnavailable
	mu.Unlock()
	err = h.Append(context.Background(), []byte(`{"n":2}`))
	if err == nil || !strings.Contains(err.Error(), "503") || strings.Contains(err.Error(), "secret") {
		t.Errorf("Append to a failing endpoint = %v, want an error naming 503 and not the token", err)
	}
	if diff := cmp.Diff([]string{`{"n":1}`, `{"n":2}`}, bodies); diff != "" {
		t.Errorf("bodies (-want +got):\n%s", diff)
	}
	if strings.Contains(h.String(), "secret") {
		t.Errorf("String() = %q shows the query", h.String())
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		target string
		kind   string // "file", "http" or "" for an error
	}{
		{"/var/lib/custos/checkpoints.jsonl", "file"},
		{"checkpoints.jsonl", "file"},
		{"https://logs.example.com/custos", "http"},
		{"http://127.0.0.1:9000/in", "http"},
		{"http://localhost/in", "http"},
		{"http://logs.example.com/in", ""},
		{"ftp://logs.example.com/in", ""},
		{"https://", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			s, err := Open(tt.target)
			var kind string
			switch s.(type) {
			case *File:
				kind = "file"
			case *HTTP:
				kind = "http"
			}
			if kind != tt.kind || (err == nil) != (tt.kind != "") {
				t.Errorf("Open = %T, %v; want %q", s, err, tt.kind)
			}
		})
	}
}

type fixedHeads struct {
	mu            sync.Mutex
	trail, ledger audit.Chain
}

func (f *fixedHeads) Heads(context.Context) (audit.Chain, audit.Chain, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.trail, f.ledger, nil
}

func TestWriterAndRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoints.jsonl")
	heads := &fixedHeads{trail: audit.Chain{Seq: 3, Hash: bytes.Repeat([]byte{3}, 32)}, ledger: audit.Chain{Seq: 1, Hash: bytes.Repeat([]byte{1}, 32)}}
	s := testSigner(t)
	w := &Writer{Heads: heads, Signer: s, Sink: &File{Path: path}, Instance: "web-1"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.Run(ctx, 20*time.Millisecond, slog.New(slog.DiscardHandler))
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for lines(t, path) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if w.LastWritten().IsZero() {
		t.Error("LastWritten is zero after writing")
	}
	// Lines that are not checkpoints, or not signed by a known key, are
	// problems; the good lines become anchors of both chains.
	other, err := NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)), "kid-other")
	if err != nil {
		t.Fatal(err)
	}
	forged := testCheckpoint()
	other.Sign(&forged)
	forged.KeyID = "kid-test"
	unknown := testCheckpoint()
	other.Sign(&unknown)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\nnot a checkpoint\n" + string(forged.Marshal()) + "\n" + string(unknown.Marshal()) + "\n")
	f.Close()
	anchors, problems, err := FileAnchors(path, s.Keys())(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := len(anchors.Trail)
	if n < 2 || len(anchors.Ledger) != n {
		t.Fatalf("anchors: %d of the trail, %d of the ledger; want the same, at least 2", n, len(anchors.Ledger))
	}
	if a := anchors.Trail[0]; a.Seq != 3 || !bytes.Equal(a.Hash, heads.trail.Hash) || !strings.Contains(a.From, "line 1 (") || !strings.Contains(a.From, "web-1") {
		t.Errorf("first trail anchor = %+v", a)
	}
	if a := anchors.Ledger[0]; a.Seq != 1 || !bytes.Equal(a.Hash, heads.ledger.Hash) {
		t.Errorf("first ledger anchor = %+v", a)
	}
	var kinds []string
	for _, p := range problems {
		kinds = append(kinds, p.Kind)
	}
	if diff := cmp.Diff([]string{"checkpoint_invalid", "checkpoint_signature", "checkpoint_unknown_key"}, kinds); diff != "" {
		t.Errorf("problem kinds (-want +got):\n%s\n%+v", diff, problems)
	}
	if _, _, err := FileAnchors(filepath.Join(t.TempDir(), "none"), s.Keys())(context.Background()); err == nil {
		t.Error("a missing checkpoint file is not an error")
	}
}

func lines(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}

func TestRedacted(t *testing.T) {
	tests := map[string]string{
		"/var/lib/custos/checkpoints.jsonl":           "/var/lib/custos/checkpoints.jsonl",
		"https://logs.example.com/in":                 "https://logs.example.com/in",
		"https://logs.example.com/in?token=s3cret":    "https://logs.example.com/in?xxxxx",
		"https://user:s3cret@logs.example.com/in":     "https://logs.example.com/in",
		"https://logs.example.com/in?a=1#frag-s3cret": "https://logs.example.com/in?xxxxx",
	}
	for in, want := range tests {
		if got := Redacted(in); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("Redacted(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestForOrg(t *testing.T) {
	for _, tt := range []struct{ target, want string }{
		{"/var/lib/custos-checkpoints/checkpoints.jsonl", "/var/lib/custos-checkpoints/checkpoints.acme.jsonl"},
		{"checkpoints", "checkpoints.acme"},
		{"https://log.example/custos/checkpoints", "https://log.example/custos/checkpoints?org=acme"},
		{"https://log.example/c?tenant=7", "https://log.example/c?org=acme&tenant=7"},
		{"", ""},
	} {
		if got := ForOrg(tt.target, "acme"); got != tt.want {
			t.Errorf("ForOrg(%q) = %q, want %q", tt.target, got, tt.want)
		}
	}
}
