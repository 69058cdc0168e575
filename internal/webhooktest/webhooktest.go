// Package webhooktest checks signed messages with the reference Standard
// Webhooks library (scripts/webhooks, run by node), so that a test proves
// what a receiver using that library would accept, not only what Custos's
// own code computes. Without node or the script's node_modules the check
// is skipped with a message, and fails instead when
// CUSTOS_REQUIRE_SERVICES=1 (as in CI, which runs npm ci first).
package webhooktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Message is one signed message to verify.
type Message struct {
	Secret string
	Header http.Header
	Body   []byte
}

// Verify checks one message: the reference library must accept body under
// secret with h's webhook-id, webhook-timestamp and webhook-signature.
// The library compares the timestamp with the time now (five minutes
// either way), so the message must have been signed with the real clock.
func Verify(t testing.TB, secret string, h http.Header, body []byte) {
	t.Helper()
	VerifyAll(t, Message{secret, h, body})
}

// VerifyAll checks several messages with one run of node.
func VerifyAll(t testing.TB, msgs ...Message) {
	t.Helper()
	if len(msgs) == 0 {
		t.Fatal("webhooktest: no messages to verify")
	}
	script := scriptPath(t)
	if script == "" {
		return
	}
	var in bytes.Buffer
	for _, m := range msgs {
		line, err := json.Marshal(struct {
			Secret  string            `json:"secret"`
			Headers map[string]string `json:"headers"`
			Body    string            `json:"body"`
		}{m.Secret, map[string]string{
			"webhook-id":        m.Header.Get("webhook-id"),
			"webhook-timestamp": m.Header.Get("webhook-timestamp"),
			"webhook-signature": m.Header.Get("webhook-signature"),
		}, string(m.Body)})
		if err != nil {
			t.Fatalf("webhooktest: encode: %v", err)
		}
		in.Write(line)
		in.WriteByte('\n')
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Stdin = &in
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		t.Errorf("the Standard Webhooks library rejects what was signed:\n%s", out.String())
	default:
		t.Fatalf("webhooktest: node %s: %v\n%s%s", script, err, out.String(), errOut.String())
	}
	if n := strings.Count(out.String(), "\n"); err == nil && n != len(msgs) {
		t.Errorf("webhooktest: %d results for %d messages:\n%s", n, len(msgs), out.String())
	}
}

// scriptPath returns the verifier's path, or "" after skipping t when it
// cannot run here.
func scriptPath(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("webhooktest: %v", err)
	}
	dir := filepath.Join(root, "scripts", "webhooks")
	var missing string
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks")); err != nil {
		missing = "scripts/webhooks/node_modules is missing (npm ci --prefix scripts/webhooks)"
	}
	if missing == "" {
		return filepath.Join(dir, "verify.mjs")
	}
	if os.Getenv("CUSTOS_REQUIRE_SERVICES") == "1" {
		t.Fatalf("webhooktest: cannot check signatures with the Standard Webhooks library: %s", missing)
	}
	t.Skipf("webhooktest: %s; skipping the check with the Standard Webhooks library", missing)
	return ""
}

// repoRoot walks up from the working directory (a test runs in its
// package's directory) to the module's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "webhooks", "verify.mjs")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no scripts/webhooks/verify.mjs above the working directory")
		}
		dir = parent
	}
}
