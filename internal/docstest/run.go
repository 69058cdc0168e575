package docstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Runner runs blocks against one server. Variables set by a block stay set
// for the blocks after it, as in a reader's shell.
type Runner struct {
	// Base is the server, http://host:port.
	Base string
	// Root is the directory @file arguments are read from (the repository).
	Root   string
	Vars   map[string]string
	Client *http.Client
	// Calls counts the calls made.
	Calls int
}

// docHosts are the addresses the documents give the server.
var docHosts = []string{"localhost:8080", "127.0.0.1:8080"}

// Run runs the steps of a block in order and stops at the first that
// fails, saying where in the document it is.
func (r *Runner) Run(ctx context.Context, b Block) error {
	for _, st := range b.Steps {
		if err := r.step(ctx, st); err != nil {
			return fmt.Errorf("%s:%d: %w", b.File, st.Line, err)
		}
	}
	return nil
}

func (r *Runner) step(ctx context.Context, st Step) error {
	if st.Assign != "" {
		v, err := r.expand(ctx, st.Value, st.Expect)
		if err != nil {
			return err
		}
		r.Vars[st.Assign] = v
		return nil
	}
	if st.calls() == 0 {
		return nil // not a call: custos serve, go run, export …
	}
	_, err := r.pipeline(ctx, st.Pipe, st.Expect)
	return err
}

// pipeline runs curl | jq, or echo | jq, and returns what it prints.
func (r *Runner) pipeline(ctx context.Context, pipe []Command, expect int) (string, error) {
	var out string
	for i, c := range pipe {
		args, err := r.words(ctx, c.Args)
		if err != nil {
			return "", err
		}
		switch {
		case args[0] == "curl" && i == 0:
			out, err = r.curl(ctx, args[1:], expect)
		case args[0] == "echo" && i == 0:
			out = strings.Join(args[1:], " ")
		case args[0] == "jq" && i > 0:
			out, err = jq(out, args[1:])
		default:
			return "", fmt.Errorf("%s is not a command the examples can run (curl, echo, jq)", args[0])
		}
		if err != nil {
			return "", err
		}
	}
	return out, nil
}

func (r *Runner) words(ctx context.Context, ws []Word) ([]string, error) {
	out := make([]string, len(ws))
	for i, w := range ws {
		s, err := r.expand(ctx, w, 0)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// expand expands a word; a $(…) in it takes expect.
func (r *Runner) expand(ctx context.Context, w Word, expect int) (string, error) {
	var b strings.Builder
	for _, p := range w {
		switch {
		case p.Var != "":
			v, ok := r.Vars[p.Var]
			if !ok {
				return "", fmt.Errorf("$%s is not set", p.Var)
			}
			b.WriteString(v)
		case p.Sub != nil:
			s, err := r.pipeline(ctx, p.Sub, expect)
			if err != nil {
				return "", err
			}
			b.WriteString(strings.TrimRight(s, "\n"))
		default:
			b.WriteString(p.Text)
		}
	}
	return b.String(), nil
}

// curl makes the call curl would make with args, and checks its status.
func (r *Runner) curl(ctx context.Context, args []string, expect int) (string, error) {
	method, target, body := "", "", ""
	var hasBody bool
	header := http.Header{}
	contentType := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		arg := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("curl %s needs a value", a)
			}
			i++
			return args[i], nil
		}
		switch {
		case a == "-X" || a == "--request":
			v, err := arg()
			if err != nil {
				return "", err
			}
			method = v
		case a == "-H" || a == "--header":
			v, err := arg()
			if err != nil {
				return "", err
			}
			k, val, ok := strings.Cut(v, ":")
			if !ok {
				return "", fmt.Errorf("header %q has no colon", v)
			}
			header.Add(strings.TrimSpace(k), strings.TrimSpace(val))
		case a == "-d" || a == "--data" || a == "--data-raw" || a == "--data-binary" || a == "--json":
			v, err := arg()
			if err != nil {
				return "", err
			}
			if strings.HasPrefix(v, "@") && a != "--data-raw" {
				raw, err := os.ReadFile(filepath.Join(r.Root, filepath.FromSlash(v[1:])))
				if err != nil {
					return "", fmt.Errorf("curl %s %s: %w", a, v, err)
				}
				v = string(raw)
				if a == "-d" || a == "--data" {
					v = strings.NewReplacer("\r", "", "\n", "").Replace(v) // as curl does
				}
			}
			if hasBody {
				body += "&"
			}
			body, hasBody = body+v, true
			if contentType == "" {
				contentType = "application/x-www-form-urlencoded"
			}
			if a == "--json" {
				contentType = "application/json"
				header.Set("Accept", "application/json")
			}
		case a == "--url":
			v, err := arg()
			if err != nil {
				return "", err
			}
			target = v
		case a == "-o" || a == "--output" || a == "-w" || a == "--write-out":
			if _, err := arg(); err != nil {
				return "", err
			}
		case a == "--silent" || a == "--show-error" || a == "--fail" || a == "--include" || a == "--location" || a == "--compressed":
		case strings.HasPrefix(a, "-") && len(a) > 1 && !strings.HasPrefix(a, "--"):
			for _, f := range a[1:] {
				if !strings.ContainsRune("sSfiLv", f) {
					return "", fmt.Errorf("curl option -%c is not one the examples can run", f)
				}
			}
		case strings.HasPrefix(a, "-"):
			return "", fmt.Errorf("curl option %s is not one the examples can run", a)
		default:
			if target != "" {
				return "", fmt.Errorf("curl is given two URLs: %s and %s", target, a)
			}
			target = a
		}
	}
	if target == "" {
		return "", fmt.Errorf("curl has no URL")
	}
	if method == "" {
		method = "GET"
		if hasBody {
			method = "POST"
		}
	}
	u, err := r.url(target)
	if err != nil {
		return "", err
	}
	var rd io.Reader
	if hasBody {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return "", err
	}
	req.Header = header
	if contentType != "" && header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	r.Calls++
	call := method + " " + req.URL.RequestURI()
	switch {
	case expect != 0 && res.StatusCode != expect:
		return "", fmt.Errorf("%s answered %d, the document expects %d: %s", call, res.StatusCode, expect, bytes.TrimSpace(out))
	case expect == 0 && res.StatusCode >= 400:
		return "", fmt.Errorf("%s answered %d (mark an expected error with \"# expect %d\"): %s", call, res.StatusCode, res.StatusCode, bytes.TrimSpace(out))
	}
	if names := unknownPurposes(req.URL.Path, out); len(names) > 0 {
		return "", fmt.Errorf("%s decided purposes the policy does not declare (unknown_purpose): %s", call, strings.Join(names, ", "))
	}
	return string(out), nil
}

// unknownPurposes returns the purposes a decision answered unknown_purpose
// for. A decision about a purpose the policy does not declare is an answer
// (200, not allowed), not an error, so the status alone would let a
// misspelt purpose in an example pass.
func unknownPurposes(path string, body []byte) []string {
	if !strings.HasSuffix(path, "/v1/check") {
		return nil
	}
	var a struct {
		Decisions []struct {
			Purpose string `json:"purpose"`
			Reason  string `json:"reason"`
		} `json:"decisions"`
	}
	if json.Unmarshal(body, &a) != nil {
		return nil
	}
	var out []string
	for _, d := range a.Decisions {
		if d.Reason == "unknown_purpose" {
			out = append(out, d.Purpose)
		}
	}
	return out
}

var schemeRE = regexp.MustCompile(`^[a-z][a-z0-9+.-]*://`)

// url points a documented URL at the server.
func (r *Runner) url(target string) (string, error) {
	if !schemeRE.MatchString(target) {
		target = "http://" + target
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", fmt.Errorf("URL %q: %w", target, err)
	}
	base, err := url.Parse(r.Base)
	if err != nil {
		return "", err
	}
	for _, h := range docHosts {
		if u.Host == h {
			u.Host = base.Host
		}
	}
	if u.Host != base.Host {
		return "", fmt.Errorf("URL %s is not the documented server (localhost:8080 or $HOST)", target)
	}
	u.Scheme = base.Scheme
	return u.String(), nil
}

// jq applies the filters the examples use: ., .name, .name[N] chained,
// with -r for raw strings.
func jq(in string, args []string) (string, error) {
	raw, filter := false, ""
	for _, a := range args {
		switch {
		case a == "-r" || a == "--raw-output":
			raw = true
		case strings.HasPrefix(a, "-"):
			return "", fmt.Errorf("jq option %s is not one the examples can run", a)
		case filter == "":
			filter = a
		default:
			return "", fmt.Errorf("jq reads a file the examples do not have: %s", a)
		}
	}
	if filter == "" {
		filter = "."
	}
	if !filterRE.MatchString(filter) {
		return "", fmt.Errorf("jq filter %q is not one the examples can run (., .name, .name[N])", filter)
	}
	var v any
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		return "", fmt.Errorf("jq: the input is not JSON: %.200s", in)
	}
	for _, step := range pathRE.FindAllStringSubmatch(filter, -1) {
		m, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("jq %s: .%s of a non-object", filter, step[1])
		}
		v = m[step[1]]
		if step[2] != "" {
			n, _ := strconv.Atoi(step[2])
			a, ok := v.([]any)
			if !ok || n >= len(a) {
				return "", fmt.Errorf("jq %s: no [%d] in %.200s", filter, n, in)
			}
			v = a[n]
		}
	}
	if s, ok := v.(string); ok && raw {
		return s + "\n", nil
	}
	if v == nil {
		return "", fmt.Errorf("jq %s: nothing there in %.200s", filter, in)
	}
	b, _ := json.Marshal(v)
	return string(b) + "\n", nil
}

var (
	filterRE = regexp.MustCompile(`^\.$|^(\.[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\])?)+$`)
	pathRE   = regexp.MustCompile(`\.([A-Za-z_][A-Za-z0-9_]*)(?:\[([0-9]+)\])?`)
)
