package api_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/notify"
)

// codeSent runs the dispatcher, once the codes queued so far are in the
// outbox, and returns the last one-time code written to the development
// outbox.
func codeSent(t *testing.T, e *env, dir, _ string) string {
	t.Helper()
	e.srv.Requests().Drain()
	if _, _, err := e.srv.Dispatcher().RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, notify.FileName))
	if err != nil {
		t.Fatalf("outbox file: %v", err)
	}
	defer f.Close()
	code := ""
	re := regexp.MustCompile(`\b(\d{6})\b`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l notify.FileLine
		json.Unmarshal(sc.Bytes(), &l)
		if m := re.FindStringSubmatch(l.Text); m != nil && strings.Contains(strings.ToLower(l.Subject), "code") {
			code = m[1]
		}
	}
	return code
}

// TestAccessRequestEndToEnd: a member of the public asks for their data,
// proves who they are with a code sent to the email on file, an operator
// approves and completes, and the export bundle holds their data.
func TestAccessRequestEndToEnd(t *testing.T) {
	dir := ""
	e := newEnv(t, slog.LevelDebug, func(c *config.Config) { dir = filepath.Join(filepath.Dir(c.DB), "outbox"); c.NotifyDir = dir })
	body := `{"type":"access","language":"en","identity":{"kind":"email","value":"Lin.Wei@example.com"}}`
	w := e.do(t, "POST", "/v1/public/requests", "", body, nil)
	if w.Code != 202 {
		t.Fatalf("submit: %d %s", w.Code, w.Body)
	}
	var acc struct {
		ID, State, Message string
		Token              string `json:"access_token"`
	}
	json.Unmarshal(w.Body.Bytes(), &acc)
	// Following or withdrawing a request takes its access token; without it
	// the request is as unknown as one that does not exist.
	for name, h := range map[string]map[string]string{"no token": nil, "wrong token": {"X-Request-Token": "x" + acc.Token}} {
		if w := e.do(t, "GET", "/v1/public/requests/"+acc.ID, "", "", h); w.Code != 404 {
			t.Errorf("status with %s: %d", name, w.Code)
		}
		if w := e.do(t, "POST", "/v1/public/requests/"+acc.ID+"/withdraw", "", "", h); w.Code != 404 {
			t.Errorf("withdraw with %s: %d", name, w.Code)
		}
	}
	if w := e.do(t, "GET", "/v1/public/requests/"+acc.ID, "", "", map[string]string{"X-Request-Token": acc.Token}); w.Code != 200 {
		t.Errorf("status with the token: %d %s", w.Code, w.Body)
	}
	// An identity that is not on file gets the same answer, word for word.
	w2 := e.do(t, "POST", "/v1/public/requests", "", `{"type":"access","language":"en","identity":{"kind":"email","value":"nobody@example.com"}}`, nil)
	var acc2 struct {
		ID, State, Message string
		Token              string `json:"access_token"`
	}
	json.Unmarshal(w2.Body.Bytes(), &acc2)
	if w2.Code != 202 || acc2.Message != acc.Message || acc2.State != acc.State {
		t.Errorf("unknown identity answered differently: %d %s", w2.Code, w2.Body)
	}
	if m := e.do(t, "GET", "/metrics", "", "", nil).Body.String(); !strings.Contains(m, `custos_requests_open{state="awaiting_verification"} 2`) || !strings.Contains(m, `custos_requests_due{window="later"} 2`) {
		t.Errorf("metrics do not count the two open requests:\n%s", grepLines(m, "custos_requests"))
	}
	code := codeSent(t, e, dir, acc.ID)
	if code == "" {
		t.Fatal("no code was sent to the email on file")
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	// Verifying takes the access token too. Without it the request is
	// unknown and no attempt is counted: someone who learnt only the id
	// cannot use up the attempts and so cancel the request, however often
	// they try, even with the right code.
	for i := range 8 {
		for name, h := range map[string]map[string]string{"no token": nil, "wrong token": {"X-Request-Token": "x" + acc.Token}, "another request's token": {"X-Request-Token": acc2.Token}} {
			c := wrong
			if i == 0 {
				c = code
			}
			w := e.do(t, "POST", "/v1/public/requests/"+acc.ID+"/verify", "", `{"code":"`+c+`"}`, h)
			if w.Code != 404 || errorOf(w.Body.Bytes()).Error.Code != "request_not_found" {
				t.Fatalf("verify with %s: %d %s, want 404 request_not_found", name, w.Code, w.Body)
			}
		}
	}
	token := func(tok string) map[string]string { return map[string]string{"X-Request-Token": tok} }
	if w := e.do(t, "POST", "/v1/public/requests/"+acc.ID+"/verify", "", `{"code":"`+wrong+`"}`, token(acc.Token)); w.Code != 422 {
		t.Errorf("wrong code: %d %s", w.Code, w.Body)
	}
	if w := e.do(t, "POST", "/v1/public/requests/"+acc2.ID+"/verify", "", `{"code":"`+code+`"}`, token(acc2.Token)); w.Code != 422 {
		t.Errorf("a code on a request for an unknown identity: %d %s", w.Code, w.Body)
	}
	w = e.do(t, "POST", "/v1/public/requests/"+acc.ID+"/verify?token="+acc.Token, "", `{"code":"`+code+`"}`, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"state":"verified"`) {
		t.Fatalf("verify: %d %s", w.Code, w.Body)
	}
	op := e.keys[api.RoleOperator]
	if w := e.do(t, "POST", "/v1/requests/"+acc.ID+"/approve", op, "", nil); w.Code != 200 {
		t.Fatalf("approve: %d %s", w.Code, w.Body)
	}
	w = e.do(t, "POST", "/v1/requests/"+acc.ID+"/complete", op, `{}`, nil)
	if w.Code != 200 {
		t.Fatalf("complete: %d %s", w.Code, w.Body)
	}
	var done struct{ State, Download string }
	json.Unmarshal(w.Body.Bytes(), &done)
	if done.State != "completed" || done.Download == "" {
		t.Fatalf("complete = %s", w.Body)
	}
	w = e.do(t, "GET", done.Download, "", "", nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s", w.Code, w.Body)
	}
	zr, err := zip.NewReader(bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	for _, name := range []string{"data.json", "consents.csv", "report.html"} {
		if files[name] == "" {
			t.Errorf("bundle lacks %s", name)
		}
	}
	if !strings.Contains(files["data.json"], "lin.wei@example.com") || !strings.Contains(files["data.json"], `"processing"`) {
		t.Errorf("data.json lacks the subject's data or the processing explanation")
	}
	if w := e.do(t, "GET", "/v1/public/requests/"+acc.ID+"/bundle?token=wrong", "", "", nil); w.Code != 404 {
		t.Errorf("download with a wrong token: %d", w.Code)
	}
	for _, b := range e.bodies {
		if strings.Contains(b, "lin.wei@example.com") && !strings.HasPrefix(b, "PK") {
			t.Errorf("a JSON response carries the email: %.200s", b)
		}
	}
	if strings.Contains(e.log.String(), "lin.wei") || strings.Contains(e.log.String(), code) {
		t.Error("the log carries the email or the code")
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// The public intake takes only what the public may give. The fields of an
// operator's request (the subject, how they were verified, who asks for
// them) are refused like any unknown field, naming it and the fields the
// route takes, rather than dropped without a word.
func TestPublicIntakeRefusesUnknownFields(t *testing.T) {
	e := newEnv(t, slog.LevelDebug, func(c *config.Config) { c.NotifyDir = filepath.Join(filepath.Dir(c.DB), "outbox") })
	const base = `"type":"access","language":"en","identity":{"kind":"email","value":"nobody@example.com"}`
	public := []string{"type", "jurisdiction", "language", "identity", "details", "via"}
	for _, tc := range []struct {
		field, value string
	}{
		{"subject_id", `"demo-1001"`},
		{"verification", `"operator"`},
		{"evidence", `"ticket 7"`},
		{"requester_id", `"demo-1002"`},
		{"priority", `"high"`},
	} {
		t.Run(tc.field, func(t *testing.T) {
			w := e.do(t, "POST", "/v1/public/requests", "", `{`+base+`,"`+tc.field+`":`+tc.value+`}`, nil)
			var want api.ErrorBody
			want.Error.Code, want.Error.Field, want.Error.Allowed = "unknown_field", tc.field, public
			want.Error.Message = `unknown field "` + tc.field + `" in the request body: want one of ` + strings.Join(public, ", ")
			if w.Code != 400 {
				t.Fatalf("status %d, want 400; body %s", w.Code, w.Body)
			}
			if d := cmp.Diff(want, errorOf(w.Body.Bytes())); d != "" {
				t.Errorf("error (-want +got):\n%s", d)
			}
		})
	}
	if w := e.do(t, "POST", "/v1/public/requests", "", `{`+base+`}`, nil); w.Code != 202 {
		t.Errorf("the same request without the field: %d %s", w.Code, w.Body)
	}
}

// Every 429 says when to try again, in seconds: the intake's limit per
// claimed identity and the cancellation after too many wrong codes alike.
func TestTooManyRequestsSayWhenToRetry(t *testing.T) {
	e := newEnv(t, slog.LevelDebug, func(c *config.Config) { c.NotifyDir = filepath.Join(filepath.Dir(c.DB), "outbox") })
	body := `{"type":"access","language":"en","identity":{"kind":"email","value":"nobody@example.com"}}`
	var first struct {
		ID    string
		Token string `json:"access_token"`
	}
	var limited *httptest.ResponseRecorder
	for i := range 10 {
		w := e.do(t, "POST", "/v1/public/requests", "", body, nil)
		if i == 0 {
			json.Unmarshal(w.Body.Bytes(), &first)
		}
		if w.Code == http.StatusTooManyRequests {
			limited = w
			break
		}
		if w.Code != 202 {
			t.Fatalf("submission %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	if limited == nil {
		t.Fatal("ten submissions for one identity within the hour were all accepted")
	}
	wantRetryAfter(t, "the intake's limit", limited)

	var cancelled *httptest.ResponseRecorder
	for range 10 {
		w := e.do(t, "POST", "/v1/public/requests/"+first.ID+"/verify", "", `{"code":"000000"}`, map[string]string{"X-Request-Token": first.Token})
		if w.Code == http.StatusTooManyRequests {
			cancelled = w
			break
		}
	}
	if cancelled == nil || errorOf(cancelled.Body.Bytes()).Error.Code != "too_many_attempts" {
		t.Fatal("ten wrong codes did not end in too_many_attempts")
	}
	wantRetryAfter(t, "too many wrong codes", cancelled)
}

func wantRetryAfter(t *testing.T, what string, w *httptest.ResponseRecorder) {
	t.Helper()
	ra := w.Header().Get("Retry-After")
	if n, err := strconv.Atoi(ra); err != nil || n <= 0 {
		t.Errorf("%s: 429 with Retry-After %q, want a number of seconds; body %s", what, ra, w.Body)
	}
}
