//go:build linux

package docstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/notify/notifytest"
)

var (
	smtpAddrRE = regexp.MustCompile(`(?:--smtp-addr[ =]|CUSTOS_SMTP_ADDR=)(\S+)`)
	smtpFromRE = regexp.MustCompile(`(?:--smtp-from[ =]|CUSTOS_SMTP_FROM=)(\S+)`)
	smtpUserRE = regexp.MustCompile(`(?:--smtp-user[ =]|CUSTOS_SMTP_USER=)(\S+)`)
	listenRE   = regexp.MustCompile(`--addr[ =](\S+)`)
	operatorRE = regexp.MustCompile(`^custos operators create (\S+) .*< (\S+)`)
)

// TestServerDeployment follows the documents' first start of a real
// deployment, docs/server.md's "For a real deployment" and
// docs/operations.md's "A first start on SQLite", to a one-time code
// delivered: every command of the block through sh, in order, with the
// built custos first on PATH. The only substitutions are /etc/custos and
// /var/lib/custos (temporary directories), the mail relay's host:port (a
// test relay on 127.0.0.1 that offers STARTTLS with a certificate of a CA
// made for the test, which the custos processes trust through
// SSL_CERT_FILE) and the listen port (a free one). What the reader brings
// is brought: the relay's password is typed where the block says to type
// it, and an operator's password file is written where the block reads it.
//
// Then, as the organisation's application and one of its users would: the
// admin key the block wrote registers a person with an email address kept,
// the person files a public rights request, the code reaches the relay over
// TLS with the relay account's credentials, and it verifies the request;
// an operator the block created signs in to the console.
func TestServerDeployment(t *testing.T) {
	requireTools(t, "sh")
	for _, doc := range []struct{ file, section string }{
		{"docs/server.md", "Quick start"},
		{"docs/operations.md", "The binary"},
	} {
		t.Run(doc.file, func(t *testing.T) {
			followDeployment(t, doc.file, doc.section)
		})
	}
}

func followDeployment(t *testing.T, file, section string) {
	bin := custosBinary(t)
	src, err := os.ReadFile(filepath.Join(repoRoot(t), file))
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := Scripts(file, src, section)
	if err != nil {
		t.Fatal(err)
	}
	var script Script
	for _, s := range scripts {
		for _, c := range s.Commands() {
			if strings.HasPrefix(c.Text, "custos secrets init") {
				script = s
			}
		}
	}
	if script.Line == 0 {
		t.Fatalf("%s: no block under %q starts a deployment with custos secrets init", file, section)
	}
	cmds := script.Commands()
	serve := cmds[len(cmds)-1]
	if !strings.HasPrefix(serve.Text, "custos serve") {
		t.Fatalf("%s:%d: the block does not end by starting the server", file, serve.Line)
	}
	var all strings.Builder
	for _, c := range cmds {
		all.WriteString(c.Text + "\n")
	}
	relayAddr := smtpAddrRE.FindStringSubmatch(all.String())
	from := smtpFromRE.FindStringSubmatch(all.String())
	user := smtpUserRE.FindStringSubmatch(all.String())
	listen := listenRE.FindStringSubmatch(serve.Text)
	if relayAddr == nil || from == nil || user == nil || listen == nil {
		t.Fatalf("%s:%d: the block sets no mail relay address, sender or user, or no --addr for the server: a deployment that sends its one-time codes through a relay needs them", file, script.Line)
	}

	tmp := t.TempDir()
	ca := notifytest.NewCA(t, "127.0.0.1")
	relay := notifytest.StartSMTP(t, notifytest.SMTPOptions{Auth: true, TLS: ca.Server})
	caFile := filepath.Join(tmp, "test-ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	binDir := filepath.Join(tmp, "bin")
	if err := os.Mkdir(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, filepath.Join(binDir, "custos")); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"TMPDIR=" + t.TempDir(),
		"LANG=C.UTF-8",
		// Go reads the roots from this file on Linux instead of the system's.
		"SSL_CERT_FILE=" + caFile,
	}
	const password = "relay-account-password"
	root := filepath.Join(tmp, "root") // stands for /
	work := t.TempDir()
	sh := newShell(t, work, env)
	subst := [][2]string{
		{"/etc/custos", filepath.Join(root, "etc", "custos")},
		{"/var/lib/custos", filepath.Join(root, "var", "lib", "custos")},
		{relayAddr[1], relay.Addr},
	}
	var operator, operatorPassword string
	for _, c := range cmds[:len(cmds)-1] {
		stdin := ""
		if strings.HasPrefix(c.Text, "cat >") {
			stdin = password + "\n" // what the comment asks the reader to type
		}
		if m := operatorRE.FindStringSubmatch(c.Text); m != nil {
			operator, operatorPassword = m[1], "a-console-password-1"
			if err := os.WriteFile(filepath.Join(work, m[2]), []byte(operatorPassword+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		stdout, stderr, err := sh.run(t.Context(), replaceAll(c.Text, subst), stdin, 2*time.Minute)
		if err != nil {
			t.Fatalf("%s:%d: %s: %s\nstdout:\n%s\nstderr:\n%s", file, c.Line, c.Text, exitStatus(err), excerpt(stdout), excerpt(stderr))
		}
		t.Logf("%s:%d: %s", file, c.Line, firstLine(c.Text))
	}

	var srv *background
	var base string
	for attempt := 1; ; attempt++ {
		host, _, _ := strings.Cut(listen[1], ":")
		addr := host + ":" + freePort(t)
		base = "http://" + addr
		srv = sh.start(t, replaceAll(serve.Text, append(subst, [2]string{listen[1], addr})))
		err := srv.waitFor(2*time.Minute, "custos listening on http://")
		if err == nil {
			break
		}
		if attempt < 3 && strings.Contains(srv.errs.String(), "address already in use") {
			srv.stop(t)
			continue
		}
		t.Fatalf("%s:%d: %s: %v\nstdout:\n%s\nstderr:\n%s", file, serve.Line, serve.Text, err, excerpt(srv.out.String()), excerpt(srv.errs.String()))
	}
	if strings.Contains(srv.errs.String(), "no message channel") {
		t.Errorf("%s:%d: the server started without a message channel:\n%s", file, serve.Line, excerpt(srv.errs.String()))
	}

	keyFile := regexp.MustCompile(`keys create .*> (\S+)`).FindStringSubmatch(all.String())
	if keyFile == nil {
		t.Fatalf("%s:%d: the block keeps no admin key (custos keys create … > FILE)", file, script.Line)
	}
	key, err := os.ReadFile(filepath.Join(work, keyFile[1]))
	if err != nil {
		t.Fatal(err)
	}
	const email = "wang.fang@example.cn"
	call := func(method, path string, header map[string]string, in any, wantStatus int) map[string]any {
		t.Helper()
		body, _ := json.Marshal(in)
		req, err := http.NewRequestWithContext(t.Context(), method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != wantStatus {
			t.Fatalf("%s %s answered %d, want %d: %s", method, path, res.StatusCode, wantStatus, excerpt(string(raw)))
		}
		var out map[string]any
		json.Unmarshal(raw, &out)
		return out
	}
	call("POST", "/v1/subjects", map[string]string{"Authorization": "Bearer " + strings.TrimSpace(string(key))}, map[string]any{
		"subject_id": "u-2001", "jurisdiction": "CN", "language": "en",
		"identities": []map[string]any{{"kind": "email", "value": email, "keep": true}},
	}, http.StatusCreated)
	accepted := call("POST", "/v1/public/requests", nil, map[string]any{
		"type": "access", "language": "en", "jurisdiction": "CN",
		"identity": map[string]string{"kind": "email", "value": email},
	}, http.StatusAccepted)
	id, _ := accepted["id"].(string)
	token, _ := accepted["access_token"].(string)
	if id == "" || token == "" {
		t.Fatalf("the public request was accepted without an id and an access token: %v", accepted)
	}

	sess, code, err := waitRelayCode(relay, time.Minute)
	if err != nil {
		t.Fatalf("%v; the server's log:\n%s", err, excerpt(srv.errs.String()))
	}
	wantFrom := "FROM:<" + from[1] + ">"
	switch {
	case !sess.TLS:
		t.Errorf("the code went to the relay in the clear")
	case !strings.HasPrefix(sess.From, wantFrom):
		t.Errorf("MAIL %s, want %s (the sender the block sets)", sess.From, wantFrom)
	case len(sess.Rcpt) != 1 || sess.Rcpt[0] != "TO:<"+email+">":
		t.Errorf("RCPT %v, want TO:<%s>", sess.Rcpt, email)
	}
	if want := "\x00" + user[1] + "\x00" + password; sess.Auth != want {
		t.Errorf("the relay was signed in to as %q, want the user the block sets and the password typed into CUSTOS_SMTP_PASSWORD_FILE", sess.Auth)
	}
	verified := call("POST", "/v1/public/requests/"+id+"/verify", map[string]string{"X-Request-Token": token}, map[string]string{"code": code}, http.StatusOK)
	if state, _ := verified["state"].(string); state == "awaiting_verification" || state == "" {
		t.Errorf("after the code, the request is %q: %v", state, verified)
	}
	status := call("GET", "/v1/public/requests/"+id, map[string]string{"X-Request-Token": token}, nil, http.StatusOK)
	if status["state"] != verified["state"] {
		t.Errorf("the requester sees the request %v, the verification answered %v", status["state"], verified["state"])
	}
	t.Logf("the code reached the relay over STARTTLS and verified request %s (%v)", id, verified["state"])

	if operator != "" {
		b := newBrowser()
		form, err := b.open(base + "/console/")
		if err != nil || form.status != http.StatusOK {
			t.Fatalf("console: %d %v", form.status, err)
		}
		r, err := b.submit(form, "signin-form", url.Values{"username": {operator}, "password": {operatorPassword}})
		if err != nil || r.status != http.StatusSeeOther {
			t.Errorf("%s: the operator the block created cannot sign in to the console: %d %v", file, r.status, err)
		}
	}
}

// waitRelayCode waits for a message at the relay that holds a six-digit
// code, and returns it and the code from its text part.
func waitRelayCode(relay *notifytest.SMTP, timeout time.Duration) (notifytest.Session, string, error) {
	deadline := time.Now().Add(timeout)
	var seen []string
	for {
		sess, ok := relay.Wait(time.Until(deadline))
		if !ok {
			return sess, "", fmt.Errorf("no message with a code reached the relay within %s (messages without one: %v)", timeout, seen)
		}
		h, parts, err := notifytest.ReadMessage(sess.Data)
		if err != nil {
			return sess, "", fmt.Errorf("the relay got a message it cannot read: %v\n%s", err, excerpt(string(sess.Data)))
		}
		for _, p := range parts {
			if m := sixDigits.FindStringSubmatch(p.Body); m != nil && strings.HasPrefix(p.ContentType, "text/plain") {
				return sess, m[1], nil
			}
		}
		seen = append(seen, fmt.Sprintf("%q", h.Get("Subject")))
	}
}
