package api_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/api"
)

// openAPIDoc is the document as a client reads it: through JSON.
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	b, err := json.Marshal(api.New(api.Options{}).OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// The document is reviewed as a file: a change to a route, a role or a
// body type shows up in the diff of testdata/openapi.golden.json.
func TestOpenAPIGolden(t *testing.T) {
	// encoding/json writes map keys sorted, so the file is stable.
	got, err := json.MarshalIndent(api.New(api.Options{}).OpenAPI(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "openapi.golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/api -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("OpenAPI document differs from %s (run with -update and review) (-want +got):\n%s", path, d)
	}

	// The server serves the same document.
	e := newEnv(t, slog.LevelWarn, nil)
	w := e.do(t, "GET", "/openapi.json", "", "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", w.Code)
	}
	var served, golden any
	if err := json.Unmarshal(w.Body.Bytes(), &served); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(want, &golden)
	if d := cmp.Diff(golden, served); d != "" {
		t.Errorf("GET /openapi.json differs from the golden file (-want +got):\n%s", d)
	}
}

// The document lists exactly the routes the API registers, each with its
// success status and roles, and every one of them answers.
func TestOpenAPIRoutes(t *testing.T) {
	doc := openAPIDoc(t)
	paths, _ := doc["paths"].(map[string]any)
	var inDoc []string
	for p, item := range paths {
		for m := range item.(map[string]any) {
			inDoc = append(inDoc, strings.ToUpper(m)+" "+p)
		}
	}
	routes := api.RouteTable()
	var inTable []string
	for _, rt := range routes {
		inTable = append(inTable, rt.Method+" "+rt.Path)
	}
	slices.Sort(inDoc)
	slices.Sort(inTable)
	if d := cmp.Diff(inTable, inDoc); d != "" {
		t.Fatalf("(method, path) in the document differ from the route table (-table +document):\n%s", d)
	}
	if len(slices.Compact(slices.Clone(inTable))) != len(inTable) {
		t.Errorf("the route table registers a (method, path) twice: %v", inTable)
	}

	ops := map[string]string{}
	e := newEnv(t, slog.LevelWarn, withShop(t))
	for _, rt := range routes {
		t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
			op := paths[rt.Path].(map[string]any)[strings.ToLower(rt.Method)].(map[string]any)
			id, _ := op["operationId"].(string)
			if prev, dup := ops[id]; dup || id == "" {
				t.Errorf("operationId %q is empty or also used by %s", id, prev)
			}
			ops[id] = rt.Method + " " + rt.Path
			responses, _ := op["responses"].(map[string]any)
			if _, ok := responses[strconv.Itoa(rt.Status)]; !ok {
				t.Errorf("responses %v lack the success status %d", keys(responses), rt.Status)
			}
			if _, ok := responses["default"]; !ok {
				t.Error("responses lack the default error response")
			}
			var roles []string
			if xr, ok := op["x-roles"].([]any); ok {
				for _, r := range xr {
					roles = append(roles, r.(string))
				}
			}
			security, _ := op["security"].([]any)
			if d := cmp.Diff(rt.Roles, roles); d != "" {
				t.Errorf("x-roles (-table +document):\n%s", d)
			}
			if (rt.Roles == nil) != (len(security) == 0) {
				t.Errorf("security %v does not match roles %v", security, rt.Roles)
			}
			for _, seg := range strings.Split(rt.Path, "/") {
				if strings.HasPrefix(seg, "{") && !hasPathParam(op, strings.Trim(seg, "{}")) {
					t.Errorf("path parameter %s is not declared", seg)
				}
			}

			key := ""
			if rt.Roles != nil {
				key = e.keys[rt.Roles[0]]
			}
			w := e.do(t, rt.Method, fillPath(rt.Path), key, bodyFor(rt.Method), nil)
			code := errorOf(w.Body.Bytes()).Error.Code
			switch {
			case w.Code == http.StatusMethodNotAllowed, code == "not_found":
				t.Fatalf("the mux does not route it: %d %s", w.Code, w.Body)
			case w.Code == http.StatusUnauthorized, w.Code == http.StatusForbidden, w.Code >= 500:
				t.Fatalf("an authorised call got %d %s", w.Code, w.Body)
			case rt.Method == http.MethodGet && rt.Roles == nil && !strings.Contains(rt.Path, "{") && w.Code != rt.Status:
				t.Errorf("public GET answered %d, want %d", w.Code, rt.Status)
			}
		})
	}
}

func hasPathParam(op map[string]any, name string) bool {
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		m, _ := p.(map[string]any)
		if m["name"] == name && m["in"] == "path" && m["required"] == true {
			return true
		}
	}
	return false
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Every $ref points at a schema the document defines.
func TestOpenAPIRefs(t *testing.T) {
	doc := openAPIDoc(t)
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	if len(schemas) == 0 {
		t.Fatal("components.schemas is empty")
	}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if k == "$ref" {
					refs = append(refs, c.(string))
					continue
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	if len(refs) < len(api.RouteTable()) {
		t.Fatalf("found %d $refs, fewer than the routes: the walk misses them", len(refs))
	}
	const prefix = "#/components/schemas/"
	for _, ref := range refs {
		name, ok := strings.CutPrefix(ref, prefix)
		if !ok {
			t.Errorf("$ref %q is not under %s", ref, prefix)
			continue
		}
		s, ok := schemas[name].(map[string]any)
		if !ok {
			t.Errorf("$ref %q resolves to nothing", ref)
			continue
		}
		if len(s) == 0 {
			t.Errorf("$ref %q resolves to an empty schema", ref)
		}
	}
	for name, s := range schemas {
		if m, _ := s.(map[string]any); m["type"] == nil {
			t.Errorf("schema %s has no type: %v", name, s)
		}
	}
}

// Publishing the manifest already in force answers 200 with created false
// (a new version is 201); a client built from the document must expect both.
func TestOpenAPIDocumentsRepublish(t *testing.T) {
	doc := openAPIDoc(t)
	op := doc["paths"].(map[string]any)["/v1/policy/versions"].(map[string]any)["post"].(map[string]any)
	responses := op["responses"].(map[string]any)
	for _, status := range []string{"200", "201"} {
		if _, ok := responses[status]; !ok {
			t.Errorf("publishPolicy documents %v, not %s", keys(responses), status)
		}
	}
}

// A subject is subject_id in every body, query and path of the document;
// "id" is left to the other things with ids (requests, keys, events,
// banner categories and purposes). A new "id" property shows up here, to be
// named for what it holds.
func TestOpenAPISubjectID(t *testing.T) {
	doc := openAPIDoc(t)
	var ids, subjectIDs []string
	var walk func(path string, s map[string]any)
	walk = func(path string, s map[string]any) {
		props, _ := s["properties"].(map[string]any)
		for name, p := range props {
			switch name {
			case "id":
				ids = append(ids, path+".id")
			case "subject_id":
				subjectIDs = append(subjectIDs, path+".subject_id")
			}
			ps, _ := p.(map[string]any)
			walk(path+"."+name, ps)
		}
		if items, ok := s["items"].(map[string]any); ok {
			walk(path+"[]", items)
		}
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for name, s := range schemas {
		walk(name, s.(map[string]any))
	}
	for p, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			params, _ := op.(map[string]any)["parameters"].([]any)
			for _, pa := range params {
				m := pa.(map[string]any)
				where := strings.ToUpper(method) + " " + p + " " + m["in"].(string)
				switch {
				case m["name"] == "subject_id":
					subjectIDs = append(subjectIDs, where)
				case m["name"] == "id" && strings.HasPrefix(p, "/v1/subjects"):
					t.Errorf("%s names a subject id: want subject_id", where)
				}
			}
		}
	}
	slices.Sort(ids)
	wantIDs := []string{
		"Accepted.id", "Assistance.id", "AssistanceList.tasks[].id", "BannerConfig.notice.categories[].id", "BannerConfig.notice.categories[].purposes[].id",
		"BannerState.events[].id", "Certificate.id", "ConsentEvents.events[].id", "ConsentPage.items[].id", "CreatedKey.id", "Hold.id", "Holds.holds[].id", "IncidentView.id", "Incidents.incidents[].id", "Key.id",
		"Keys.keys[].id", "Org.id", "OrgInput.id", "Orgs.orgs[].id", "RequestList.requests[].flags.from.id", "RequestList.requests[].flags.routes[].id", "RequestList.requests[].id",
		"RequestView.flags.from.id", "RequestView.flags.routes[].id", "RequestView.id", "RetentionRuns.runs[].id",
		"TransferRegister.flows[].id",
	}
	if d := cmp.Diff(wantIDs, ids); d != "" {
		t.Errorf(`properties named "id" (-want +got); a subject's id is subject_id:\n%s`, d)
	}
	for _, want := range []string{"Subject.subject_id", "SubjectInput.subject_id", "CheckInput.subject_id", "CheckResult.subject_id",
		"RequestInput.subject_id", "RequestView.subject_id", "GET /v1/requests query", "GET /v1/subjects/{subject_id} path"} {
		if !slices.Contains(subjectIDs, want) {
			t.Errorf("%s is not named subject_id; have %v", want, subjectIDs)
		}
	}
}

// TestOpenAPIParameters: every query parameter, header and path value a
// route's handler reads, itself or through the functions of this package
// it calls, is declared on its operation, and every declared one is read.
// The download route's token was once read and not declared.
func TestOpenAPIParameters(t *testing.T) {
	reads := handlerReads(t)
	// Headers a browser or an HTTP cache sends by itself, which callers
	// need not be told of.
	protocol := map[string]bool{"header Origin": true, "header If-None-Match": true}
	paths := openAPIDoc(t)["paths"].(map[string]any)
	seen := map[string]bool{}
	for _, rt := range api.RouteTable() {
		t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
			got, ok := reads(rt.Handler)
			if !ok {
				t.Fatalf("handler %q is not a function of the package", rt.Handler)
			}
			op := paths[rt.Path].(map[string]any)[strings.ToLower(rt.Method)].(map[string]any)
			var declared []string
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				m := p.(map[string]any)
				declared = append(declared, param(m["in"].(string), m["name"].(string)))
			}
			for _, r := range got {
				seen[r] = true
				if !protocol[r] && !slices.Contains(declared, r) {
					t.Errorf("the handler reads %s; the document does not declare it", r)
				}
			}
			for _, d := range declared {
				if !slices.Contains(got, d) {
					t.Errorf("the document declares %s; the handler does not read it", d)
				}
			}
		})
	}
	// The analysis itself: it must see what the handlers are known to read.
	for _, want := range []string{"query token", "header X-Request-Token", "query state", "query cursor", "header Sec-Gpc", "path subject_id"} {
		if !seen[want] {
			t.Errorf("no handler was found to read %s: the source analysis is broken", want)
		}
	}
}

// param names a parameter as TestOpenAPIParameters compares them.
func param(in, name string) string {
	if in == "header" {
		name = http.CanonicalHeaderKey(name)
	}
	return in + " " + name
}

// handlerReads parses the package's source and returns, for a function
// of it, the parameters it reads ("query token", "header X-Request-Token",
// "path id") itself or through the package's functions it calls. It sees
// r.URL.Query().Get("x") (also through a variable holding the query),
// r.Header.Get("X"), r.PathValue("x"), and consent.RequestSignals, which
// reads Sec-GPC and DNT.
func handlerReads(t *testing.T) func(name string) ([]string, bool) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	type fn struct {
		reads []string
		calls []string
	}
	funcs := map[string]*fn{}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		imported := map[string]bool{}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			name := p[strings.LastIndex(p, "/")+1:]
			if im.Name != nil {
				name = im.Name.Name
			}
			imported[name] = true
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			cur := &fn{}
			funcs[fd.Name.Name] = cur
			queries := map[string]bool{} // variables holding r.URL.Query()
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.AssignStmt:
					for i, rhs := range n.Rhs {
						if id, ok := n.Lhs[min(i, len(n.Lhs)-1)].(*ast.Ident); ok && callee(rhs) == "Query" {
							queries[id.Name] = true
						}
					}
				case *ast.CallExpr:
					lit := ""
					if len(n.Args) > 0 {
						if b, ok := n.Args[0].(*ast.BasicLit); ok && b.Kind == token.STRING {
							lit, _ = strconv.Unquote(b.Value)
						}
					}
					sel, _ := n.Fun.(*ast.SelectorExpr)
					switch name := callee(n); {
					case name == "Get" && lit != "":
						switch x := sel.X.(type) {
						case *ast.CallExpr:
							if callee(x) == "Query" {
								cur.reads = append(cur.reads, param("query", lit))
							}
						case *ast.Ident:
							if queries[x.Name] {
								cur.reads = append(cur.reads, param("query", lit))
							}
						case *ast.SelectorExpr:
							if x.Sel.Name == "Header" {
								cur.reads = append(cur.reads, param("header", lit))
							}
						}
					case name == "PathValue" && lit != "":
						cur.reads = append(cur.reads, param("path", lit))
					case name == "RequestSignals":
						cur.reads = append(cur.reads, param("header", "Sec-GPC"), param("header", "DNT"))
					case sel != nil:
						if x, ok := sel.X.(*ast.Ident); ok && imported[x.Name] {
							break // another package's function
						}
						cur.calls = append(cur.calls, name)
					case name != "":
						cur.calls = append(cur.calls, name)
					}
				}
				return true
			})
		}
	}
	return func(name string) ([]string, bool) {
		if funcs[name] == nil {
			return nil, false
		}
		var out []string
		visited := map[string]bool{}
		var walk func(string)
		walk = func(name string) {
			f := funcs[name]
			if f == nil || visited[name] {
				return
			}
			visited[name] = true
			for _, r := range f.reads {
				if !slices.Contains(out, r) {
					out = append(out, r)
				}
			}
			for _, c := range f.calls {
				walk(c)
			}
		}
		walk(name)
		slices.Sort(out)
		return out, true
	}
}

// callee is the name of the function a call expression calls: f(…) or x.f(…).
func callee(e ast.Expr) string {
	c, ok := e.(*ast.CallExpr)
	if !ok {
		return ""
	}
	switch f := c.Fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	case *ast.IndexExpr: // a generic function: actWith[T](…)
		if id, ok := f.X.(*ast.Ident); ok {
			return id.Name
		}
	}
	return ""
}
