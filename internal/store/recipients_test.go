package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRecipientTasksContract covers the propagation job's view of recipient
// tasks on every backend: which tasks are due, in what order, and how an
// attempt is recorded.
func TestRecipientTasksContract(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.CreateSubject(ctx, Subject{ID: "u-1"}); err != nil {
			t.Fatal(err)
		}
		r := request("rq_1", "u-1", "completed")
		now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
		task := func(id, method, state string, next time.Time) RecipientTask {
			return RecipientTask{ID: id, RequestID: r.ID, Recipient: "rc-" + id, Action: "deletion", Method: method,
				Categories: []string{"basic.email"}, State: state, NextAt: next, UpdatedAt: now}
		}
		tasks := []RecipientTask{
			task("rt_late", "webhook", "pending", now.Add(-time.Minute)),
			task("rt_old", "email", "pending", now.Add(-time.Hour)),
			task("rt_now", "webhook", "pending", now),
			task("rt_future", "webhook", "pending", now.Add(time.Second)),
			task("rt_manual", "manual", "pending", now.Add(-2*time.Hour)),
			task("rt_sent", "webhook", "sent", now.Add(-2*time.Hour)),
			task("rt_dead", "webhook", "dead", now.Add(-2*time.Hour)),
		}
		var fns []TxFn
		for _, tk := range tasks {
			fns = append(fns, s.RecipientTaskFn(tk))
		}
		if err := s.CreateRequest(ctx, r, RequestEvent{RequestID: r.ID, At: now, Actor: "t", To: r.State}, fns); err != nil {
			t.Fatal(err)
		}

		ids := func(ts []RecipientTask) []string {
			out := []string{}
			for _, t := range ts {
				out = append(out, t.ID)
			}
			return out
		}
		for _, tc := range []struct {
			name  string
			now   time.Time
			limit int
			want  []string
		}{
			{"due, oldest first, without manual or settled tasks", now, 10, []string{"rt_old", "rt_late", "rt_now"}},
			{"limit", now, 2, []string{"rt_old", "rt_late"}},
			{"later", now.Add(time.Second), 10, []string{"rt_old", "rt_late", "rt_now", "rt_future"}},
			{"nothing due yet", now.Add(-2 * time.Hour), 10, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.DueRecipientTasks(ctx, tc.now, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
					t.Errorf("DueRecipientTasks (-want +got):\n%s", diff)
				}
			})
		}

		due, err := s.DueRecipientTasks(ctx, now, 1)
		if err != nil || len(due) != 1 {
			t.Fatalf("DueRecipientTasks = %v, %v", due, err)
		}
		want := tasks[1]
		if diff := cmp.Diff(want, due[0]); diff != "" {
			t.Errorf("task read back (-want +got):\n%s", diff)
		}

		// A failed attempt moves the task out of the due set until its next time.
		retry := now.Add(10 * time.Minute)
		if err := s.MarkRecipientTask(ctx, "rt_late", "pending", 1, retry, "recipient replied 503", entry("recipient.notice", "request:rq_1")); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.DueRecipientTasks(ctx, now, 10); cmp.Diff([]string{"rt_old", "rt_now"}, ids(got)) != "" {
			t.Errorf("after a failed attempt, due = %v", ids(got))
		}
		if got, _ := s.DueRecipientTasks(ctx, retry, 10); len(got) < 1 || got[len(got)-1].ID != "rt_late" || got[len(got)-1].Attempts != 1 || got[len(got)-1].LastError != "recipient replied 503" {
			t.Errorf("at its retry time, due = %+v", got)
		}
		if err := s.MarkRecipientTask(ctx, "rt_now", "sent", 1, now, ""); err != nil {
			t.Fatal(err)
		}
		// An acknowledgement that lands during an attempt is not undone by it.
		ackAt := now.Add(time.Minute)
		if err := s.AckRecipientTask(ctx, r.ID, "rc-rt_old", "key_staff", ackAt, entry("request.recipient_ack", "request:rq_1")); err != nil {
			t.Fatal(err)
		}
		// Acknowledged once: later acknowledgements, by link or by staff,
		// change nothing and are not audited again.
		if err := s.AckRecipientTaskByID(ctx, "rt_old", "recipient:rc-rt_old", ackAt.Add(time.Hour), entry("request.recipient_ack", "request:rq_1")); err != nil {
			t.Fatal(err)
		}
		if err := s.AckRecipientTask(ctx, r.ID, "rc-rt_old", "key_other", ackAt.Add(time.Hour), entry("request.recipient_ack", "request:rq_1")); err != nil {
			t.Fatal(err)
		}
		if got, err := s.RecipientTask(ctx, "rt_old"); err != nil || got.AckedBy != "key_staff" || !got.AckedAt.Equal(ackAt) || got.State != "acknowledged" {
			t.Errorf("acknowledged task = %+v, %v; want acknowledged by key_staff at %v", got, err, ackAt)
		}
		if err := s.AckRecipientTaskByID(ctx, "rt_dead", "recipient:rc-rt_dead", ackAt, entry("request.recipient_ack", "request:rq_1")); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.RecipientTask(ctx, "rt_dead"); got.AckedBy != "recipient:rc-rt_dead" || !got.AckedAt.Equal(ackAt) {
			t.Errorf("task acknowledged by its link = %+v", got)
		}
		if err := s.AckRecipientTaskByID(ctx, "rt_none", "recipient:x", ackAt); !errors.Is(err, ErrNotFound) {
			t.Errorf("acknowledging an unknown task: %v, want ErrNotFound", err)
		}
		if _, err := s.RecipientTask(ctx, "rt_none"); !errors.Is(err, ErrNotFound) {
			t.Errorf("reading an unknown task: %v, want ErrNotFound", err)
		}
		if err := s.MarkRecipientTask(ctx, "rt_old", "sent", 1, now, ""); err != nil {
			t.Errorf("marking an acknowledged task: %v", err)
		}
		if err := s.MarkRecipientTask(ctx, "rt_none", "sent", 1, now, ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("marking an unknown task: %v, want ErrNotFound", err)
		}

		all, err := s.RecipientTasks(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]string{}
		for _, tk := range all {
			states[tk.ID] = tk.State
		}
		wantStates := map[string]string{"rt_late": "pending", "rt_old": "acknowledged", "rt_now": "sent", "rt_future": "pending",
			"rt_manual": "pending", "rt_sent": "sent", "rt_dead": "acknowledged"}
		if diff := cmp.Diff(wantStates, states); diff != "" {
			t.Errorf("states (-want +got):\n%s", diff)
		}

		log, err := s.AuditEntries(ctx, AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, e := range log {
			if e.Object == "request:rq_1" {
				n[e.Action]++
			}
		}
		if diff := cmp.Diff(map[string]int{"recipient.notice": 1, "request.recipient_ack": 2}, n); diff != "" {
			t.Errorf("audit entries (-want +got):\n%s", diff)
		}
	})
}
