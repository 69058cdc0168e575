package console_test

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/web/webtest"
)

// TestQueuePages: a queue longer than a page ends with a link to the next
// page, which lists the rest and no request twice; the overdue alert counts
// every open request, not only those on the page.
func TestQueuePages(t *testing.T) {
	d := webtest.Demo(t)
	st := d.Server.Store()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	const n = 503
	for i := range n {
		due := now.AddDate(0, 0, 30).Format(time.DateOnly)
		if i%100 == 0 {
			due = now.AddDate(0, 0, -5).Format(time.DateOnly) // overdue: 6 of these and the one below
		}
		if i == n-1 {
			due = now.AddDate(0, 0, -6).Format(time.DateOnly) // the queue's first
		}
		r := store.Request{ID: fmt.Sprintf("rq_page%03d", i), Kind: "access", Jurisdiction: "CN", State: "in_progress", Channel: "operator", Language: "en",
			ReceivedAt: now, ReceivedDate: now.Format(time.DateOnly), DueDate: due, CalendarVersion: "v", Deadline: "15 working_days", Flags: "{}", UpdatedAt: now, Version: 1}
		if err := st.CreateRequest(ctx, r, store.RequestEvent{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	c := signedIn(t, d, adminUser, adminPW)
	ids := regexp.MustCompile(`data-request="(rq_page\d+)"`)
	next := regexp.MustCompile(`<a rel="next" href="([^"]+)"`)
	seen := map[string]bool{}
	path := "/console/requests"
	for page := 0; ; page++ {
		r := c.get(path)
		if r.status != 200 {
			t.Fatalf("%s: %d", path, r.status)
		}
		if page == 0 && !strings.Contains(r.body, "7 requests are overdue") && !strings.Contains(r.body, "7 个请求已逾期") {
			t.Errorf("the overdue alert does not count the 7 overdue requests: %s", regexp.MustCompile(`<p class="alert"[^<]*`).FindString(r.body))
		}
		got := ids.FindAllStringSubmatch(r.body, -1)
		if page == 0 && (len(got) != 500 || got[0][1] != fmt.Sprintf("rq_page%03d", n-1)) {
			t.Fatalf("first page: %d requests, first %v", len(got), got[0])
		}
		for _, m := range got {
			if seen[m[1]] {
				t.Errorf("%s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		m := next.FindStringSubmatch(r.body)
		if m == nil {
			break
		}
		if page > 2 {
			t.Fatal("the pages do not end")
		}
		path = html.UnescapeString(m[1])
	}
	if len(seen) != n {
		t.Errorf("the pages showed %d requests, want %d", len(seen), n)
	}
}
