package dsr_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/dsr"
)

// TestOpenGeminiExtension runs opengemini's GDPR-style deadline: one month,
// extendable by two more when the subject is told within the first month
// (extension.notice_within_first_period). The extension counts from the
// original due date.
func TestOpenGeminiExtension(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name     string
		received time.Time
		extendAt time.Duration // after receipt
		due      string        // before the extension
		status   int
		code     string
		extended string // due date after the extension, if allowed
	}{
		{
			// 16 March + 1 month = 16 April; extended on 26 March (day 10)
			// by 2 months = 16 June, three months after receipt.
			name: "extended on day 10", received: chinaTime("2026-03-16 10:00"), extendAt: 10 * day,
			due: "2026-04-16", status: 200, extended: "2026-06-16",
		},
		{
			// On the due date itself the first month has not run out.
			name: "extended on the due date", received: chinaTime("2026-03-16 10:00"), extendAt: 31*day + 13*time.Hour,
			due: "2026-04-16", status: 200, extended: "2026-06-16",
		},
		{
			// 17 April in China is past the first month.
			name: "extended a day late", received: chinaTime("2026-03-16 10:00"), extendAt: 31*day + 14*time.Hour,
			due: "2026-04-16", status: 422, code: "extension_too_late",
		},
		{
			// 31 January + 1 month is the last day of February, 28 February;
			// the two further months run from there to 28 April, not to the
			// 30 April that three months from receipt would give.
			name: "received at the end of a month", received: chinaTime("2026-01-31 10:00"), extendAt: 10 * day,
			due: "2026-02-28", status: 200, extended: "2026-04-28",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, geminiManifest, tt.received)
			e.subject("og-4001", "wang.fang@example.com", "", nil)
			v := e.submitOperator(map[string]any{"type": "access", "subject_id": "og-4001"})
			if v.DueDate != tt.due || v.Deadline != "1 months (+2 months)" || v.Jurisdiction != "" {
				t.Fatalf("intake = due %s, deadline %q, jurisdiction %q; want %s", v.DueDate, v.Deadline, v.Jurisdiction, tt.due)
			}
			e.act(v.ID, "approve", nil)
			e.clock.Advance(tt.extendAt)
			res := e.do("POST", "/v1/requests/"+v.ID+"/extend", e.op, `{"reason":"the logs of several clusters must be searched"}`)
			if res.Code != tt.status || errorCode(res.Body) != tt.code {
				t.Fatalf("extend = %d %s, want %d %q", res.Code, res.Body, tt.status, tt.code)
			}
			got := e.get(v.ID)
			want := struct {
				State, Due string
				Extended   bool
			}{dsr.StateInProgress, tt.due, false}
			if tt.extended != "" {
				want.State, want.Due, want.Extended = dsr.StateExtended, tt.extended, true
			}
			if diff := cmp.Diff(want, struct {
				State, Due string
				Extended   bool
			}{got.State, got.DueDate, got.Extended}); diff != "" {
				t.Errorf("after extend (-want +got):\n%s", diff)
			}
			e.noPI("wang.fang@example.com")
		})
	}
}

// TestOpenGeminiRightsOffered: every right the openGemini statement gives
// is one a request can be made under. §6 says "您可以选择关闭您的帐户" (you
// may choose to close your account): a closure request is taken, due in
// the statement's month, and carried out at once (no cooling-off period),
// with the subject's data deleted.
func TestOpenGeminiRightsOffered(t *testing.T) {
	const email = "zhao.lei@example.com"
	for _, right := range []string{"access", "copy", "correction", "deletion", "objection", "restriction", "portability", "withdraw_consent", "complaint", "cancel_account"} {
		t.Run(right, func(t *testing.T) {
			e := newEnv(t, geminiManifest, chinaTime("2026-03-16 10:00"))
			e.subject("og-4002", email, "", nil)
			res := e.do("POST", "/v1/requests", e.op, mustJSON(map[string]any{"type": right, "subject_id": "og-4002", "language": "en",
				"verification": "operator", "evidence": "signed-in session, ticket 12"}))
			if res.Code != 201 {
				t.Fatalf("%s request = %d %s, want 201", right, res.Code, res.Body)
			}
		})
	}

	t.Run("closing the account", func(t *testing.T) {
		e := newEnv(t, geminiManifest, chinaTime("2026-03-16 10:00"))
		e.subject("og-4002", email, "", nil)
		v := e.submitOperator(map[string]any{"type": "cancel_account", "subject_id": "og-4002"})
		if v.DueDate != "2026-04-16" || v.Deadline != "1 months (+2 months)" {
			t.Errorf("closure request = due %s, deadline %q; want 2026-04-16 under the one-month deadline", v.DueDate, v.Deadline)
		}
		e.act(v.ID, "approve", nil)
		done := e.act(v.ID, "complete", map[string]string{})
		if done.State != dsr.StateCompleted {
			t.Errorf("closure = state %s, want completed at once", done.State)
		}
		if got := e.subjectView("og-4002").Identities; len(got) != 0 {
			t.Errorf("identities after the closure: %+v", got)
		}
		e.noPI(email)
	})
}
