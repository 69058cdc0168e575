package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// startDemo runs server.New as `custos serve --demo` does, in the working
// directory, and closes the server when the test ends.
func startDemo(t *testing.T) *server.Server {
	t.Helper()
	cfg := config.Default()
	cfg.DB = server.DemoDB
	cfg.Demo = true
	srv, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler), server.WithDemo(server.DemoOptions{Dir: server.DemoDir, History: true}))
	if err != nil {
		t.Fatalf("demo server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// TestDemoHistory: the demo a newcomer starts has something to show on
// every page: two versions to compare, someone asked to consent again,
// consents spread over weeks, and requests in every state, among them a
// completed erasure whose recipients were told.
func TestDemoHistory(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx := t.Context()
	srv := startDemo(t)
	svc := srv.Service()
	now := time.Now()

	t.Run("both versions, the second after its notice period", func(t *testing.T) {
		vs, err := svc.Versions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range vs {
			got = append(got, v.Label+" "+v.State)
		}
		if diff := cmp.Diff([]string{"3.0 " + consent.VersionSuperseded, "3.1 " + consent.VersionInForce}, got); diff != "" {
			t.Fatalf("versions (-want +got):\n%s", diff)
		}
		if age := now.Sub(vs[0].EffectiveAt); age < 8*7*24*time.Hour {
			t.Errorf("3.0 came into force %v ago, want weeks before 3.1", age)
		}
		if notice := vs[1].EffectiveAt.Sub(vs[1].PublishedAt); notice < 7*24*time.Hour {
			t.Errorf("3.1 came into force %v after it was announced, less than the 7 days' notice the policy promises", notice)
		}
		if !vs[1].Material || !slices.Contains(vs[1].Reconsent, "analytics") {
			t.Errorf("3.1: material %v, reconsent %v; want a material change asking consent to analytics again", vs[1].Material, vs[1].Reconsent)
		}
	})

	t.Run("who consents again and who need not", func(t *testing.T) {
		for _, tt := range []struct {
			subject    string
			wantAccept string
			wantStale  bool
		}{
			{"demo-1001", "3.1", true}, // Lin Wei has not been back since 3.1
			{"demo-1002", "", false},   // Alex Chen accepted and consented again
			{"demo-1004", "", false},   // so did Sofia Marin
		} {
			c, err := svc.Choices(ctx, tt.subject, "en", nil)
			if err != nil {
				t.Fatal(err)
			}
			stale := slices.ContainsFunc(c.Ordinary, func(ch consent.Choice) bool { return ch.Stale })
			if c.Accept != tt.wantAccept || stale != tt.wantStale {
				t.Errorf("%s: accept %q, stale consents %v; want %q, %v", tt.subject, c.Accept, stale, tt.wantAccept, tt.wantStale)
			}
		}
	})

	t.Run("decisions follow", func(t *testing.T) {
		for _, tt := range []struct {
			subject string
			want    []string
		}{
			{"demo-1001", []string{"account_registration false policy_acceptance_required", "analytics false reconsent_required"}},
			{"demo-1002", []string{"account_registration true legal_basis:contract", "analytics true consent"}},
		} {
			res, err := svc.Check(ctx, consent.Actor{ID: "test", Role: "service", Place: "test"}, consent.CheckInput{SubjectID: tt.subject, Purposes: []string{"account_registration", "analytics"}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range res.Decisions {
				got = append(got, fmt.Sprint(d.Purpose, " ", d.Allowed, " ", d.Reason))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decisions for %s (-want +got):\n%s", tt.subject, diff)
			}
		}
	})

	t.Run("consents over weeks", func(t *testing.T) {
		series, err := consent.NewStats(srv.Store()).Series(ctx, now.AddDate(0, 0, -91), now, 7*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		granted := map[time.Time]int64{}
		var withdrawn int64
		for _, p := range series {
			granted[p.At] += p.Granted
			if p.At.Equal(series[len(series)-1].At) {
				withdrawn += p.Withdrawn
			}
		}
		var weeks []int64
		for _, at := range slices.SortedFunc(maps.Keys(granted), time.Time.Compare) {
			if granted[at] > 0 {
				weeks = append(weeks, granted[at])
			}
		}
		if len(weeks) < 4 || weeks[len(weeks)-1] <= weeks[0] {
			t.Errorf("weekly consents in force %v; want at least 4 weeks with consents, growing", weeks)
		}
		if withdrawn == 0 {
			t.Error("nobody has withdrawn a consent")
		}
	})

	t.Run("requests in every state", func(t *testing.T) {
		rs, err := srv.Store().Requests(ctx, store.RequestFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]int{}
		for _, r := range rs {
			states[r.State]++
		}
		// A request is received and, in the same write, awaits its code
		// or is verified: no service leaves one in "received".
		for _, s := range []string{dsr.StateAwaitingVerification, dsr.StateVerified, dsr.StateInProgress, dsr.StateAwaitingSubject,
			dsr.StateExtended, dsr.StateCompleted, dsr.StateRefused, dsr.StateWithdrawn, dsr.StateCancelled} {
			if states[s] == 0 {
				t.Errorf("no request is %s (states: %v)", s, states)
			}
		}
	})

	t.Run("a completed erasure told its recipients", func(t *testing.T) {
		rs, err := srv.Store().Requests(ctx, store.RequestFilter{States: []string{dsr.StateCompleted}, Kind: "deletion", Limit: 10})
		if err != nil || len(rs) != 1 {
			t.Fatalf("completed deletions: %d, %v", len(rs), err)
		}
		v, err := srv.Requests().Get(ctx, rs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]int{}
		for _, r := range v.Recipients {
			states[r.State]++
		}
		if states["acknowledged"] != 3 || states["pending"] == 0 {
			t.Errorf("recipient notices by state %v; want 3 acknowledged and others pending", states)
		}
		if sub, err := srv.Store().Subject(ctx, v.SubjectID); err != nil || len(sub.Identities) != 0 {
			t.Errorf("the erased subject: %d identities left (%v), want none", len(sub.Identities), err)
		}
	})

	t.Run("the privacy center compares the versions", func(t *testing.T) {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/privacy/policy/diff?lang=en", nil))
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(body, "privacy-office@qingyun.example.cn") {
			t.Errorf("GET /privacy/policy/diff: %d, changed contact shown: %v", rec.Code, strings.Contains(body, "privacy-office@qingyun.example.cn"))
		}
	})
}

// TestDemoRestart: a second start on the same directory reuses the admin
// key, revokes demo keys left by earlier starts, writes no second history,
// and nothing lands outside the demo directory.
func TestDemoRestart(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ctx := t.Context()
	first := startDemo(t)
	key := first.DemoKey()
	requests, err := first.Store().Requests(ctx, store.RequestFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// An earlier version of the demo made a new admin key on every start.
	stale, err := api.CreateKey(ctx, first.Store(), consent.Actor{ID: "system", Role: "system", Place: "test"}, "demo admin", "admin")
	if err != nil {
		t.Fatal(err)
	}
	first.Close()

	second := startDemo(t)
	if second.DemoKey() != key || !strings.HasPrefix(key, "cus_") {
		t.Errorf("second start's key %q, want the first's %q", second.DemoKey(), key)
	}
	kept, err := os.ReadFile(filepath.Join(server.DemoDir, "admin.key"))
	if err != nil || strings.TrimSpace(string(kept)) != key {
		t.Errorf("admin.key holds %q (%v), want the key", kept, err)
	}
	keys, err := second.Store().Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var valid []string
	for _, k := range keys {
		if k.RevokedAt.IsZero() {
			valid = append(valid, k.Name)
		}
		if k.ID == stale.ID && k.RevokedAt.IsZero() {
			t.Error("the stale demo admin key was not revoked")
		}
		if string(k.Hash) == key {
			t.Error("the key is stored as it is, not hashed")
		}
	}
	if diff := cmp.Diff([]string{"demo admin"}, valid); diff != "" {
		t.Errorf("valid keys (-want +got):\n%s", diff)
	}
	again, err := second.Store().Requests(ctx, store.RequestFilter{Limit: 1000})
	if err != nil || len(again) != len(requests) {
		t.Errorf("%d requests after the restart, %d before (%v): the history was written twice", len(again), len(requests), err)
	}
	second.Close()

	if diff := cmp.Diff([]string{".custos-demo"}, listDir(t, ".")); diff != "" {
		t.Errorf("the working directory holds (-want +got):\n%s", diff)
	}
	want := []string{"admin.key", "checkpoints.jsonl", "custos-keys.db", "custos.db", "secrets"}
	got := slices.DeleteFunc(listDir(t, server.DemoDir), func(n string) bool {
		return strings.HasPrefix(n, "custos.db-") || strings.HasPrefix(n, "custos-keys.db-")
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the demo directory holds (-want +got):\n%s", diff)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

var bannerKeyRE = regexp.MustCompile(`export KEY=(cus_\S+)`)

// TestDemoServe runs `custos serve --demo` twice in an empty directory, as
// a newcomer does: the banner says where to go, the key, whom to sign in
// as and where codes land; the key is the same the second time; and
// everything the demo wrote, messages included, is under .custos-demo/.
func TestDemoServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "custos")
	runCmd(t, t.Context(), moduleRoot(t), "go", "build", "-o", bin, "./cmd/custos")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	work := t.TempDir()

	var keys []string
	for run := range 2 {
		began := time.Now()
		out := serveDemo(t, ctx, bin, work)
		t.Logf("start %d: banner after %v", run+1, time.Since(began).Round(time.Millisecond))
		for _, want := range []string{"/privacy/", "/demo/shop/", "/console/", "demo-admin / custos-demo-admin",
			"lin.wei@example.com", "alex.chen@example.org", ".custos-demo/admin.key", ".custos-demo/outbox/outbox.jsonl"} {
			if !strings.Contains(out, want) {
				t.Errorf("start %d: the banner does not say %q:\n%s", run+1, want, out)
			}
		}
		m := bannerKeyRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("start %d: no key in the banner:\n%s", run+1, out)
		}
		keys = append(keys, m[1])
	}
	if keys[0] != keys[1] {
		t.Errorf("the key changed between starts: %q, then %q", keys[0], keys[1])
	}
	kept, err := os.ReadFile(filepath.Join(work, ".custos-demo", "admin.key"))
	if err != nil || strings.TrimSpace(string(kept)) != keys[0] {
		t.Errorf("admin.key holds %q (%v), want the printed key", kept, err)
	}
	if diff := cmp.Diff([]string{".custos-demo"}, listDir(t, work)); diff != "" {
		t.Errorf("the working directory holds (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(work, ".custos-demo", "outbox", "outbox.jsonl")); err != nil {
		t.Errorf("no messages were written to the demo's outbox: %v", err)
	}
}

// serveDemo starts `custos serve --demo` in dir, waits for the banner and
// a message in the outbox, stops the server with SIGTERM and returns what
// it printed.
func serveDemo(t *testing.T, ctx context.Context, bin, dir string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, "serve", "--demo", "--addr", "127.0.0.1:0", "--log-level", "warn")
	cmd.Dir, cmd.Env = dir, childEnv()
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	outbox := filepath.Join(dir, ".custos-demo", "outbox", "outbox.jsonl")
	for !strings.Contains(stdout.String(), "delete it to start over") || !fileExists(outbox) {
		select {
		case err := <-exited:
			t.Fatalf("custos serve --demo exited: %v\n%s", err, stderr.String())
		case <-ctx.Done():
			cmd.Process.Kill()
			t.Fatalf("custos serve --demo: no banner and outbox in time\n%s\n%s", stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Fatalf("custos serve --demo did not stop cleanly: %v\n%s", err, stderr.String())
	}
	return stdout.String()
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
