package dsr_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
)

// TestSmartDeviceApp runs the smart-device-app manifest: access is due in
// 30 calendar days, every other right in 30 working days, and an account
// cancellation takes effect 7 days (account_cancellation.cooling_off_days)
// after the application was verified, until when the subject can withdraw it.
func TestSmartDeviceApp(t *testing.T) {
	// Monday 2 March 2026, 09:00 in China.
	start := chinaTime("2026-03-02 09:00")
	const (
		email = "chen.jie@example.com"
		phone = "+8613800138000"
	)

	t.Run("deadlines", func(t *testing.T) {
		tests := []struct {
			right, due, deadline, calVersion string
		}{
			// rights.deadlines "access": 2 March + 30 days = 1 April.
			{"access", "2026-04-01", "30 calendar_days", ""},
			// "general", 30 working days from 3 March: 3-6 Mar (4), 9-13 (9),
			// 16-20 (14), 23-27 (19), 30 Mar-3 Apr (24), 4-6 Apr off for
			// Qingming, 7-10 Apr (28), 13 Apr (29), 14 Apr (30).
			{"cancel_account", "2026-04-14", "30 working_days", calendar.Builtin().Version()},
		}
		for _, tt := range tests {
			t.Run(tt.right, func(t *testing.T) {
				e := newEnv(t, smartManifest, start)
				e.subject("sd-2001", email, phone, nil)
				// The code goes by SMS to the phone on file.
				id := e.submitPublic(tt.right, "phone", "138 0013 8000", nil)
				got := e.verify(id, e.code(id))
				want := dsr.View{ID: id, Type: tt.right, State: dsr.StateVerified, Channel: "public", DueDate: tt.due,
					DaysLeft: calendar.DaysUntil(calendar.MustParseDate("2026-03-02"), calendar.MustParseDate(tt.due)),
					Deadline: tt.deadline, CalendarVersion: tt.calVersion}
				if diff := cmp.Diff(want, got, cmpView); diff != "" {
					t.Errorf("verified request (-want +got):\n%s", diff)
				}
				if msgs := e.sent.all(); len(msgs) == 0 || msgs[0].Channel != "sms" || msgs[0].To != phone {
					t.Errorf("the code was not sent by SMS to the phone on file: %+v", msgs)
				}
				e.noPI(email, phone, "13800138000")
			})
		}
	})

	// cancel takes a cancellation from the public through to the start of
	// its cooling-off period, and returns its id and when it takes effect.
	cancel := func(t *testing.T, e *env) (string, time.Time) {
		t.Helper()
		id := e.submitPublic("cancel_account", "email", email, nil)
		appliedAt := e.clock.Now()
		e.verify(id, e.code(id))
		e.act(id, "approve", nil)
		v := e.act(id, "complete", map[string]string{})
		want := appliedAt.AddDate(0, 0, 7)
		if v.State != dsr.StateInProgress || v.EffectiveAt == nil || !v.EffectiveAt.Equal(want) {
			t.Fatalf("complete = state %s, effective_at %v; want in_progress, %s", v.State, v.EffectiveAt, want)
		}
		return id, want
	}

	t.Run("counted from the verified application", func(t *testing.T) {
		// "申请注销后7天生效": the application is filed on 2 March at 09:00
		// and verified ten minutes later; it takes effect on 9 March at 09:10
		// whichever day the operator carries it out. On day 9 the period
		// has passed already: the cancellation is carried out at once, and
		// still dated when it took effect.
		tests := []struct {
			day   int
			state string
		}{{5, dsr.StateInProgress}, {9, dsr.StateCompleted}}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("operator acts on day %d", tt.day), func(t *testing.T) {
				e := newEnv(t, smartManifest, start)
				e.subject("sd-2001", email, phone, nil)
				id := e.submitPublic("cancel_account", "email", email, nil)
				e.clock.Advance(10 * time.Minute)
				verifiedAt := e.clock.Now()
				e.verify(id, e.code(id))
				e.clock.Set(start.AddDate(0, 0, tt.day))
				e.act(id, "approve", nil)
				v := e.act(id, "complete", map[string]string{})
				want := verifiedAt.AddDate(0, 0, 7)
				if v.State != tt.state || v.EffectiveAt == nil || !v.EffectiveAt.Equal(want) {
					t.Errorf("complete = state %s, effective_at %v; want %s, %s", v.State, v.EffectiveAt, tt.state, want)
				}
				if tt.state == dsr.StateCompleted {
					if got := e.subjectView("sd-2001").Identities; len(got) != 0 {
						t.Errorf("identities after a cancellation past its period: %+v", got)
					}
				}
			})
		}
	})

	t.Run("withdrawn inside the cooling-off period", func(t *testing.T) {
		e := newEnv(t, smartManifest, start)
		e.subject("sd-2001", email, phone, nil)
		e.grant("sd-2001", nil, "profile", "device_analytics")
		id, effective := cancel(t, e)

		e.clock.Advance(3 * 24 * time.Hour)
		var v dsr.View
		e.must(200, "POST", "/v1/requests/"+id+"/withdraw", e.op, "", &v)
		if v.State != dsr.StateWithdrawn {
			t.Fatalf("withdraw: state %s", v.State)
		}
		// Past the date it would have taken effect, nothing happens.
		e.clock.Set(effective.Add(time.Hour))
		if n, err := e.req.RunDue(e.ctx); err != nil || n != 0 {
			t.Errorf("RunDue = %d, %v; want 0", n, err)
		}
		sub := e.subjectView("sd-2001")
		want := []consent.IdentityView{{Kind: "email", Masked: "c***@example.com"}, {Kind: "phone", Masked: "+86138****8000"}}
		if diff := cmp.Diff(want, sub.Identities); diff != "" {
			t.Errorf("identities after withdrawal (-want +got):\n%s", diff)
		}
		known, reasons := e.check(map[string]any{"identity": map[string]string{"kind": "email", "value": email}, "purposes": []string{"profile"}})
		if !known || reasons["profile"] != "consent" {
			t.Errorf("check by email = known %v, %v; want the subject with consent", known, reasons)
		}
		if got := e.get(id).State; got != dsr.StateWithdrawn {
			t.Errorf("state after RunDue = %s", got)
		}
		e.noPI(email, phone)
	})

	t.Run("the subject is told of the withdrawal", func(t *testing.T) {
		e := newEnv(t, smartManifest, start)
		e.subject("sd-2001", email, phone, nil)
		id, _ := cancel(t, e)
		before := len(e.templates(id))
		e.must(200, "POST", "/v1/requests/"+id+"/withdraw", e.op, "", nil)
		if got := e.templates(id); len(got) != before+1 {
			t.Errorf("messages after the withdrawal: %v, want one more than the %d before", got, before)
		}
		if strings.Contains(e.log.String(), "cannot queue notification") {
			t.Error("the log reports a notification that could not be queued")
		}
	})

	t.Run("takes effect when the period ends", func(t *testing.T) {
		e := newEnv(t, smartManifest, start)
		e.subject("sd-2001", email, phone, nil)
		e.grant("sd-2001", nil, "profile", "device_analytics")
		id, effective := cancel(t, e)

		e.clock.Set(effective.Add(-time.Minute))
		if n, err := e.req.RunDue(e.ctx); err != nil || n != 0 {
			t.Fatalf("RunDue a minute early = %d, %v; want 0", n, err)
		}
		if got := len(e.subjectView("sd-2001").Identities); got != 2 {
			t.Fatalf("identities a minute before the cancellation took effect: %d, want 2", got)
		}
		e.clock.Set(effective.Add(time.Minute))
		// Once the moment has passed the subject can no longer withdraw,
		// even before the job has run.
		res := e.do("POST", "/v1/requests/"+id+"/withdraw", e.op, "")
		if res.Code != 409 || errorCode(res.Body) != "cancellation_effective" {
			t.Errorf("withdraw after effective_at = %d %s, want 409 cancellation_effective", res.Code, res.Body)
		}
		if n, err := e.req.RunDue(e.ctx); err != nil || n != 1 {
			t.Fatalf("RunDue = %d, %v; want 1", n, err)
		}
		if got := e.get(id); got.State != dsr.StateCompleted {
			t.Errorf("state = %s, want completed", got.State)
		}
		if n, err := e.req.RunDue(e.ctx); err != nil || n != 0 {
			t.Errorf("RunDue again = %d, %v; want 0", n, err)
		}
		if got := e.subjectView("sd-2001").Identities; len(got) != 0 {
			t.Errorf("identities after erasure: %+v", got)
		}
		for _, idn := range []map[string]string{{"kind": "email", "value": email}, {"kind": "phone", "value": phone}} {
			if known, _ := e.check(map[string]any{"identity": idn, "purposes": []string{"profile"}}); known {
				t.Errorf("check by %s still finds the subject", idn["kind"])
			}
		}
		// The ledger keeps the grants and records the withdrawal of every
		// consent-based purpose, under the opaque id.
		want := []string{
			"grant profile",
			"grant device_analytics",
			"withdraw device_analytics",
			"withdraw location_service",
			"withdraw operation_monitoring",
			"withdraw profile",
			"withdraw push_notifications",
			"withdraw research",
			"withdraw service_improvement",
		}
		if diff := cmp.Diff(want, e.ledger("sd-2001")); diff != "" {
			t.Errorf("ledger after erasure (-want +got):\n%s", diff)
		}
		wantTemplates := []string{"otp", "request_verified", "request_in_progress", "cancellation_scheduled", "request_completed"}
		if diff := cmp.Diff(wantTemplates, e.templates(id)); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}
		e.noPI(email, phone)
	})

	t.Run("completing again inside the cooling-off period", func(t *testing.T) {
		e := newEnv(t, smartManifest, start)
		e.subject("sd-2001", email, phone, nil)
		id, effective := cancel(t, e)
		e.clock.Advance(24 * time.Hour)
		res := e.do("POST", "/v1/requests/"+id+"/complete", e.op, "{}")
		if res.Code != 409 {
			t.Errorf("second complete = %d %s, want 409", res.Code, res.Body)
		}
		v := e.get(id)
		if v.State != dsr.StateInProgress || v.EffectiveAt == nil || !v.EffectiveAt.Equal(effective) {
			t.Errorf("after a second complete: state %s, effective_at %v", v.State, v.EffectiveAt)
		}
		if got := len(e.subjectView("sd-2001").Identities); got != 2 {
			t.Errorf("identities after a second complete: %d, want 2", got)
		}
	})
}
