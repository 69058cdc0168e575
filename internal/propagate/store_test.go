package propagate

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

// TestWithSQLiteStore runs the job against the real store: the tasks a
// completed request left behind are found, attempted, rescheduled, sent and
// audited through the store's SQL.
func TestWithSQLiteStore(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	if err := st.CreateSubject(ctx, store.Subject{ID: rawSubject}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	r := store.Request{ID: "rq_1", SubjectID: rawSubject, Kind: "deletion", Jurisdiction: "CN", State: "completed", Channel: "operator", Language: "en",
		ReceivedAt: t0, ReceivedDate: "2026-10-01", DueDate: "2026-10-23", CalendarVersion: "v", Deadline: "15 working_days", Flags: "{}", UpdatedAt: t0, Version: 1}
	task := func(id, recipient, method string) store.RecipientTask {
		return store.RecipientTask{ID: id, RequestID: r.ID, Recipient: recipient, Action: "deletion", Method: method,
			Categories: []string{"basic.email"}, State: "pending", NextAt: t0, UpdatedAt: t0}
	}
	hook, mail, manual := task("rt_hook", "cloud", "webhook"), task("rt_mail", "ads", "email"), task("rt_manual", "paper", "manual")
	if err := st.CreateRequest(ctx, r, store.RequestEvent{RequestID: r.ID, At: t0, Actor: "t", To: r.State},
		[]store.TxFn{st.RecipientTaskFn(hook), st.RecipientTaskFn(mail), st.RecipientTaskFn(manual)}); err != nil {
		t.Fatal(err)
	}

	srv, posts := hookServer(t, []int{500, 200})
	now := t0
	var emailed []string
	p := &Propagator{
		Store: st,
		Recipients: func(id string) (string, string, bool) {
			switch id {
			case "cloud":
				return srv.URL + "/erase", "", true
			case "ads":
				return "", "dpo@ads.example", true
			}
			return "", "", false
		},
		SubjectOf: func(ctx context.Context, id string) (string, error) {
			rq, err := st.Request(ctx, id)
			return rq.SubjectID, err
		},
		Secret:  []byte(testSecret),
		Client:  &http.Client{Timeout: 5 * time.Second},
		Now:     func() time.Time { return now },
		Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * time.Minute },
		Email: func(_ context.Context, _, _ string, t store.RecipientTask) error {
			emailed = append(emailed, t.ID)
			return nil
		},
	}

	type state struct {
		State     string
		Attempts  int
		NextAt    time.Time
		LastError string
	}
	states := func() map[string]state {
		ts, err := st.RecipientTasks(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]state{}
		for _, tk := range ts {
			out[tk.ID] = state{tk.State, tk.Attempts, tk.NextAt, tk.LastError}
		}
		return out
	}
	for _, pass := range []struct {
		at         time.Time
		wantCounts [3]int
		want       map[string]state
	}{
		{t0, [3]int{1, 1, 0}, map[string]state{
			"rt_hook":   {"pending", 1, t0.Add(time.Minute), "recipient replied 500"},
			"rt_mail":   {"sent", 1, t0, ""},
			"rt_manual": {"pending", 0, t0, ""},
		}},
		{t0.Add(30 * time.Second), [3]int{0, 0, 0}, nil}, // nothing due yet
		{t0.Add(time.Minute), [3]int{1, 0, 0}, map[string]state{
			"rt_hook":   {"sent", 2, t0.Add(time.Minute), ""},
			"rt_mail":   {"sent", 1, t0, ""},
			"rt_manual": {"pending", 0, t0, ""},
		}},
	} {
		now = pass.at
		sent, failed, dead, err := p.RunOnce(ctx)
		if err != nil {
			t.Fatalf("pass at %v: %v", pass.at, err)
		}
		if got := [3]int{sent, failed, dead}; got != pass.wantCounts {
			t.Errorf("pass at %v: sent, failed, dead = %v, want %v", pass.at, got, pass.wantCounts)
		}
		if pass.want != nil {
			if diff := cmp.Diff(pass.want, states()); diff != "" {
				t.Errorf("pass at %v: tasks (-want +got):\n%s", pass.at, diff)
			}
		}
	}
	got := posts()
	if len(got) != 2 {
		t.Fatalf("posts = %d, want 2", len(got))
	}
	for _, c := range got {
		verifyNotice(t, c, hook, nil, nil)
	}
	if diff := cmp.Diff([]string{"rt_mail"}, emailed); diff != "" {
		t.Errorf("emailed (-want +got):\n%s", diff)
	}

	log, err := st.AuditEntries(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, e := range log {
		if e.Action == "recipient.notice" && e.Object == "request:rq_1" {
			outcomes = append(outcomes, e.Outcome)
		}
	}
	if diff := cmp.Diff([]string{"error", "ok", "ok"}, outcomes); diff != "" {
		t.Errorf("audited attempts (-want +got):\n%s", diff)
	}
}
