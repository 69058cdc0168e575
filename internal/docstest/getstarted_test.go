//go:build linux

package docstest

import (
	"bufio"
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
)

// TestReadmeGetStarted follows README.md's "Get started" as a newcomer does
// on a fresh clone: the demo server in one shell, the browser at the
// addresses the block names, then every other command of the block in a
// second shell in the same directory, literally, through sh and the real
// curl. The one liberty is the port: the demo listens on a free one (set as
// CUSTOS_ADDR in the first shell's environment) and localhost:8080 becomes
// localhost:PORT in the commands and addresses, so that tests running at
// once do not collide. `go` is a stand-in first on PATH: `go run
// ./cmd/custos ARGS` runs the binary built from this tree, and `go test
// ./...` is only written down, since running the suite from inside itself
// would never end.
//
// It checks what the README says of each step: the addresses answer 200
// (after redirects), the console takes the credentials given, each identity
// of the sign-in table gets its code in the outbox file named and signs in
// as the subject the table gives, the decisions are the ones the comments
// claim, and the policy is written as an HTML page. A step that fails is
// named as README.md:LINE.
func TestReadmeGetStarted(t *testing.T) {
	requireTools(t, "sh", "curl")
	bin := custosBinary(t)
	root := repoRoot(t)
	const file = "README.md"
	src, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := Scripts(file, src, "Get started")
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) == 0 {
		t.Fatalf("%s: no shell block under \"Get started\"", file)
	}
	script := scripts[0]
	cmds := script.Commands()
	serveAt := -1
	for i, c := range cmds {
		if strings.Contains(c.Text, " serve") {
			if serveAt >= 0 {
				t.Fatalf("%s:%d: a second server command; the test runs one", file, c.Line)
			}
			serveAt = i
		}
	}
	if serveAt != 0 {
		t.Fatalf("%s:%d: the block's first command is not the demo server the others talk to", file, script.Line)
	}

	// The clone: what the commands read (the examples), nothing they write.
	clone := t.TempDir()
	if err := os.CopyFS(filepath.Join(clone, "examples"), os.DirFS(filepath.Join(root, "examples"))); err != nil {
		t.Fatal(err)
	}
	shims := t.TempDir()
	goLog := filepath.Join(shims, "go.log")
	writeGoShim(t, shims, bin, goLog)
	env := []string{
		"PATH=" + shims + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"TMPDIR=" + t.TempDir(),
		"LANG=C.UTF-8",
	}

	// The first shell: the demo server, until the test ends.
	var srv *background
	var port string
	for attempt := 1; ; attempt++ {
		port = freePort(t)
		first := newShell(t, clone, append(env, "CUSTOS_ADDR=127.0.0.1:"+port))
		srv = first.start(t, cmds[0].Text)
		err := srv.waitFor(2*time.Minute, "custos listening on http://", "export KEY=")
		if err == nil {
			break
		}
		if attempt < 3 && strings.Contains(srv.errs.String(), "address already in use") {
			srv.stop(t)
			continue // another process took the port in between
		}
		t.Fatalf("%s:%d: %s: %v\nstdout:\n%s\nstderr:\n%s", file, cmds[0].Line, cmds[0].Text, err, excerpt(srv.out.String()), excerpt(srv.errs.String()))
	}
	subst := [][2]string{{"localhost:8080", "localhost:" + port}, {"127.0.0.1:8080", "127.0.0.1:" + port}}
	banner := srv.out.String()
	adminKey, err := os.ReadFile(filepath.Join(clone, ".custos-demo", "admin.key"))
	if err != nil {
		t.Fatalf("%s:%d: the demo left no admin key where the block reads it: %v", file, cmds[0].Line, err)
	}
	if want := "export KEY=" + strings.TrimSpace(string(adminKey)); !strings.Contains(banner, want) {
		t.Errorf("%s:%d: the banner does not print the admin key of .custos-demo/admin.key (%s):\n%s", file, cmds[0].Line, want, banner)
	}

	// The addresses the comments name, in a browser.
	urls := documentedURLs(script)
	if len(urls) < 3 {
		t.Fatalf("%s:%d: the block names %d addresses; the test expects the privacy center, the shop page and the console", file, script.Line, len(urls))
	}
	for _, u := range urls {
		target := replaceAll(u.url, subst)
		p, err := newBrowser().open(target)
		switch {
		case err != nil:
			t.Errorf("%s:%d: GET %s: %v", file, u.line, target, err)
		case p.status != http.StatusOK:
			t.Errorf("%s:%d: GET %s answered %d (at %s)", file, u.line, target, p.status, p.url)
		}
		if path := strings.TrimPrefix(target, "http://localhost:"+port); !strings.Contains(banner, ":"+port+path) {
			t.Errorf("%s:%d: the demo's banner does not name %s:\n%s", file, u.line, path, banner)
		}
	}

	t.Run("console sign-in", func(t *testing.T) {
		consoleSignIn(t, file, urls, subst)
	})
	t.Run("privacy center sign-in", func(t *testing.T) {
		centerSignIn(t, file, src, script, clone, urls, subst, banner)
	})

	// The second shell: every other command, in order, in the same directory.
	second := newShell(t, clone, env)
	outputs := map[int]string{}
	for _, c := range cmds[1:] {
		line := replaceAll(c.Text, subst)
		stdout, stderr, err := second.run(t.Context(), line, "", 2*time.Minute)
		if err != nil {
			t.Fatalf("%s:%d: %s: %s\nstdout:\n%s\nstderr:\n%s", file, c.Line, c.Text, exitStatus(err), excerpt(stdout), excerpt(stderr))
		}
		outputs[c.Line] = stdout
		t.Logf("%s:%d: %s", file, c.Line, firstLine(c.Text))
	}
	checkDecisions(t, file, script, cmds[1:], outputs)
	checkRendered(t, file, cmds[1:], clone)

	logged, _ := os.ReadFile(goLog)
	for _, c := range cmds[1:] {
		if strings.HasPrefix(c.Text, "go test") && !strings.Contains(string(logged), strings.Fields(c.Text)[0]+" "+strings.Fields(c.Text)[1]) {
			t.Errorf("%s:%d: %s did not reach the go stand-in", file, c.Line, c.Text)
		}
	}
	if len(logged) > 0 {
		t.Logf("not run, since this test is part of it: %s", strings.TrimSpace(string(logged)))
	}
	if srv.exited() {
		t.Errorf("%s:%d: the demo server ended while the block ran:\n%s", file, cmds[0].Line, excerpt(srv.errs.String()))
	}
}

// writeGoShim writes the `go` a reader's shell would find, standing in for
// the two uses the block makes of it.
func writeGoShim(t *testing.T, dir, bin, log string) {
	t.Helper()
	shim := fmt.Sprintf(`#!/bin/sh
# go, as README.md's "Get started" uses it: go run ./cmd/custos runs the
# binary the test built from this tree; go test ./... is written down and not
# run, because the test running this is part of that suite.
case "$1 $2" in
"run ./cmd/custos") shift 2; exec %s "$@" ;;
"test ./...") echo "go $*" >> %s; exit 0 ;;
esac
echo "go $*: not a use of go this test stands in for" >&2
exit 127
`, shellQuote(bin), shellQuote(log))
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// documentedURL is an address a comment of the block tells the reader to open.
type documentedURL struct {
	line int
	url  string
	text string // the comment line
}

var docURLRE = regexp.MustCompile(`https?://(?:localhost|127\.0\.0\.1):8080/[^\s,;)]*`)

func documentedURLs(s Script) []documentedURL {
	var out []documentedURL
	for _, l := range s.Lines {
		if !l.Comment {
			continue
		}
		for _, u := range docURLRE.FindAllString(l.Text, -1) {
			out = append(out, documentedURL{line: l.Line, url: u, text: l.Text})
		}
	}
	return out
}

var credentialsRE = regexp.MustCompile(`sign in as (\S+) / ([^\s)]+)`)

// consoleSignIn signs in to the console with the credentials the comment
// beside its address gives, through its sign-in form.
func consoleSignIn(t *testing.T, file string, urls []documentedURL, subst [][2]string) {
	var console *documentedURL
	for i, u := range urls {
		if strings.Contains(u.url, "/console/") {
			console = &urls[i]
		}
	}
	if console == nil {
		t.Fatalf("%s: the block names no console address", file)
	}
	m := credentialsRE.FindStringSubmatch(console.text)
	if m == nil {
		t.Fatalf("%s:%d: no \"sign in as USER / PASSWORD\" beside the console's address", file, console.line)
	}
	b := newBrowser()
	form, err := b.open(replaceAll(console.url, subst))
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.submit(form, "signin-form", url.Values{"username": {m[1]}, "password": {m[2]}})
	if err != nil {
		t.Fatalf("%s:%d: %v", file, console.line, err)
	}
	if r.status != http.StatusSeeOther {
		t.Fatalf("%s:%d: signing in as %s / %s answered %d, want 303", file, console.line, m[1], m[2], r.status)
	}
	home, err := b.open(mustResolve(t, r.url, r.location))
	if err != nil || home.status != http.StatusOK || !strings.Contains(home.body, `id="signout"`) {
		t.Fatalf("%s:%d: after signing in as %s, %s answered %d without a sign-out button (%v)", file, console.line, m[1], home.url, home.status, err)
	}
}

func mustResolve(t *testing.T, base, ref string) string {
	t.Helper()
	b, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u, err := b.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// signinIdentity is a row of the README's table of people to sign in as.
type signinIdentity struct {
	line    int
	value   string
	subject string
}

var (
	outboxRE   = regexp.MustCompile("written to\\s+`([^`]+)`")
	backtickRE = regexp.MustCompile("`([^`]+)`")
	sixDigits  = regexp.MustCompile(`\b(\d{6})\b`)
)

// signinTable reads the table of identities after the block and the file
// the paragraph above it says the codes are written to.
func signinTable(t *testing.T, file string, src []byte, after int) (string, []signinIdentity) {
	lines := strings.Split(string(src), "\n")
	var outbox string
	var ids []signinIdentity
	inTable := false
	for i := after; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if outbox == "" {
			// the paragraph's lines, joined as they render
			if m := outboxRE.FindStringSubmatch(strings.Join(lines[max(after, i-2):i+1], " ")); m != nil {
				outbox = m[1]
			}
		}
		if strings.HasPrefix(line, "| sign in with") {
			inTable = true
			continue
		}
		if inTable {
			if !strings.HasPrefix(line, "|") {
				break
			}
			cells := strings.Split(strings.Trim(line, "|"), "|")
			if len(cells) < 2 || strings.Trim(cells[0], " -") == "" {
				continue
			}
			subject := backtickRE.FindStringSubmatch(cells[1])
			if subject == nil {
				t.Fatalf("%s:%d: the row names no subject in `…`", file, i+1)
			}
			for _, v := range backtickRE.FindAllStringSubmatch(cells[0], -1) {
				ids = append(ids, signinIdentity{line: i + 1, value: v[1], subject: subject[1]})
			}
		}
	}
	if outbox == "" || len(ids) == 0 {
		t.Fatalf("%s: after line %d, no table of identities to sign in with (| sign in with | subject |) below a paragraph saying where the codes are written to", file, after)
	}
	return outbox, ids
}

// centerSignIn signs in to the privacy center as each identity of the
// table: the code must land in the outbox file the README names and take
// the browser to the subject the table gives.
func centerSignIn(t *testing.T, file string, src []byte, script Script, clone string, urls []documentedURL, subst [][2]string, banner string) {
	var center *documentedURL
	for i, u := range urls {
		if strings.Contains(u.url, "/privacy/") {
			center = &urls[i]
		}
	}
	if center == nil {
		t.Fatalf("%s: the block names no privacy center address", file)
	}
	last := script.Lines[len(script.Lines)-1].Line
	outbox, ids := signinTable(t, file, src, last)
	for _, id := range ids {
		if !strings.Contains(banner, id.value) {
			t.Errorf("%s:%d: the demo's banner does not offer %s to sign in with", file, id.line, id.value)
		}
		t.Run(id.value, func(t *testing.T) {
			kind := "email"
			if !strings.Contains(id.value, "@") {
				kind = "phone"
			}
			b := newBrowser()
			form, err := b.open(replaceAll(center.url, subst) + "signin?lang=en")
			if err != nil || form.status != http.StatusOK {
				t.Fatalf("sign-in page: %d %v", form.status, err)
			}
			offset := fileSize(filepath.Join(clone, outbox))
			r, err := b.submit(form, "signin-form", url.Values{"kind": {kind}, "identity": {id.value}, "next": {"/privacy/consents"}})
			if err != nil || r.status != http.StatusSeeOther {
				t.Fatalf("%s:%d: signing in with %s answered %d (%v):\n%s", file, id.line, id.value, r.status, err, excerpt(r.body))
			}
			code, err := waitCode(filepath.Join(clone, outbox), offset, id.value, time.Minute)
			if err != nil {
				t.Fatalf("%s:%d: %s: %v", file, id.line, outbox, err)
			}
			codeForm, err := b.open(mustResolve(t, r.url, r.location))
			if err != nil || codeForm.status != http.StatusOK {
				t.Fatalf("code page: %d %v", codeForm.status, err)
			}
			r, err = b.submit(codeForm, "code-form", url.Values{"code": {code}})
			if err != nil || r.status != http.StatusSeeOther {
				t.Fatalf("%s:%d: the code from %s did not sign in: %d (%v):\n%s", file, id.line, outbox, r.status, err, excerpt(r.body))
			}
			consents, err := b.open(mustResolve(t, r.url, r.location))
			if err != nil || consents.status != http.StatusOK {
				t.Fatalf("after sign-in: %d %v", consents.status, err)
			}
			if want := `data-subject="` + id.subject + `"`; !strings.Contains(consents.body, want) {
				t.Errorf("%s:%d: signed in with %s, %s does not show %s", file, id.line, id.value, consents.url, id.subject)
			}
		})
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// waitCode waits for a line of the outbox file, written after offset, to
// the identity (a phone number as the table writes it matches its
// international form) that holds a six-digit code, and returns the code of
// the newest.
func waitCode(path string, offset int64, identity string, timeout time.Duration) (string, error) {
	digits := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
	}
	matches := func(to string) bool {
		if strings.Contains(identity, "@") {
			return strings.EqualFold(to, identity)
		}
		return digits(to) != "" && strings.HasSuffix(digits(to), digits(identity))
	}
	deadline := time.Now().Add(timeout)
	for {
		f, err := os.Open(path)
		if err == nil {
			code := ""
			f.Seek(offset, io.SeekStart)
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				var l struct{ To, Text string }
				if json.Unmarshal(sc.Bytes(), &l) != nil || !matches(l.To) {
					continue
				}
				if m := sixDigits.FindStringSubmatch(l.Text); m != nil {
					code = m[1]
				}
			}
			f.Close()
			if code != "" {
				return code, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no message with a code to the identity within %s (%v)", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// decisionClaims are what the block's comments say the two decisions
// answer; the comments must still say so.
var decisionClaims = []struct {
	subject, purpose string
	allowed          bool
	reason           string // "" when any reason will do
	said             string // what the comments say of it
}{
	{"demo-1002", "analytics", true, "", "demo-1002 accepted version 3.1 and consented again"},
	{"demo-1001", "analytics", false, "reconsent_required", "(analytics answers reconsent_required)"},
}

// checkDecisions checks that the curl calls answered without an error and
// that the decisions are the ones the comments claim.
func checkDecisions(t *testing.T, file string, script Script, cmds []ScriptLine, outputs map[int]string) {
	comments := script.Comments()
	type decision struct {
		Purpose string `json:"purpose"`
		Allowed bool   `json:"allowed"`
		Reason  string `json:"reason"`
	}
	answers := map[string]map[string]decision{}
	where := map[string]int{}
	for _, c := range cmds {
		if !strings.HasPrefix(c.Text, "curl ") {
			continue
		}
		var a struct {
			SubjectID string          `json:"subject_id"`
			Decisions []decision      `json:"decisions"`
			Error     json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal([]byte(outputs[c.Line]), &a); err != nil || a.Error != nil {
			t.Errorf("%s:%d: the call answered %q", file, c.Line, excerpt(outputs[c.Line]))
			continue
		}
		answers[a.SubjectID] = map[string]decision{}
		where[a.SubjectID] = c.Line
		for _, d := range a.Decisions {
			answers[a.SubjectID][d.Purpose] = d
		}
	}
	for _, cl := range decisionClaims {
		if !strings.Contains(comments, cl.said) {
			t.Errorf("%s:%d: the comments no longer say %q; change the test with them", file, script.Line, cl.said)
			continue
		}
		d, ok := answers[cl.subject][cl.purpose]
		switch {
		case !ok:
			t.Errorf("%s:%d: no call of the block decides %s for %s", file, script.Line, cl.purpose, cl.subject)
		case d.Allowed != cl.allowed || cl.reason != "" && d.Reason != cl.reason:
			t.Errorf("%s:%d: %s for %s answered allowed=%v (%s); the comment says %q", file, where[cl.subject], cl.purpose, cl.subject, d.Allowed, d.Reason, cl.said)
		}
	}
}

var outputFlagRE = regexp.MustCompile(`policy render .* -o (\S+)`)

// checkRendered checks that the policy render command wrote an HTML page
// where it says.
func checkRendered(t *testing.T, file string, cmds []ScriptLine, clone string) {
	found := false
	for _, c := range cmds {
		m := outputFlagRE.FindStringSubmatch(c.Text)
		if m == nil {
			continue
		}
		found = true
		b, err := os.ReadFile(filepath.Join(clone, m[1]))
		if err != nil {
			t.Errorf("%s:%d: %v", file, c.Line, err)
			continue
		}
		lower := bytes.ToLower(b)
		if !bytes.HasPrefix(lower, []byte("<!doctype html>")) || !bytes.Contains(lower, []byte("</html>")) || !bytes.Contains(b, []byte(`<html lang="en"`)) {
			t.Errorf("%s:%d: %s is not an English HTML page: %q…", file, c.Line, m[1], excerpt(string(b[:min(len(b), 200)])))
		}
	}
	if !found {
		t.Errorf("%s: no policy render … -o FILE in the block", file)
	}
}
