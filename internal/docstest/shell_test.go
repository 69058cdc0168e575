//go:build linux

package docstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests in this file's company run the documents' shell blocks as a
// reader would: through sh, one command after another, against the custos
// binary built from this tree.

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// custosBinary builds ./cmd/custos once for the package's tests and
// returns its path.
func custosBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go command is not on PATH: %w", err)
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "custos-docstest-"); buildErr != nil {
			return
		}
		cmd := exec.Command(goTool, "build", "-o", filepath.Join(buildDir, "custos"), "./cmd/custos")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/custos: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "custos")
}

// requireTools skips the test when a program the documents use is not
// installed, and fails it instead under CUSTOS_REQUIRE_SERVICES=1 (CI).
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CUSTOS_REQUIRE_SERVICES") == "1" {
				t.Fatalf("%s is required (CUSTOS_REQUIRE_SERVICES=1) but not installed", name)
			}
			t.Skipf("%s is not installed", name)
		}
	}
}

// freePort returns a port nothing listens on at the moment. Another
// process may take it before the server does; the caller retries then.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// shell runs a document's commands as one reader's shell session: each
// command goes to its own `sh -c`, and what it exported (export KEY=…) is
// carried to the commands after it through a state file, so a failing
// command is told apart from the others and named by its line.
type shell struct {
	dir   string   // working directory
	env   []string // environment of the session at its start
	state string   // the exports carried between commands
}

func newShell(t *testing.T, dir string, env []string) *shell {
	return &shell{dir: dir, env: env, state: filepath.Join(t.TempDir(), "exports")}
}

// script wraps a command: the exports of the commands before it in, its
// own out. The command text is not changed.
func (s *shell) script(command string) []string {
	return []string{"-c", "if [ -f \"$0\" ]; then . \"$0\"; fi\n" + command + "\nstatus=$?\nexport -p > \"$0\"\nexit $status\n", s.state}
}

// run runs one command to its end, within timeout, with stdin as its
// standard input, and returns what it wrote.
func (s *shell) run(ctx context.Context, command, stdin string, timeout time.Duration) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", s.script(command)...)
	cmd.Dir, cmd.Env = s.dir, s.env
	// A pipe, not /dev/null: a program that asks only at a terminal must
	// see that it is not at one.
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("did not finish within %s", timeout)
	}
	return out.String(), errOut.String(), err
}

// background is a command left running, as in a reader's other terminal.
type background struct {
	cmd  *exec.Cmd
	out  *watched
	errs *watched
	done chan struct{}
	err  error
}

// start starts a command that runs until it is stopped (a server), in its
// own process group; the test stops it when it ends.
func (s *shell) start(t *testing.T, command string) *background {
	t.Helper()
	cmd := exec.Command("sh", s.script(command)...)
	cmd.Dir, cmd.Env = s.dir, s.env
	cmd.Stdin = strings.NewReader("")
	b := &background{cmd: cmd, out: newWatched(), errs: newWatched(), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = b.out, b.errs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b.err = cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(func() { b.stop(t) })
	return b
}

// stop sends the process group SIGTERM, as Ctrl-C would SIGINT, and
// waits for every process in it to end (the server outlives the sh that
// started it by its shutdown), killing what is left after 30 s.
func (b *background) stop(t *testing.T) {
	pgid := b.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.Now().Add(30 * time.Second)
	for groupAlive(pgid) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if groupAlive(pgid) {
		t.Errorf("the background command did not stop within 30 s of SIGTERM; killed")
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	<-b.done
}

// groupAlive reports whether a process of the group is still running; one
// that has ended but is not yet reaped (a zombie) does not count.
func groupAlive(pgid int) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(raw, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(raw[i+1:]))
		if len(fields) >= 3 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			return true
		}
	}
	return false
}

// waitFor waits until the command's standard output holds every one of
// want, at most timeout; it fails early if the command ends.
func (b *background) waitFor(timeout time.Duration, want ...string) error {
	deadline := time.After(timeout)
	for {
		// Taken before looking, so a write in between is not missed.
		changed := b.out.changed()
		missing := ""
		for _, w := range want {
			if !strings.Contains(b.out.String(), w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return nil
		}
		select {
		case <-changed:
		case <-b.done:
			return fmt.Errorf("it ended (%v) before printing %q", b.err, missing)
		case <-deadline:
			return fmt.Errorf("it did not print %q within %s", missing, timeout)
		}
	}
}

// exited reports whether the command has ended.
func (b *background) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// watched is an output buffer whose readers can wait for a write.
type watched struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	wake chan struct{}
}

func newWatched() *watched { return &watched{wake: make(chan struct{})} }

func (w *watched) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.wake)
	w.wake = make(chan struct{})
	return w.buf.Write(p)
}

func (w *watched) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// changed is closed at the next write.
func (w *watched) changed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wake
}

// exitStatus describes how a command ended, for a failure message.
func exitStatus(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Sprintf("exit status %d", ee.ExitCode())
	}
	return err.Error()
}

// replaceAll applies the substitutions of a test, old → new, in order.
func replaceAll(s string, subst [][2]string) string {
	for _, r := range subst {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}

// excerpt keeps a failure message readable.
func excerpt(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}
