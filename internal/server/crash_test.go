package server_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/store"
)

// TestCrashDurability kills `custos serve` with SIGKILL while 16 clients
// record consents on a SQLite database, five times over, and then requires
// every write the server answered 201 for to be in the ledger and in an
// intact audit chain. The server promises that a 201 means durable; a
// SIGKILL gives it no chance to flush anything it only buffered.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills servers; skipped with -short")
	}
	const (
		cycles  = 5
		writers = 16
	)
	began := time.Now()
	root := moduleRoot(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "custos")
	// The build has its own deadline: on a busy machine (or beside a run
	// under the race detector) it alone can take a minute.
	buildCtx, cancelBuild := context.WithTimeout(t.Context(), 5*time.Minute)
	runCmd(t, buildCtx, root, "go", "build", "-o", bin, "./cmd/custos")
	cancelBuild()
	built := time.Since(began)
	ctx, cancel := context.WithTimeout(t.Context(), 55*time.Second)
	defer cancel()

	manifestPath := filepath.Join(root, "examples", "starter", "custos.yaml")
	purpose := plainConsentPurposes(t, manifestPath)[0]
	secretsDir := filepath.Join(tmp, "secrets")
	db := filepath.Join(tmp, "custos.db")
	runCmd(t, ctx, "", bin, "secrets", "init", secretsDir)
	runCmd(t, ctx, "", bin, "migrate", "--db", db)
	key := strings.TrimSpace(runCmd(t, ctx, "", bin, "keys", "create", "--role", "service", "--name", "crash test", "--db", db, "--secrets-dir", secretsDir))
	if !strings.HasPrefix(key, "cus_") {
		t.Fatalf("keys create printed %q, want a key", key)
	}

	subjects := make([]string, writers)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("crash-%02d", i)
	}
	var (
		acks       ackLog
		inFlight   int // requests in flight when a kill cut them off
		perCycle   []int
		unexpected []string
	)
	for cycle := range cycles {
		srv := startServe(t, ctx, bin, "serve", "--manifest", manifestPath, "--db", db, "--addr", "127.0.0.1:0",
			"--secrets-dir", secretsDir, "--log-level", "warn")
		c := newAPIClient(srv.base, key)
		if cycle == 0 {
			for _, s := range subjects {
				c.createSubject(t, s)
			}
		}
		before := len(acks.all())
		var (
			killed     atomic.Bool
			cutOff     atomic.Int64
			mu         sync.Mutex
			wg         sync.WaitGroup
			wctx, stop = context.WithCancel(ctx)
		)
		for _, subject := range subjects {
			wg.Go(func() {
				for n := 0; wctx.Err() == nil; n++ {
					w := grantOf(purpose)
					if n%2 == 1 {
						w = withdrawalOf(purpose)
					}
					sentAfterKill := killed.Load()
					evs, status, body, err := c.recordConsent(wctx, subject, w)
					switch {
					case err != nil && sentAfterKill:
						// The server is gone; the loop ends once stop is called.
					case err != nil && killed.Load():
						cutOff.Add(1)
					case err != nil:
						mu.Lock()
						unexpected = append(unexpected, fmt.Sprintf("cycle %d, %s, before the kill: %v", cycle, subject, err))
						mu.Unlock()
					case status == http.StatusCreated && len(evs) == 1:
						acks.add(evs...)
					default:
						mu.Lock()
						unexpected = append(unexpected, fmt.Sprintf("cycle %d, %s: status %d, %d events: %s", cycle, subject, status, len(evs), body))
						mu.Unlock()
					}
				}
			})
		}
		time.Sleep(300*time.Millisecond + rand.N(600*time.Millisecond))
		killed.Store(true)
		srv.kill(t)
		stop()
		wg.Wait()
		c.close()
		perCycle = append(perCycle, len(acks.all())-before)
		inFlight += int(cutOff.Load())
		if t.Failed() {
			break
		}
	}
	for i, u := range unexpected {
		if i == 10 {
			t.Errorf("… and %d more unexpected answers", len(unexpected)-10)
			break
		}
		t.Errorf("unexpected answer: %s", u)
	}
	for i, n := range perCycle {
		if n == 0 {
			t.Errorf("cycle %d acknowledged no write: the kill hit an idle server and proves nothing", i)
		}
	}

	// The audit chain must verify under the server's key, with every
	// acknowledged write and the setup (subjects, key, policy) in it.
	acked := acks.all()
	out, err := custosOutput(ctx, "", bin, "audit", "verify", "--db", db, "--secrets-dir", secretsDir)
	if err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`audit chain intact: (\d+) entries`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("audit verify exited 0 without reporting an intact chain:\n%s", out)
	}
	entries, _ := strconv.Atoi(m[1])
	if min := len(acked) + len(subjects) + 2; entries < min {
		t.Errorf("audit chain has %d entries, want at least %d (acknowledged writes, subjects, key, policy)", entries, min)
	}

	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	audited := auditedEvents(t, ctx, st)
	var missing, unaudited []string
	for _, a := range acked {
		e, err := st.ConsentEventByID(ctx, a.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			missing = append(missing, a.ID)
			continue
		case err != nil:
			t.Fatalf("event %s: %v", a.ID, err)
		}
		if e.SubjectID != a.Subject || e.Purpose != a.Purpose || e.Action != a.Action {
			t.Errorf("event %s is %s/%s/%s, acknowledged as %s/%s/%s", a.ID, e.SubjectID, e.Purpose, e.Action, a.Subject, a.Purpose, a.Action)
		}
		if !audited[a.ID] {
			unaudited = append(unaudited, a.ID)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d acknowledged consent events are missing from the ledger after the kills, e.g. %v", len(missing), len(acked), missing[:min(5, len(missing))])
	}
	if len(unaudited) > 0 {
		t.Errorf("%d of %d acknowledged consent events have no audit entry, e.g. %v", len(unaudited), len(acked), unaudited[:min(5, len(unaudited))])
	}
	t.Logf("%d kills, %d acknowledged writes (per cycle %v), %d requests in flight when killed, %d audit entries; build %v, total %v",
		len(perCycle), len(acked), perCycle, inFlight, entries, built.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// auditedEvents returns the ids of the consent events the audit trail records.
func auditedEvents(t *testing.T, ctx context.Context, st *store.Store) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	var after int64
	for {
		page, err := st.AuditEntries(ctx, store.AuditFilter{After: after, Limit: 5000})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			if e.Action != "consent.grant" && e.Action != "consent.withdraw" {
				continue
			}
			out[eventOf(t, e.Detail)] = true
		}
		if len(page) < 5000 {
			return out
		}
		after = page[len(page)-1].Seq
	}
}

// moduleRoot is the directory of the module's go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD: %q, %v", gomod, err)
	}
	return filepath.Dir(gomod)
}

// childEnv is the test's environment without CUSTOS_* settings, so that
// only the flags a test gives configure the binary.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CUSTOS_") {
			env = append(env, kv)
		}
	}
	return env
}

// custosOutput runs a command to completion and returns its combined output.
func custosOutput(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = childEnv()
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), fmt.Errorf("%s %s: %w", filepath.Base(name), strings.Join(args, " "), err)
	}
	return stdout.String(), nil
}

// runCmd runs a command that must succeed and returns its standard output.
func runCmd(t *testing.T, ctx context.Context, dir, name string, args ...string) string {
	t.Helper()
	out, err := custosOutput(ctx, dir, name, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// serveProc is a `custos serve` child process.
type serveProc struct {
	cmd            *exec.Cmd
	base           string
	stdout, stderr lockedBuffer
	exited         chan struct{}
	waitErr        error
}

var listeningRE = regexp.MustCompile(`custos listening on (http://\S+)`)

// startServe starts the server, waits until it answers /readyz and makes
// sure the test does not leave it running.
func startServe(t *testing.T, ctx context.Context, bin string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = childEnv()
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.exited:
			t.Fatalf("custos serve exited before it was ready: %v\n%s", p.waitErr, p.stderr.String())
		case <-deadline.C:
			t.Fatalf("custos serve was not ready within 15 s\n%s", p.stderr.String())
		case <-ctx.Done():
			t.Fatalf("custos serve: %v", ctx.Err())
		case <-tick.C:
		}
		if p.base == "" {
			if m := listeningRE.FindStringSubmatch(p.stdout.String()); m != nil {
				p.base = m[1]
			}
			continue
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", p.base+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
	}
}

// kill sends SIGKILL and requires that the server was still running.
func (p *serveProc) kill(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		t.Fatalf("custos serve stopped before it was killed: %v\n%s", p.waitErr, p.stderr.String())
	default:
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("custos serve ended with %v, not by SIGKILL\n%s", p.waitErr, p.stderr.String())
	}
}
