package dsr_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/store"
)

// TestYonyouEU runs the special rights yonyou-cloud gives EU residents
// (jurisdiction id EU): restriction and portability, answered within 30
// calendar days that may be extended once by 30 more (rights.deadlines
// "eu"), the period restarting when a wait on the subject ends.
func TestYonyouEU(t *testing.T) {
	// Monday 11 May 2026, 10:00 in China.
	start := chinaTime("2026-05-11 10:00")
	const email = "anna.schmidt@example.com"

	t.Run("rights for EU residents only", func(t *testing.T) {
		e := newEnv(t, yonyouManifest, start)
		e.subject("yy-3001", email, "", nil)
		tests := []struct {
			name, kind, jurisdiction string
			status                   int
			code                     string
		}{
			// restriction and portability are offered with jurisdictions: [EU].
			{"restriction in CN", "restriction", "CN", 422, "right_not_offered"},
			// Without a jurisdiction the request falls in the first one listed, CN.
			{"restriction by default", "restriction", "", 422, "right_not_offered"},
			{"portability in CN", "portability", "CN", 422, "right_not_offered"},
			{"unknown jurisdiction", "restriction", "US", 422, "unknown_jurisdiction"},
			{"restriction in EU", "restriction", "EU", 202, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := map[string]any{"type": tt.kind, "language": "en", "identity": map[string]string{"kind": "email", "value": email}}
				if tt.jurisdiction != "" {
					in["jurisdiction"] = tt.jurisdiction
				}
				res := e.do("POST", "/v1/public/requests", "", mustJSON(in))
				if res.Code != tt.status || errorCode(res.Body) != tt.code {
					t.Errorf("submit = %d %s, want %d %q", res.Code, res.Body, tt.status, tt.code)
				}
			})
		}
	})

	t.Run("restriction", func(t *testing.T) {
		e := newEnv(t, yonyouManifest, start)
		e.subject("yy-3001", email, "", map[string]any{"jurisdiction": "EU"})
		// For an EU resident personalization rests on legitimate interests,
		// which a restriction stops; legal_compliance rests on a legal
		// obligation, which it does not.
		purposes := map[string]any{"subject_id": "yy-3001", "purposes": []string{"personalization", "legal_compliance"}}
		_, before := e.check(purposes)
		wantBefore := map[string]string{"personalization": "legal_basis:legitimate_interests", "legal_compliance": "legal_basis:legal_obligation"}
		if diff := cmp.Diff(wantBefore, before); diff != "" {
			t.Fatalf("check before (-want +got):\n%s", diff)
		}
		id := e.submitPublic("restriction", "email", email, map[string]any{"jurisdiction": "EU"})
		got := e.verify(id, e.code(id))
		// Verified the day it arrived: 11 May + 30 days = 10 June.
		want := dsr.View{ID: id, Type: "restriction", Jurisdiction: "EU", State: dsr.StateVerified, Channel: "public",
			DueDate: "2026-06-10", DaysLeft: 30, Deadline: "30 calendar_days (+30 calendar_days)", CalendarVersion: got.CalendarVersion}
		if diff := cmp.Diff(want, got, cmpView); diff != "" {
			t.Errorf("verified (-want +got):\n%s", diff)
		}
		e.act(id, "approve", nil)
		done := e.act(id, "complete", map[string]string{})
		// The restriction holds here at once; its recipients, among them
		// the Umeng+ SDK's provider, are still being told.
		if done.State != dsr.StateCompleted || !strings.HasPrefix(done.Explanation, "We have stopped all processing of your personal information other than storing it. We are still telling the following recipients") ||
			!strings.Contains(done.Explanation, "Umeng+") {
			t.Errorf("complete = state %s, explanation %q", done.State, done.Explanation)
		}
		_, after := e.check(purposes)
		wantAfter := map[string]string{"personalization": "restricted", "legal_compliance": "legal_basis:legal_obligation"}
		if diff := cmp.Diff(wantAfter, after); diff != "" {
			t.Errorf("check after (-want +got):\n%s", diff)
		}
		if !e.subjectView("yy-3001").Restricted {
			t.Error("the subject is not marked restricted")
		}
		e.noPI(email)
	})

	t.Run("portability extended once", func(t *testing.T) {
		e := newEnv(t, yonyouManifest, start)
		e.subject("yy-3001", email, "", nil)
		v := e.submitOperator(map[string]any{"type": "portability", "jurisdiction": "EU", "subject_id": "yy-3001"})
		id := v.ID
		if v.DueDate != "2026-06-10" || v.State != dsr.StateVerified {
			t.Fatalf("intake = state %s, due %s; want verified, 2026-06-10", v.State, v.DueDate)
		}
		// A verified request is not being worked on yet: nothing to extend.
		res := e.do("POST", "/v1/requests/"+id+"/extend", e.op, `{"reason":"many systems to search"}`)
		if res.Code != 409 || errorCode(res.Body) != "invalid_transition" {
			t.Errorf("extend before approval = %d %s, want 409 invalid_transition", res.Code, res.Body)
		}
		e.act(id, "approve", nil)
		res = e.do("POST", "/v1/requests/"+id+"/extend", e.op, `{"reason":""}`)
		if res.Code != 422 || errorCode(res.Body) != "reason_required" {
			t.Errorf("extend without a reason = %d %s, want 422 reason_required", res.Code, res.Body)
		}
		e.clock.Advance(5 * 24 * time.Hour)
		got := e.act(id, "extend", map[string]string{"reason": "the export spans three data centres"})
		// 10 June + 30 days = 10 July; 16 May to 10 July is 55 days.
		want := dsr.View{ID: id, Type: "portability", Jurisdiction: "EU", State: dsr.StateExtended, SubjectID: "yy-3001", Channel: "operator",
			DueDate: "2026-07-10", DaysLeft: 55, Deadline: "30 calendar_days (+30 calendar_days)", CalendarVersion: got.CalendarVersion, Extended: true,
			Flags: dsr.Flags{Evidence: "identity card checked at the counter, ref OP-1"}}
		if diff := cmp.Diff(want, got, cmpView); diff != "" {
			t.Errorf("extended (-want +got):\n%s", diff)
		}
		res = e.do("POST", "/v1/requests/"+id+"/extend", e.op, `{"reason":"still more systems"}`)
		if res.Code != 409 || errorCode(res.Body) != "already_extended" {
			t.Errorf("second extension = %d %s, want 409 already_extended", res.Code, res.Body)
		}
		if got := e.get(id).DueDate; got != "2026-07-10" {
			t.Errorf("due date after a refused second extension = %s", got)
		}
		if diff := cmp.Diff([]string{"request_received", "request_in_progress", "request_extended"}, e.templates(id)); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}

		done := e.act(id, "complete", map[string]string{})
		if done.State != dsr.StateCompleted || !strings.HasPrefix(done.Download, "/v1/public/requests/"+id+"/bundle?token=") {
			t.Fatalf("complete = state %s, download %q", done.State, done.Download)
		}
		if again := e.get(id); again.Download != "" {
			t.Errorf("the download link is shown again: %q", again.Download)
		}
		res = e.do("GET", done.Download, "", "")
		if res.Code != 200 || res.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("download = %d %s", res.Code, res.Header.Get("Content-Type"))
		}
		files := unzip(t, res.Body)
		var names []string
		for n := range files {
			names = append(names, n)
		}
		if diff := cmp.Diff([]string{"consents.csv", "data.json", "report.html"}, names, sortStrings); diff != "" {
			t.Errorf("bundle files (-want +got):\n%s", diff)
		}
		var ex dsr.Export
		if err := json.Unmarshal(files["data.json"], &ex); err != nil {
			t.Fatalf("data.json: %v", err)
		}
		if ex.Subject.ID != "yy-3001" || ex.Subject.Identities["email"] != email || len(ex.Processing) == 0 || len(ex.Requests) != 1 {
			t.Errorf("data.json = subject %+v, %d purposes, %d requests", ex.Subject, len(ex.Processing), len(ex.Requests))
		}
		if !strings.HasPrefix(string(files["consents.csv"]), "at,purpose,action,method,policy_version,language,separate\n") {
			t.Errorf("consents.csv header: %.80q", files["consents.csv"])
		}
		if !strings.Contains(string(files["report.html"]), email) {
			t.Error("report.html does not show the email held")
		}

		tests := []struct {
			name, path string
			after      time.Duration
			status     int
		}{
			{"wrong token", "/v1/public/requests/" + id + "/bundle?token=wrong", 0, 404},
			{"another request's id", strings.Replace(done.Download, id, "rq_other", 1), 0, 404},
			// BundleTTL is 7 days.
			{"expired link", done.Download, 7*24*time.Hour + time.Minute, 404},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.clock.Advance(tt.after)
				if res := e.do("GET", tt.path, "", ""); res.Code != tt.status || errorCode(res.Body) != "bundle_not_found" {
					t.Errorf("GET = %d %s, want %d bundle_not_found", res.Code, res.Body, tt.status)
				}
			})
		}
		e.noPI(email)
	})
}

// unzip reads a zip archive into name → content.
func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestYonyouPublicCancellationByChannel: the public intake takes the
// channel too, under the same rule as an operator's request: a
// cancellation the person says comes through YouZone's own cancellation
// is due the day it is received, one by the privacy email 30 working days
// later; without a channel the general deadline applies; a channel the
// policy does not have is refused before anything is recorded or sent.
func TestYonyouPublicCancellationByChannel(t *testing.T) {
	received := chinaTime("2026-05-11 10:00")
	const email = "lin.hui@example.com"
	tests := []struct {
		via, due, deadline string
		status             int
		code               string
	}{
		{via: "self_service", due: "2026-05-11", deadline: "immediate", status: 202},
		{via: "privacy_email", due: "2026-06-23", deadline: "30 working_days", status: 202},
		{via: "", due: "2026-06-23", deadline: "30 working_days", status: 202},
		{via: "fax", status: 422, code: "invalid_via"},
	}
	for _, tt := range tests {
		t.Run("via "+tt.via, func(t *testing.T) {
			e := newEnv(t, yonyouManifest, received)
			e.subject("yy-9001", email, "", nil)
			in := map[string]any{"type": "cancel_account", "language": "zh-CN", "jurisdiction": "CN",
				"identity": map[string]string{"kind": "email", "value": email}, "via": tt.via}
			res := e.do("POST", "/v1/public/requests", "", mustJSON(in))
			if res.Code != tt.status || errorCode(res.Body) != tt.code {
				t.Fatalf("intake = %d %s, want %d %q", res.Code, res.Body, tt.status, tt.code)
			}
			if tt.status != 202 {
				if strings.Contains(string(res.Body), email) {
					t.Errorf("the refusal quotes the identity: %s", res.Body)
				}
				n, err := e.st.Requests(e.ctx, store.RequestFilter{Limit: 10})
				if err != nil || len(n) != 0 {
					t.Errorf("a refused request was recorded: %d (%v)", len(n), err)
				}
				return
			}
			var acc dsr.Accepted
			if err := json.Unmarshal(res.Body, &acc); err != nil {
				t.Fatal(err)
			}
			v := e.verify(acc.ID, e.code(acc.ID))
			if v.DueDate != tt.due || v.Deadline != tt.deadline {
				t.Errorf("verified = due %s, deadline %q; want %s, %q", v.DueDate, v.Deadline, tt.due, tt.deadline)
			}
			if got := e.get(acc.ID); got.Flags.Via != tt.via {
				t.Errorf("the request says it came via %q, want %q", got.Flags.Via, tt.via)
			}
			e.noPI(email)
		})
	}
}

// TestYonyouCancellationByChannel: Yonyou Cloud's terms for closing an
// account depend on the channel (rights.account_cancellation.terms): the
// YouZone app's own cancellation takes effect at once, so it is due on the
// day it is received; one applied for by the privacy email is completed
// within 30 working days. A channel the policy does not have is refused.
func TestYonyouCancellationByChannel(t *testing.T) {
	// Monday 11 May 2026. 30 working days: 12-15 May (4), 18-22 (9), 25-29
	// (14), 1-5 June (19), 8-12 (24), 15-18 (28), 19 June Dragon Boat
	// Festival, 22-23 June (30).
	received := chinaTime("2026-05-11 10:00")
	tests := []struct {
		via, due, deadline string
		status             int
		code               string
	}{
		{via: "self_service", due: "2026-05-11", deadline: "immediate", status: 201},
		{via: "privacy_email", due: "2026-06-23", deadline: "30 working_days", status: 201},
		// Without a channel the general deadline applies.
		{via: "", due: "2026-06-23", deadline: "30 working_days", status: 201},
		{via: "fax", status: 422, code: "invalid_via"},
	}
	for _, tt := range tests {
		t.Run("via "+tt.via, func(t *testing.T) {
			e := newEnv(t, yonyouManifest, received)
			e.subject("yy-9001", "lin.hui@example.com", "", nil)
			in := map[string]any{"type": "cancel_account", "subject_id": "yy-9001", "language": "zh-CN", "jurisdiction": "CN",
				"verification": "operator", "evidence": "signed-in session", "via": tt.via}
			res := e.do("POST", "/v1/requests", e.op, mustJSON(in))
			if res.Code != tt.status || errorCode(res.Body) != tt.code {
				t.Fatalf("intake = %d %s, want %d %q", res.Code, res.Body, tt.status, tt.code)
			}
			if tt.status != 201 {
				return
			}
			var v dsr.View
			if err := json.Unmarshal(res.Body, &v); err != nil {
				t.Fatal(err)
			}
			if v.DueDate != tt.due || v.Deadline != tt.deadline || v.Flags.Via != tt.via {
				t.Errorf("intake = due %s, deadline %q, via %q; want %s, %q, %q", v.DueDate, v.Deadline, v.Flags.Via, tt.due, tt.deadline, tt.via)
			}
			// The term holds through the workflow's recomputations.
			e.act(v.ID, "approve", nil)
			e.act(v.ID, "await", map[string]string{"reason": "please confirm the account to close"})
			e.clock.Advance(24 * time.Hour)
			got := e.act(v.ID, "resume", nil)
			if got.Deadline != tt.deadline {
				t.Errorf("after a pause the deadline is %q, want %q", got.Deadline, tt.deadline)
			}
		})
	}
}
