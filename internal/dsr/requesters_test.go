package dsr_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/dsr"
)

// TestGuardianForMinor: under the starter manifest (minors.stance
// guardian_consent, age_threshold 14) a guardian asks, at the counter, to
// withdraw one of the consents they gave for their ten-year-old.
func TestGuardianForMinor(t *testing.T) {
	// Monday 1 June 2026, 10:00 in China.
	start := chinaTime("2026-06-01 10:00")
	const guardianEmail = "zhao.min@example.com"
	setup := func(t *testing.T) *env {
		e := newEnv(t, starterManifest, start)
		e.subject("st-guardian-1", guardianEmail, "", nil)
		e.subject("st-child-1", "", "", map[string]any{"birth_date": "2016-04-01", "guardian_id": "st-guardian-1"})
		e.subject("st-neighbour-1", "neighbour@example.com", "", nil)
		e.grant("st-child-1", map[string]any{"method": "guardian", "guardian_id": "st-guardian-1"}, "analytics", "push_notifications")
		return e
	}

	t.Run("withdraws consent", func(t *testing.T) {
		e := setup(t)
		if !e.subjectView("st-child-1").Minor {
			t.Fatal("the subject is not a minor")
		}
		v := e.submitOperator(map[string]any{
			"type": "withdraw_consent", "subject_id": "st-child-1", "requester_id": "st-guardian-1",
			"verification": "operator", "evidence": "guardian's resident identity card and household register checked, ref G-17",
			"details": json.RawMessage(`{"purposes":["analytics"]}`),
		})
		// rights.deadlines "stop-processing": 3 working days from Tuesday
		// 2 June: 2, 3 and 4 June.
		want := dsr.View{ID: v.ID, Type: "withdraw_consent", Jurisdiction: "CN", State: dsr.StateVerified, SubjectID: "st-child-1", Channel: "operator",
			DueDate: "2026-06-04", DaysLeft: 3, Deadline: "3 working_days", CalendarVersion: v.CalendarVersion,
			Flags: dsr.Flags{Evidence: "guardian's resident identity card and household register checked, ref G-17", Requester: "st-guardian-1"}}
		if diff := cmp.Diff(want, v, cmpView); diff != "" {
			t.Errorf("intake (-want +got):\n%s", diff)
		}
		e.act(v.ID, "approve", nil)
		done := e.act(v.ID, "complete", map[string]string{})
		if done.State != dsr.StateCompleted || done.Explanation != "We have withdrawn your consent to product usage analytics." {
			t.Errorf("complete = state %s, explanation %q", done.State, done.Explanation)
		}
		_, reasons := e.check(map[string]any{"subject_id": "st-child-1", "purposes": []string{"analytics", "push_notifications"}})
		if diff := cmp.Diff(map[string]string{"analytics": "withdrawn", "push_notifications": "consent"}, reasons); diff != "" {
			t.Errorf("check (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"grant analytics", "grant push_notifications", "withdraw analytics"}, e.ledger("st-child-1")); diff != "" {
			t.Errorf("ledger (-want +got):\n%s", diff)
		}
		e.noPI(guardianEmail)
	})

	t.Run("requester who is not the guardian", func(t *testing.T) {
		e := setup(t)
		res := e.do("POST", "/v1/requests", e.op, mustJSON(map[string]any{
			"type": "access", "language": "en", "subject_id": "st-child-1", "requester_id": "st-neighbour-1",
			"verification": "operator", "evidence": "resident identity card checked, ref G-18",
		}))
		if res.Code != 422 {
			t.Errorf("request by a non-guardian = %d %s, want 422", res.Code, res.Body)
		}
	})
}

// TestDeceasedRelative: a close relative of a deceased subject exercises
// their rights (PIPL art. 49). The starter manifest sets
// rights.deceased.allowed and offers "deceased"; deepin does neither.
func TestDeceasedRelative(t *testing.T) {
	start := chinaTime("2026-06-01 10:00")
	const email = "li.na@example.com"
	evidence := "death certificate and marriage certificate seen; relative's identity card checked, ref D-3"

	t.Run("intake", func(t *testing.T) {
		tests := []struct {
			name, manifest string
			public         bool
			in             map[string]any
			status         int
			code           string
		}{
			{"no requester", starterManifest, false, map[string]any{"evidence": evidence}, 422, "evidence_required"},
			{"no evidence", starterManifest, false, map[string]any{"requester_id": "relative-1", "verification": "otp"}, 422, "evidence_required"},
			// The public intake takes no requester_id or evidence, so a
			// relative cannot use it: an operator takes the request.
			{"from the public", starterManifest, true, map[string]any{"requester_id": "relative-1", "evidence": evidence}, 400, "unknown_field"},
			{"not offered", deepinManifest, false, map[string]any{"requester_id": "relative-1", "evidence": evidence}, 422, "right_not_offered"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, tt.manifest, start)
				e.subject("st-late-1", email, "", nil)
				in := map[string]any{"type": "deceased", "language": "en"}
				path := "/v1/public/requests"
				if tt.public {
					in["identity"] = map[string]string{"kind": "email", "value": email}
				} else {
					path = "/v1/requests"
					in["subject_id"], in["verification"] = "st-late-1", "operator"
				}
				for k, v := range tt.in {
					in[k] = v
				}
				res := e.do("POST", path, e.op, mustJSON(in))
				if res.Code != tt.status || errorCode(res.Body) != tt.code {
					t.Errorf("submit = %d %s, want %d %s", res.Code, res.Body, tt.status, tt.code)
				}
			})
		}
	})

	t.Run("the deceased's own arrangement bars relatives", func(t *testing.T) {
		e := newEnv(t, starterManifest, start)
		e.subject("st-late-2", email, "", nil)
		e.must(200, "PATCH", "/v1/subjects/st-late-2", e.op, `{"arrangement":"refuse_relatives"}`, nil)
		res := e.do("POST", "/v1/requests", e.op, mustJSON(map[string]any{"type": "deceased", "language": "en", "subject_id": "st-late-2",
			"requester_id": "relative-2", "evidence": evidence, "verification": "operator"}))
		if res.Code != 422 || !strings.Contains(string(res.Body), `"deceased_arrangement"`) {
			t.Errorf("relative's request against the arrangement = %d %s, want 422 deceased_arrangement", res.Code, res.Body)
		}
		e.must(422, "PATCH", "/v1/subjects/st-late-2", e.op, `{"arrangement":"whatever"}`, nil)
	})

	t.Run("answered with an explanation", func(t *testing.T) {
		e := newEnv(t, starterManifest, start)
		e.subject("st-late-1", email, "", nil)
		v := e.submitOperator(map[string]any{
			"type": "deceased", "subject_id": "st-late-1", "requester_id": "relative-1", "evidence": evidence, "verification": "operator",
			"details": json.RawMessage(`{"relation":"spouse","note":"asks what is held and for the account to be closed"}`),
		})
		// rights.deadlines "standard", 15 working days from Tuesday 2 June:
		// 2-5 June (4), 8-12 (9), 15-18 (13), Friday 19 June off for the
		// Dragon Boat Festival, 22 June (14), 23 June (15).
		want := dsr.View{ID: v.ID, Type: "deceased", Jurisdiction: "CN", State: dsr.StateVerified, SubjectID: "st-late-1", Channel: "operator",
			DueDate: "2026-06-23", DaysLeft: 22, Deadline: "15 working_days", CalendarVersion: v.CalendarVersion,
			Flags: dsr.Flags{Evidence: evidence, Requester: "relative-1"}}
		if diff := cmp.Diff(want, v, cmpView); diff != "" {
			t.Errorf("intake (-want +got):\n%s", diff)
		}
		e.act(v.ID, "approve", nil)
		res := e.do("POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`)
		if res.Code != 422 || errorCode(res.Body) != "explanation_required" {
			t.Errorf("complete without an explanation = %d %s, want 422 explanation_required", res.Code, res.Body)
		}
		const answer = "We hold the account's email address and its consent history; the account has been closed at your request."
		done := e.act(v.ID, "complete", map[string]string{"explanation": answer})
		if done.State != dsr.StateCompleted || done.Explanation != answer {
			t.Errorf("complete = state %s, explanation %q", done.State, done.Explanation)
		}
		if got := e.get(v.ID).Explanation; got != answer {
			t.Errorf("stored explanation = %q", got)
		}
		e.noPI(email)
	})
}
