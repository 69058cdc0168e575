package dsr_test

import (
	"encoding/json"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/dsr"
)

// TestDeepinNationalDay runs an access request under deepin's single
// deadline, 15 working days, across the 2026 Mid-Autumn and National Day
// holidays. From internal/calendar/data/2026.json: 25-27 September and
// 1-7 October are days off, and Saturday 10 October is a make-up working
// day. The count starts the day after receipt.
func TestDeepinNationalDay(t *testing.T) {
	tests := []struct {
		name     string
		received time.Time
		due      string
		daysLeft int
	}{
		{
			// Monday 28 September: 29 Sep (1), 30 Sep (2), 1-7 Oct off,
			// 8 Oct (3), 9 Oct (4), Sat 10 Oct make-up (5), 12-16 Oct (6-10),
			// 19-23 Oct (11-15). Without the make-up day it would be 26 Oct.
			name: "received on 28 September", received: chinaTime("2026-09-28 10:00"), due: "2026-10-23", daysLeft: 25,
		},
		{
			// 23:30 UTC on Sunday 27 September is already 07:30 on Monday
			// 28 September in China, so the same count applies. Counted on
			// the UTC date (a Sunday off for Mid-Autumn) it would start on
			// 28 September and end a day early, on 22 October.
			name: "received just after midnight China time", received: time.Date(2026, 9, 27, 23, 30, 0, 0, time.UTC), due: "2026-10-23", daysLeft: 25,
		},
		{
			// Wednesday 30 September: 1-7 Oct off, 8 Oct (1), 9 Oct (2),
			// Sat 10 Oct (3), 12-16 Oct (4-8), 19-23 Oct (9-13), 26 Oct (14),
			// 27 Oct (15).
			name: "received on the eve of National Day", received: chinaTime("2026-09-30 16:00"), due: "2026-10-27", daysLeft: 27,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, deepinManifest, tt.received)
			const email = "Lin.Wei@Example.com"
			e.subject("deepin-1001", email, "", nil)
			id := e.submitPublic("access", "email", email, nil)
			v := e.verify(id, e.code(id))
			if v.State != dsr.StateVerified {
				t.Fatalf("verify: state %s", v.State)
			}
			e.act(id, "approve", nil)
			done := e.act(id, "complete", map[string]string{})
			if done.State != dsr.StateCompleted || done.Download == "" {
				t.Fatalf("complete = state %s, download %q", done.State, done.Download)
			}
			got := e.get(id)
			want := dsr.View{
				ID: id, Type: "access", State: dsr.StateCompleted, SubjectID: "deepin-1001", Channel: "public",
				DueDate: tt.due, DaysLeft: tt.daysLeft, Deadline: "15 working_days", CalendarVersion: calendar.Builtin().Version(),
			}
			if diff := cmp.Diff(want, got, cmpView, ignoreExplanation); diff != "" {
				t.Errorf("GET /v1/requests/%s (-want +got):\n%s", id, diff)
			}
			if got.CalendarVersion == "" {
				t.Error("calendar_version is empty")
			}
			if !got.ReceivedAt.Equal(tt.received) {
				t.Errorf("received_at = %s, want %s", got.ReceivedAt, tt.received)
			}
			if got := states(got.History); !cmp.Equal(got, []string{"awaiting_verification", "verified", "in_progress", "completed"}) {
				t.Errorf("history = %v", got)
			}
			e.noPI(email, "lin.wei@example.com")
		})
	}
}

// TestDeepinExportCarriesTheVault: deepin keeps the mobile number in the
// vault, sealed under the person's key. An access request's bundle gives
// it to the person in clear — in data.json with its field, category and
// when it was last written, and in report.html in the request's language —
// and it appears in no log and no other answer.
func TestDeepinExportCarriesTheVault(t *testing.T) {
	const email, mobile = "Lin.Wei@Example.com", "+8613800138000"
	tests := []struct {
		lang                   string
		category, heading, col string // what report.html says, in lang
	}{
		{lang: "en", category: "mobile phone number", heading: "Personal information kept sealed", col: "Last written"},
		{lang: "zh-CN", category: "手机号码", heading: "加密保管的个人信息", col: "最后写入"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			written := chinaTime("2026-06-01 10:00")
			e := newEnv(t, deepinManifest, written)
			e.subject("deepin-1001", email, "", nil)
			e.must(200, "PUT", "/v1/subjects/deepin-1001/vault/mobile_number", e.op, `{"value":"138 0013 8000"}`, nil)
			e.clock.Advance(time.Hour)
			id := e.submitPublic("access", "email", email, map[string]any{"language": tt.lang})
			e.verify(id, e.code(id))
			e.act(id, "approve", nil)
			done := e.act(id, "complete", map[string]string{})
			res := e.do("GET", done.Download, "", "")
			if res.Code != 200 {
				t.Fatalf("download = %d %s", res.Code, res.Body)
			}
			files := unzip(t, res.Body)
			var ex dsr.Export
			if err := json.Unmarshal(files["data.json"], &ex); err != nil {
				t.Fatalf("data.json: %v", err)
			}
			want := []dsr.ExportVaultValue{{Field: "mobile_number", Category: "basic.phone", CategoryName: tt.category, Value: mobile, UpdatedAt: written.UTC()}}
			if d := cmp.Diff(want, ex.Subject.Vault); d != "" {
				t.Errorf("data.json subject.vault (-want +got):\n%s", d)
			}
			report := html.UnescapeString(string(files["report.html"]))
			for _, s := range []string{tt.heading, tt.col, tt.category, mobile, "2026-06-01 02:00 UTC"} {
				if !strings.Contains(report, s) {
					t.Errorf("report.html lacks %q", s)
				}
			}
			e.noPI(email, mobile, "13800138000")
		})
	}
}

// TestDeepinCorrectionReachesTheVault: a correction of a vault field is
// kept in the vault, sealed like any write; a field held elsewhere is
// still passed to the operator.
func TestDeepinCorrectionReachesTheVault(t *testing.T) {
	e := newEnv(t, deepinManifest, chinaTime("2026-06-01 10:00"))
	e.subject("deepin-1001", "lin.wei@example.com", "", nil)
	e.must(200, "PUT", "/v1/subjects/deepin-1001/vault/mobile_number", e.op, `{"value":"13800138000"}`, nil)
	v := e.submitOperator(map[string]any{"type": "correction", "subject_id": "deepin-1001",
		"details": map[string]any{"correction": map[string]string{"mobile_number": "139 0013 9000", "nickname": "lin"}}})
	e.act(v.ID, "approve", nil)
	done := e.act(v.ID, "complete", map[string]string{})
	if done.State != dsr.StateCompleted {
		t.Fatalf("complete = state %s", done.State)
	}
	got := lastNote(e.get(v.ID))
	if want := "corrected; vault fields corrected: mobile_number; fields held outside Custos passed to the operator: nickname"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	var read struct{ Value string }
	e.must(200, "GET", "/v1/subjects/deepin-1001/vault/mobile_number?purpose=account-service", e.op, "", &read)
	if read.Value != "+86139****9000" {
		t.Errorf("the vault after the correction reads %q, want the corrected number masked, +86139****9000", read.Value)
	}
	e.noPI("13900139000", "13800138000")
}
