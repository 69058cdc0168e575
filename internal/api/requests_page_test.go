package api_test

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRequestListPages: GET /v1/requests lists every request once, in
// order, a page at a time by following next; the last page has no next,
// so a list that fits one page reads as it always did; a cursor= the API
// did not give, and a limit out of range, are refused.
func TestRequestListPages(t *testing.T) {
	e := newEnv(t, slog.LevelInfo, nil)
	op := e.keys["operator"]
	for _, kind := range []string{"access", "deletion", "copy", "access", "correction"} {
		for _, subject := range []string{"demo-1001", "demo-1002"} {
			w := e.do(t, "POST", "/v1/requests", op, `{"type":"`+kind+`","subject_id":"`+subject+`","language":"en","verification":"operator","evidence":"seen in person"}`, nil)
			if w.Code != 201 {
				t.Fatalf("submit: %d %s", w.Code, w.Body)
			}
		}
	}
	type list struct {
		Requests []struct{ ID string }
		Next     *string `json:"next_cursor"`
	}
	get := func(path string) (list, string) {
		t.Helper()
		w := e.do(t, "GET", path, op, "", nil)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		var l list
		if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		return l, w.Body.String()
	}
	for _, filter := range []string{"", "type=access", "subject_id=demo-1002", "state=verified&type=access"} {
		whole, body := get("/v1/requests?" + filter)
		if whole.Next != nil || strings.Contains(body, `"next_cursor"`) {
			t.Errorf("%s: one page holds them all, yet it has a next: %s", filter, body)
		}
		var want []string
		for _, r := range whole.Requests {
			want = append(want, r.ID)
		}
		if len(want) < 2 && filter == "" {
			t.Fatalf("listed %d requests", len(want))
		}
		for _, limit := range []string{"1", "3"} {
			var got []string
			path := "/v1/requests?" + filter + "&limit=" + limit
			for range 20 {
				page, _ := get(path)
				if n, _ := strconv.Atoi(limit); len(page.Requests) > n {
					t.Fatalf("%s: %d requests on a page of %s", path, len(page.Requests), limit)
				}
				for _, r := range page.Requests {
					got = append(got, r.ID)
				}
				if page.Next == nil {
					break
				}
				if *page.Next == "" || strings.Contains(*page.Next, "demo-") {
					t.Fatalf("next_cursor is not opaque: %q", *page.Next)
				}
				path = "/v1/requests?" + filter + "&limit=" + limit + "&cursor=" + *page.Next
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s in pages of %s (-one page +pages):\n%s", filter, limit, d)
			}
		}
	}
	for _, c := range []struct{ query, code string }{
		{"cursor=not-a-cursor!", "invalid_cursor"},
		{"cursor=bm9wZQ", "invalid_cursor"},
		{"limit=0", "invalid_limit"},
		{"limit=1001", "invalid_limit"},
	} {
		w := e.do(t, "GET", "/v1/requests?"+c.query, op, "", nil)
		if w.Code != 400 || !strings.Contains(w.Body.String(), `"code":"`+c.code+`"`) {
			t.Errorf("%s: %d %s, want 400 %s", c.query, w.Code, w.Body, c.code)
		}
	}
}
