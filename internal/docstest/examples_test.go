package docstest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sample = "# Title\n" + // 1
	"\n" + // 2
	"```sh\n" + // 3
	"custos serve --demo   # not a call\n" + // 4
	"curl -s -H \"Authorization: Bearer $KEY\" localhost:8080/v1/subjects \\\n" + // 5
	"  -d '{\"subject_id\": \"u-1\",\n" + // 6
	"       \"language\": \"en\"}'\n" + // 7
	"# expect 422\n" + // 8
	"curl -s localhost:8080/v1/check -d '{}'\n" + // 9
	"```\n" + // 10
	"\n" + // 11
	"```json\n" + // 12
	"{\"curl\": true}\n" + // 13
	"```\n" + // 14
	"<!-- docs-test: skip needs SMTP -->\n" + // 15
	"```bash\n" + // 16
	"ID=$(curl -s $HOST/v1/requests -d '{}' | jq -r .id)\n" + // 17
	"```\n" + // 18
	"```sh\n" + // 19
	"go run ./cmd/custos policy render x.yaml\n" + // 20
	"```\n" // 21

// summary is what a test compares of a block.
type summary struct {
	Line  int
	Skip  string
	Calls int
	Steps []stepSummary
}

type stepSummary struct {
	Line   int
	Expect int
	Assign string
	Name   string
}

func summarize(bs []Block) []summary {
	var out []summary
	for _, b := range bs {
		s := summary{Line: b.Line, Skip: b.Skip, Calls: b.Calls()}
		for _, st := range b.Steps {
			ss := stepSummary{Line: st.Line, Expect: st.Expect, Assign: st.Assign}
			if len(st.Pipe) > 0 {
				ss.Name = st.Pipe[0].Name()
			}
			s.Steps = append(s.Steps, ss)
		}
		out = append(out, s)
	}
	return out
}

func TestExtract(t *testing.T) {
	bs, err := Extract("doc.md", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := []summary{
		{Line: 3, Calls: 2, Steps: []stepSummary{{Line: 4, Name: "custos"}, {Line: 5, Name: "curl"}, {Line: 9, Expect: 422, Name: "curl"}}},
		{Line: 16, Skip: "needs SMTP", Calls: 1, Steps: []stepSummary{{Line: 17, Assign: "ID"}}},
	}
	if d := cmp.Diff(want, summarize(bs)); d != "" {
		t.Errorf("blocks (-want +got):\n%s", d)
	}
	for _, b := range bs {
		if b.File != "doc.md" {
			t.Errorf("block at line %d is of %q", b.Line, b.File)
		}
	}
}

func TestExtractErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"skip without a reason", "<!-- docs-test: skip -->\n```sh\ncurl x\n```\n", "doc.md:1: a docs-test marker is"},
		{"unknown marker", "<!-- docs-test: run twice -->\n```sh\ncurl x\n```\n", "doc.md:1: a docs-test marker is"},
		{"skip above prose", "<!-- docs-test: skip why -->\ntext\n```sh\ncurl x\n```\n", "doc.md:1: the skip marker is not followed by a code block"},
		{"skip above a block with no call", "<!-- docs-test: skip why -->\n```sh\nls\n```\n", "doc.md:1: the skip marker is above a block with no curl"},
		{"expect with no call after it", "```sh\ncurl x\n# expect 404\n```\n", "doc.md:3: \"# expect 404\" is not followed"},
		{"unclosed quote", "text\n```sh\ncurl x -d '{\n```\n", "doc.md:3: a ' is not closed"},
		{"unclosed substitution", "```sh\nID=$(curl x\n```\n", "doc.md:2: a command inside $(…) ends before its )"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Extract("doc.md", []byte(tc.doc))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want one starting %q", err, tc.want)
			}
		})
	}
}

// seen is a request as the test server received it.
type seen struct {
	Method, Path, Query, Auth, ContentType, Body string
}

// echo answers every request with 200 and what it received, but /missing
// (404), /teapot (418) and /typo/v1/check (a decision about a purpose the
// policy does not declare).
func echo(t *testing.T) (*httptest.Server, *[]seen) {
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s := seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)}
		got = append(got, s)
		switch r.URL.Path {
		case "/missing":
			w.WriteHeader(404)
		case "/teapot":
			w.WriteHeader(418)
		case "/typo/v1/check":
			w.Write([]byte(`{"decisions":[{"purpose":"analytics","allowed":true,"reason":"consent"},{"purpose":"marketting","allowed":false,"reason":"unknown_purpose"}]}`))
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"id": "rq_1", "items": []any{map[string]string{"name": "a"}, map[string]string{"name": "b"}}, "seen": s})
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func runDoc(t *testing.T, srv *httptest.Server, root, doc string) (*Runner, error) {
	t.Helper()
	bs, err := Extract("doc.md", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Base: srv.URL, Root: root, Vars: map[string]string{"KEY": "cus_test", "HOST": strings.TrimPrefix(srv.URL, "http://")}}
	for _, b := range bs {
		if err := r.Run(t.Context(), b); err != nil {
			return r, err
		}
	}
	return r, nil
}

func TestRunnerCalls(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "m.yaml"), []byte("a: 1\nb: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, got := echo(t)
	doc := "```sh\n" +
		"curl -s -H \"Authorization: Bearer $KEY\" localhost:8080/v1/check -d '{\"subject_id\": \"u-1\"}'\n" +
		"curl -sS -X PUT 127.0.0.1:8080/v1/x --json '{\"a\": 1}'\n" +
		"curl -s -H 'Content-Type: application/yaml' --data-binary @m.yaml \"localhost:8080/v1/policy/versions?effective_at=2030-01-01T00:00:00%2B08:00\"\n" +
		"curl -d @m.yaml $HOST/form\n" +
		"ID=$(curl -s localhost:8080/v1/requests -d '{}' | jq -r .id)\n" +
		"R=$(curl -s -X POST localhost:8080/v1/requests/$ID/approve)\n" +
		"NAME=$(echo \"$R\" | jq -r .items[1].name)\n" +
		"curl -s \"localhost:8080/v1/requests?subject_id=${NAME}\" > out.json\n" +
		"# expect 404\n" +
		"curl -s localhost:8080/missing\n" +
		"```\n"
	r, err := runDoc(t, srv, root, doc)
	if err != nil {
		t.Fatal(err)
	}
	form := "application/x-www-form-urlencoded"
	want := []seen{
		{"POST", "/v1/check", "", "Bearer cus_test", form, `{"subject_id": "u-1"}`},
		{"PUT", "/v1/x", "", "", "application/json", `{"a": 1}`},
		{"POST", "/v1/policy/versions", "effective_at=2030-01-01T00:00:00%2B08:00", "", "application/yaml", "a: 1\nb: 2\n"},
		{"POST", "/form", "", "", form, "a: 1b: 2"}, // -d drops newlines, as curl does
		{"POST", "/v1/requests", "", "", form, "{}"},
		{"POST", "/v1/requests/rq_1/approve", "", "", "", ""},
		{"GET", "/v1/requests", "subject_id=b", "", "", ""},
		{"GET", "/missing", "", "", "", ""},
	}
	if d := cmp.Diff(want, *got); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	if r.Calls != len(want) || r.Vars["ID"] != "rq_1" || r.Vars["NAME"] != "b" {
		t.Errorf("%d calls, vars %v", r.Calls, r.Vars)
	}
}

func TestRunnerFailures(t *testing.T) {
	srv, _ := echo(t)
	for _, tc := range []struct {
		name, block, want string
	}{
		{"an unexpected error status", "curl -s localhost:8080/teapot",
			`doc.md:2: GET /teapot answered 418 (mark an expected error with "# expect 418"): {"id":"rq_1"`},
		{"another status than expected", "# expect 422\ncurl -s localhost:8080/v1/check -d '{}'",
			`doc.md:3: POST /v1/check answered 200, the document expects 422: {"id":"rq_1"`},
		{"an expectation inside $()", "# expect 201\nID=$(curl -s localhost:8080/missing | jq -r .id)",
			"doc.md:3: GET /missing answered 404, the document expects 201"},
		{"a variable not set", "curl -s -H \"Authorization: Bearer $TOKEN\" localhost:8080/x", "doc.md:2: $TOKEN is not set"},
		{"an option the runner does not know", "curl -s -k localhost:8080/x", "doc.md:2: curl option -k is not one the examples can run"},
		{"a long option the runner does not know", "curl --cacert ca.pem localhost:8080/x", "doc.md:2: curl option --cacert is not one"},
		{"another server", "curl -s https://example.com/v1/check", "doc.md:2: URL https://example.com/v1/check is not the documented server"},
		{"a filter the runner does not know", "X=$(curl -s localhost:8080/x | jq -r '.items[] | .name')", `doc.md:2: jq filter ".items[] | .name" is not one`},
		{"a path that leads nowhere", "X=$(curl -s localhost:8080/x | jq -r .nothing)", "doc.md:2: jq .nothing: nothing there"},
		{"a command in a pipe", "curl -s localhost:8080/x | grep id", "doc.md:2: grep is not a command the examples can run"},
		{"no URL", "curl -s -d '{}'", "doc.md:2: curl has no URL"},
		{"a decision about a misspelt purpose", "curl -s localhost:8080/typo/v1/check -d '{}'",
			"doc.md:2: POST /typo/v1/check decided purposes the policy does not declare (unknown_purpose): marketting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runDoc(t, srv, t.TempDir(), "```sh\n"+tc.block+"\n```\n")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v\nwant one starting %s", err, tc.want)
			}
		})
	}
}
