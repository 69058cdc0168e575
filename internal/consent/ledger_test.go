package consent_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/receipt"
)

// starterSubjects registers, under the starter manifest (guardian consent
// below 14): an adult, a guardian, a child by birth date and one by age band
// (both linked to the guardian), a teenager over the threshold and a child
// without a guardian.
func starterSubjects(t *testing.T, e *env) {
	t.Helper()
	e.subject(t, consent.SubjectInput{ID: "u-adult", BirthDate: adultDate})
	e.subject(t, consent.SubjectInput{ID: "u-guardian", BirthDate: adultDate})
	e.subject(t, consent.SubjectInput{ID: "u-other-adult"})
	e.subject(t, consent.SubjectInput{ID: "u-child", BirthDate: childDate, GuardianID: "u-guardian"})
	e.subject(t, consent.SubjectInput{ID: "u-band", AgeBand: "under_14", GuardianID: "u-guardian"})
	e.subject(t, consent.SubjectInput{ID: "u-teen", AgeBand: "14_17"})
	e.subject(t, consent.SubjectInput{ID: "u-orphan", BirthDate: childDate})
	e.subject(t, consent.SubjectInput{ID: "u-grown", BirthDate: adultDate, GuardianID: "u-guardian"})
}

func TestRecordRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	starterSubjects(t, e)

	with := func(in consent.ConsentInput, f func(*consent.ConsentInput)) consent.ConsentInput {
		f(&in)
		return in
	}
	tests := []struct {
		name    string
		subject string
		in      consent.ConsentInput
		want    string
	}{
		{"unknown purpose", "u-adult", grant("nope"), "unknown_purpose"},
		{"unknown purpose among known ones", "u-adult", grant("analytics", "nope"), "unknown_purpose"},
		{"unknown purpose withdrawn", "u-adult", withdraw("nope"), "unknown_purpose"},
		{"grant for a contract purpose", "u-adult", grant("note_sync"), "consent_not_applicable"},
		{"grant for a legal obligation", "u-adult", grant("legal_compliance"), "consent_not_applicable"},
		{"withdraw from a contract purpose", "u-adult", withdraw("payments"), "consent_not_applicable"},
		{"separate purpose bundled", "u-adult", grant("analytics", "location_tagging"), "separate_consent_required"},
		{"separate purpose alone but not marked separate", "u-adult", grant("sync_acceleration"), "separate_consent_required"},
		{"provision to a recipient, not marked separate", "u-adult", grant("recipient:ad-measurement"), "separate_consent_required"},
		{"cross-border transfer, not marked separate", "u-adult", grant("transfer:sg-sync-relay"), "separate_consent_required"},
		{"public disclosure, not marked separate", "u-adult", grant("disclosure"), "separate_consent_required"},
		{"one separate grant covering two purposes", "u-adult", with(grant("location_tagging", "sync_acceleration"), func(in *consent.ConsentInput) { in.Separate = true }), "separate_grant_multiple"},
		{"one separate grant covering a purpose and a recipient", "u-adult", with(grant("advertising", "recipient:ad-measurement"), func(in *consent.ConsentInput) { in.Separate = true }), "separate_grant_multiple"},
		{"entrusted processing asks no consent of its own", "u-adult", with(grant("recipient:cloud-cn"), func(in *consent.ConsentInput) { in.Separate = true }), "consent_not_applicable"},
		{"unknown recipient", "u-adult", with(grant("recipient:nobody"), func(in *consent.ConsentInput) { in.Separate = true }), "unknown_act"},
		{"not a kind of act", "u-adult", with(grant("vendor:ad-measurement"), func(in *consent.ConsentInput) { in.Separate = true }), "unknown_purpose"},
		{"grant without notice hash", "u-adult", with(grant("analytics"), func(in *consent.ConsentInput) { in.NoticeHash = "" }), "notice_hash_required"},
		{"notice hash in upper case", "u-adult", with(grant("analytics"), func(in *consent.ConsentInput) { in.NoticeHash = strings.ToUpper(notice) }), "notice_hash_required"},
		{"notice hash too short", "u-adult", with(grant("analytics"), func(in *consent.ConsentInput) { in.NoticeHash = notice[:63] }), "notice_hash_required"},
		{"method unknown", "u-adult", with(grant("analytics"), func(in *consent.ConsentInput) { in.Method = "email" }), "invalid_method"},
		{"method missing", "u-adult", with(withdraw("analytics"), func(in *consent.ConsentInput) { in.Method = "" }), "invalid_method"},
		{"language unknown", "u-adult", with(grant("analytics"), func(in *consent.ConsentInput) { in.Language = "fr" }), "invalid_language"},
		{"evidence not an object", "u-adult", with(grant("analytics"), func(in *consent.ConsentInput) { in.Evidence = json.RawMessage(`["form-1"]`) }), "invalid_evidence"},
		{"evidence too large", "u-adult", with(grant("analytics"), func(in *consent.ConsentInput) {
			in.Evidence = json.RawMessage(`{"form":"` + strings.Repeat("x", 2048) + `"}`)
		}), "invalid_evidence"},
		{"purpose granted and withdrawn at once", "u-adult", consent.ConsentInput{Grant: []string{"analytics"}, Withdraw: []string{"analytics"}, Method: "api", Language: "en", NoticeHash: notice}, "duplicate_purpose"},
		{"nothing to record", "u-adult", consent.ConsentInput{Method: "api", Language: "en", NoticeHash: notice}, "nothing_to_record"},
		{"unknown signal only", "u-adult", with(consent.ConsentInput{Method: "banner", Language: "en"}, func(in *consent.ConsentInput) { in.Signals = []string{"sec-gpc-2"} }), "nothing_to_record"},
		{"child by birth date, own grant", "u-child", grant("analytics"), "guardian_consent_required"},
		{"child by age band, own grant", "u-band", grant("analytics"), "guardian_consent_required"},
		{"child without guardian", "u-orphan", grant("analytics"), "guardian_consent_required"},
		{"child, guardian method without guardian id", "u-child", with(grant("analytics"), func(in *consent.ConsentInput) { in.Method = "guardian" }), "guardian_not_linked"},
		{"child, another adult as guardian", "u-child", with(grant("analytics"), func(in *consent.ConsentInput) { in.Method, in.GuardianID = "guardian", "u-other-adult" }), "guardian_not_linked"},
		{"child without guardian, guardian method", "u-orphan", with(grant("analytics"), func(in *consent.ConsentInput) { in.Method, in.GuardianID = "guardian", "u-guardian" }), "guardian_not_linked"},
		{"former guardian of an adult, grant", "u-grown", with(grant("analytics"), func(in *consent.ConsentInput) { in.Method, in.GuardianID = "guardian", "u-guardian" }), "guardian_not_applicable"},
		{"former guardian of an adult, withdrawal", "u-grown", with(withdraw("analytics"), func(in *consent.ConsentInput) { in.Method, in.GuardianID = "guardian", "u-guardian" }), "guardian_not_applicable"},
		{"adult with a guardian id", "u-adult", with(grant("analytics"), func(in *consent.ConsentInput) { in.GuardianID = "u-guardian" }), "guardian_not_linked"},
		{"subject not registered", "u-ghost", grant("analytics"), "subject_not_found"},
		{"subject not registered, withdrawal", "u-ghost", withdraw("analytics"), "subject_not_found"},
		{"email as subject id", "alice.wong@example.com", grant("analytics"), "subject_id_is_pi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, err := e.st.AuditHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			evs, err := e.svc.Record(ctx, admin, tt.subject, tt.in)
			if got := code(err); got != tt.want {
				t.Fatalf("Record = %s (events %+v), want %s", got, evs, tt.want)
			}
			noLeak(t, "error", err.Error())

			// A refused write is recorded as such, naming the code and nothing else.
			after := auditEntries(t, e.st, head.Seq)
			var got []string
			for _, x := range after {
				if !strings.HasPrefix(x.Action, "check.") {
					got = append(got, x.Action+" "+x.Object+" "+x.Outcome+" "+x.Detail)
				}
			}
			want := []string{"consent.rejected subject:" + tt.subject + " denied " + `{"code":"` + tt.want + `"}`}
			if tt.want == "subject_id_is_pi" {
				want = nil // the id itself is personal data: nothing is written
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("audit entries for the refusal (-want +got):\n%s", diff)
			}
		})
	}

	// Nothing refused reached the ledger.
	for _, id := range []string{"u-adult", "u-child", "u-band", "u-orphan"} {
		evs, err := e.svc.History(ctx, admin, id, 0, 100)
		if err != nil || len(evs) != 0 {
			t.Errorf("history of %s after refusals: %+v, %v; want empty", id, evs, err)
		}
	}
	want := map[string]string{"analytics": "no_consent", "location_tagging": "no_consent", "advertising": "no_consent"}
	if diff := cmp.Diff(want, reasons(t, e.svc, "u-adult", "analytics", "location_tagging", "advertising")); diff != "" {
		t.Errorf("u-adult after refusals (-want +got):\n%s", diff)
	}
}

// event is the part of a ledger event a flow decides.
type event struct {
	Purpose, Action, PolicyVersion, Method, GuardianID, Signal string
	Separate                                                   bool
}

func events(evs []consent.ConsentEvent) []event {
	out := []event{}
	for _, e := range evs {
		out = append(out, event{e.Purpose, e.Action, e.PolicyVersion, e.Method, e.GuardianID, e.Signal, e.Separate})
	}
	return out
}

func TestGrantWithdrawFlows(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	starterSubjects(t, e)

	byGuardian := func(in consent.ConsentInput) consent.ConsentInput {
		in.Method, in.GuardianID = "guardian", "u-guardian"
		return in
	}
	separate := func(in consent.ConsentInput) consent.ConsentInput {
		in.Separate = true
		return in
	}
	purposes := []string{"analytics", "marketing", "location_tagging", "note_sync", "minor_protection"}
	type step struct {
		in     consent.ConsentInput
		events []event
		want   map[string]string // decisions afterwards
	}
	flows := []struct {
		name    string
		subject string
		before  map[string]string
		steps   []step
	}{
		{
			name:    "adult grants then withdraws",
			subject: "u-adult",
			before:  map[string]string{"analytics": "no_consent", "marketing": "no_consent", "location_tagging": "no_consent", "note_sync": "legal_basis:contract", "minor_protection": "legal_basis:legal_obligation"},
			steps: []step{
				{
					in:     grant("analytics", "marketing"),
					events: []event{{"analytics", "grant", "3.0", "app_dialog", "", "", false}, {"marketing", "grant", "3.0", "app_dialog", "", "", false}},
					want:   map[string]string{"analytics": "consent", "marketing": "consent", "location_tagging": "no_consent", "note_sync": "legal_basis:contract", "minor_protection": "legal_basis:legal_obligation"},
				},
				{
					in:     separate(grant("location_tagging")),
					events: []event{{"location_tagging", "grant", "3.0", "app_dialog", "", "", true}},
					want:   map[string]string{"analytics": "consent", "marketing": "consent", "location_tagging": "consent", "note_sync": "legal_basis:contract", "minor_protection": "legal_basis:legal_obligation"},
				},
				{
					in:     withdraw("analytics", "location_tagging"),
					events: []event{{"analytics", "withdraw", "3.0", "app_dialog", "", "", false}, {"location_tagging", "withdraw", "3.0", "app_dialog", "", "", false}},
					want:   map[string]string{"analytics": "withdrawn", "marketing": "consent", "location_tagging": "withdrawn", "note_sync": "legal_basis:contract", "minor_protection": "legal_basis:legal_obligation"},
				},
				{
					in:     grant("analytics"),
					events: []event{{"analytics", "grant", "3.0", "app_dialog", "", "", false}},
					want:   map[string]string{"analytics": "consent", "marketing": "consent", "location_tagging": "withdrawn", "note_sync": "legal_basis:contract", "minor_protection": "legal_basis:legal_obligation"},
				},
			},
		},
		{
			name:    "child by birth date: guardian grants, child withdraws",
			subject: "u-child",
			before:  map[string]string{"analytics": "guardian_consent_required", "marketing": "guardian_consent_required", "location_tagging": "guardian_consent_required", "note_sync": "guardian_consent_required", "minor_protection": "legal_basis:legal_obligation"},
			steps: []step{
				{
					in:     byGuardian(grant("analytics")),
					events: []event{{"analytics", "grant", "3.0", "guardian", "u-guardian", "", false}},
					want:   map[string]string{"analytics": "consent", "marketing": "guardian_consent_required", "location_tagging": "guardian_consent_required", "note_sync": "guardian_consent_required", "minor_protection": "legal_basis:legal_obligation"},
				},
				{
					in:     separate(byGuardian(grant("location_tagging"))),
					events: []event{{"location_tagging", "grant", "3.0", "guardian", "u-guardian", "", true}},
					want:   map[string]string{"analytics": "consent", "marketing": "guardian_consent_required", "location_tagging": "consent", "note_sync": "guardian_consent_required", "minor_protection": "legal_basis:legal_obligation"},
				},
				{
					// A minor may always withdraw without the guardian.
					in:     withdraw("analytics"),
					events: []event{{"analytics", "withdraw", "3.0", "app_dialog", "", "", false}},
					want:   map[string]string{"analytics": "withdrawn", "marketing": "guardian_consent_required", "location_tagging": "consent", "note_sync": "guardian_consent_required", "minor_protection": "legal_basis:legal_obligation"},
				},
			},
		},
		{
			name:    "child by age band: guardian grants and withdraws",
			subject: "u-band",
			before:  map[string]string{"analytics": "guardian_consent_required", "marketing": "guardian_consent_required", "location_tagging": "guardian_consent_required", "note_sync": "guardian_consent_required", "minor_protection": "legal_basis:legal_obligation"},
			steps: []step{
				{
					in:     byGuardian(grant("marketing")),
					events: []event{{"marketing", "grant", "3.0", "guardian", "u-guardian", "", false}},
					want:   map[string]string{"analytics": "guardian_consent_required", "marketing": "consent", "location_tagging": "guardian_consent_required", "note_sync": "guardian_consent_required", "minor_protection": "legal_basis:legal_obligation"},
				},
				{
					in:     byGuardian(withdraw("marketing")),
					events: []event{{"marketing", "withdraw", "3.0", "guardian", "u-guardian", "", false}},
					want:   map[string]string{"analytics": "guardian_consent_required", "marketing": "withdrawn", "location_tagging": "guardian_consent_required", "note_sync": "guardian_consent_required", "minor_protection": "legal_basis:legal_obligation"},
				},
			},
		},
		{
			name:    "teenager over the threshold grants alone",
			subject: "u-teen",
			before:  map[string]string{"analytics": "no_consent", "marketing": "no_consent", "location_tagging": "no_consent", "note_sync": "legal_basis:contract", "minor_protection": "legal_basis:legal_obligation"},
			steps: []step{
				{
					in:     grant("analytics"),
					events: []event{{"analytics", "grant", "3.0", "app_dialog", "", "", false}},
					want:   map[string]string{"analytics": "consent", "marketing": "no_consent", "location_tagging": "no_consent", "note_sync": "legal_basis:contract", "minor_protection": "legal_basis:legal_obligation"},
				},
			},
		},
	}
	for _, fl := range flows {
		t.Run(fl.name, func(t *testing.T) {
			if diff := cmp.Diff(fl.before, reasons(t, e.svc, fl.subject, purposes...)); diff != "" {
				t.Fatalf("before (-want +got):\n%s", diff)
			}
			var all []consent.ConsentEvent
			for i, st := range fl.steps {
				evs := e.record(t, fl.subject, st.in)
				if diff := cmp.Diff(st.events, events(evs)); diff != "" {
					t.Errorf("step %d: events (-want +got):\n%s", i, diff)
				}
				for _, ev := range evs {
					if !strings.HasPrefix(ev.ID, "ce_") || ev.At == "" {
						t.Errorf("step %d: event %+v lacks an id or time", i, ev)
					}
				}
				all = append(all, evs...)
				if diff := cmp.Diff(st.want, reasons(t, e.svc, fl.subject, purposes...)); diff != "" {
					t.Errorf("step %d: decisions (-want +got):\n%s", i, diff)
				}
			}
			hist, err := e.svc.History(ctx, admin, fl.subject, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			// Record's answer lacks the ledger sequence number (TestRecordReturnsLedgerSeq).
			if diff := cmp.Diff(all, hist, cmpopts.IgnoreFields(consent.ConsentEvent{}, "Seq")); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			for i := 1; i < len(hist); i++ {
				if hist[i].Seq <= hist[i-1].Seq {
					t.Errorf("history sequence numbers not increasing: %d then %d", hist[i-1].Seq, hist[i].Seq)
				}
			}
		})
	}
}

// TestRecordReturnsLedgerSeq compares what Record answers with what the
// ledger holds. The API returns Record's events as the response to a consent
// write, and seq is the cursor History pages with.
func TestRecordReturnsLedgerSeq(t *testing.T) {
	e := newEnv(t)
	e.publish(t, starterV1)
	e.subject(t, consent.SubjectInput{ID: "u-1"})
	e.record(t, "u-1", grant("marketing"))
	got := e.record(t, "u-1", grant("analytics", "push_notifications"))
	hist, err := e.svc.History(context.Background(), admin, "u-1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hist[1:], got); diff != "" {
		t.Errorf("Record's events differ from the ledger (-ledger +record):\n%s", diff)
	}
}

func TestAgeAndRestrictionChanges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	e.subject(t, consent.SubjectInput{ID: "u-1", GuardianID: ""})
	e.subject(t, consent.SubjectInput{ID: "u-guardian"})
	e.record(t, "u-1", grant("analytics"))
	check := func(step string, want map[string]string) {
		t.Helper()
		if diff := cmp.Diff(want, reasons(t, e.svc, "u-1", "analytics", "marketing", "legal_compliance", "payments")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", step, diff)
		}
	}
	check("adult with consent", map[string]string{"analytics": "consent", "marketing": "no_consent", "legal_compliance": "legal_basis:legal_obligation", "payments": "legal_basis:contract"})

	band, guardian := "under_14", "u-guardian"
	v, err := e.svc.UpdateSubject(ctx, admin, "u-1", consent.SubjectPatch{AgeBand: &band, GuardianID: &guardian})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Minor || v.GuardianID != "u-guardian" {
		t.Errorf("view after the update: %+v, want a minor with guardian u-guardian", v)
	}
	// A child's processing on every basis but the law's waits for the guardian.
	check("now known to be a child", map[string]string{"analytics": "guardian_consent_required", "marketing": "guardian_consent_required", "legal_compliance": "legal_basis:legal_obligation", "payments": "guardian_consent_required"})

	if _, err := e.svc.SetRestricted(ctx, admin, "u-1", true, "accuracy disputed"); err != nil {
		t.Fatal(err)
	}
	check("restricted", map[string]string{"analytics": "restricted", "marketing": "restricted", "legal_compliance": "legal_basis:legal_obligation", "payments": "restricted"})

	if _, err := e.svc.SetRestricted(ctx, admin, "u-1", false, "resolved"); err != nil {
		t.Fatal(err)
	}
	adult := "adult"
	if _, err := e.svc.UpdateSubject(ctx, admin, "u-1", consent.SubjectPatch{AgeBand: &adult}); err != nil {
		t.Fatal(err)
	}
	check("adult again, unrestricted", map[string]string{"analytics": "consent", "marketing": "no_consent", "legal_compliance": "legal_basis:legal_obligation", "payments": "legal_basis:contract"})

	nobody := "u-nobody"
	if _, err := e.svc.UpdateSubject(ctx, admin, "u-1", consent.SubjectPatch{GuardianID: &nobody}); code(err) != "invalid_guardian" {
		t.Errorf("UpdateSubject(unknown guardian) = %s, want invalid_guardian", code(err))
	}
	if _, err := e.svc.UpdateSubject(ctx, admin, "u-none", consent.SubjectPatch{AgeBand: &adult}); code(err) != "subject_not_found" {
		t.Errorf("UpdateSubject(unknown subject) = %s, want subject_not_found", code(err))
	}
	if _, err := e.svc.SetRestricted(ctx, admin, "u-none", true, ""); code(err) != "subject_not_found" {
		t.Errorf("SetRestricted(unknown subject) = %s, want subject_not_found", code(err))
	}
}

func TestBrowserSignals(t *testing.T) {
	type row struct {
		name     string
		signals  []string
		pre      []consent.ConsentInput // recorded first, without signals
		in       consent.ConsentInput
		events   []event // nil: want err
		err      string
		check    []string
		decision map[string]string
	}
	sep := func(in consent.ConsentInput) consent.ConsentInput { in.Separate = true; return in }
	ev := func(purpose, action, signal string) event {
		return event{Purpose: purpose, Action: action, Method: "banner", Signal: signal}
	}
	banner := func(in consent.ConsentInput) consent.ConsentInput { in.Method = "banner"; return in }
	manifests := []struct {
		path string
		rows []row
	}{
		{
			// The starter honours GPC and DNT; advertising is its only purpose with signals.
			path: starterV1,
			rows: []row{
				{
					name: "gpc drops the grant for advertising and withdraws it", signals: []string{"gpc"},
					in:       banner(grant("analytics", "advertising")),
					events:   []event{ev("analytics", "grant", ""), ev("advertising", "withdraw", "gpc")},
					check:    []string{"analytics", "advertising", "marketing"},
					decision: map[string]string{"analytics": "consent", "advertising": "withdrawn", "marketing": "no_consent"},
				},
				{
					name: "gpc withdraws an earlier grant", signals: []string{"gpc"},
					pre:      []consent.ConsentInput{sep(grant("advertising")), grant("marketing")},
					in:       banner(consent.ConsentInput{Language: "en"}),
					events:   []event{ev("advertising", "withdraw", "gpc")},
					check:    []string{"advertising", "marketing"},
					decision: map[string]string{"advertising": "withdrawn", "marketing": "consent"},
				},
				{
					name: "gpc with an explicit withdrawal of the same purpose", signals: []string{"gpc"},
					in:     banner(withdraw("advertising")),
					events: []event{ev("advertising", "withdraw", "gpc")},
				},
				{
					name: "gpc with another withdrawal", signals: []string{"gpc"},
					in:     banner(withdraw("push_notifications")),
					events: []event{ev("advertising", "withdraw", "gpc"), ev("push_notifications", "withdraw", "")},
				},
				{
					name: "dnt honoured", signals: []string{"dnt"},
					in:       banner(grant("advertising")),
					events:   []event{ev("advertising", "withdraw", "dnt"), ev("analytics", "withdraw", "dnt")},
					check:    []string{"advertising", "analytics"},
					decision: map[string]string{"advertising": "withdrawn", "analytics": "withdrawn"},
				},
				{
					name: "first honoured signal names the event", signals: []string{"dnt", "gpc"},
					in:     banner(consent.ConsentInput{Language: "en"}),
					events: []event{ev("advertising", "withdraw", "dnt"), ev("analytics", "withdraw", "dnt")},
				},
				{
					name: "unknown signal ignored", signals: []string{"sec-ch-nope"},
					in:     sep(banner(grant("advertising"))),
					events: []event{{Purpose: "advertising", Action: "grant", Method: "banner", Separate: true}},
				},
				{
					name: "no signal", signals: nil,
					in:  banner(consent.ConsentInput{Language: "en"}),
					err: "nothing_to_record",
				},
			},
		},
		{
			// signals.yaml honours GPC and ignores DNT; advertising and personalised_ads have signals.
			path: signalsV1,
			rows: []row{
				{
					name: "gpc withdraws exactly the purposes with signals", signals: []string{"gpc"},
					in:       banner(grant("analytics", "advertising", "personalised_ads")),
					events:   []event{ev("analytics", "grant", ""), ev("advertising", "withdraw", "gpc"), ev("personalised_ads", "withdraw", "gpc")},
					check:    []string{"analytics", "advertising", "personalised_ads", "registration"},
					decision: map[string]string{"analytics": "consent", "advertising": "withdrawn", "personalised_ads": "withdrawn", "registration": "legal_basis:contract"},
				},
				{
					name: "gpc with a withdrawal, in purpose order", signals: []string{"gpc"},
					in:     banner(withdraw("analytics")),
					events: []event{ev("advertising", "withdraw", "gpc"), ev("analytics", "withdraw", ""), ev("personalised_ads", "withdraw", "gpc")},
				},
				{
					name: "dnt ignored", signals: []string{"dnt"},
					in:       banner(grant("advertising")),
					events:   []event{ev("advertising", "grant", "")},
					check:    []string{"advertising"},
					decision: map[string]string{"advertising": "consent"},
				},
				{
					name: "dnt ignored, nothing else asked", signals: []string{"dnt"},
					in:  banner(consent.ConsentInput{Language: "en"}),
					err: "nothing_to_record",
				},
				{
					name: "dnt ignored, gpc honoured", signals: []string{"dnt", "gpc"},
					in:     banner(consent.ConsentInput{Language: "en"}),
					events: []event{ev("advertising", "withdraw", "gpc"), ev("personalised_ads", "withdraw", "gpc")},
				},
			},
		},
	}
	for _, m := range manifests {
		t.Run(m.path, func(t *testing.T) {
			e := newEnv(t)
			pub := e.publish(t, m.path)
			for i, tt := range m.rows {
				t.Run(tt.name, func(t *testing.T) {
					id := "u-sig-" + string(rune('a'+i))
					e.subject(t, consent.SubjectInput{ID: id})
					for _, p := range tt.pre {
						e.record(t, id, p)
					}
					in := tt.in
					in.Signals = tt.signals
					evs, err := e.svc.Record(context.Background(), admin, id, in)
					if tt.err != "" || err != nil {
						if code(err) != tt.err {
							t.Fatalf("Record = %s (events %+v), want %q", code(err), evs, tt.err)
						}
						return
					}
					for i := range tt.events {
						tt.events[i].PolicyVersion = pub.Version
					}
					if diff := cmp.Diff(tt.events, events(evs)); diff != "" {
						t.Errorf("events (-want +got):\n%s", diff)
					}
					if tt.check != nil {
						if diff := cmp.Diff(tt.decision, reasons(t, e.svc, id, tt.check...)); diff != "" {
							t.Errorf("decisions (-want +got):\n%s", diff)
						}
					}
				})
			}
		})
	}
}

func TestReceipts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	e.subject(t, consent.SubjectInput{ID: "u-r1", Identities: []consent.IdentityInput{{Kind: "email", Value: rawEmail, Keep: true}, {Kind: "phone", Value: rawPhone}}})
	e.subject(t, consent.SubjectInput{ID: "u-r2"})
	granted := e.record(t, "u-r1", grant("analytics"))
	sepGrant := grant("location_tagging")
	sepGrant.Separate = true
	separate := e.record(t, "u-r1", sepGrant)
	withdrawn := e.record(t, "u-r1", withdraw("analytics"))
	other := e.record(t, "u-r2", grant("marketing"))
	// Receipts describe the policy the event was recorded under, even after a new one.
	e.publish(t, starterV2)

	jwks, err := e.signer.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Principal, Event, Action, PolicyVersion, NoticeHash, Method, Language string
		Separate                                                              bool
	}
	tests := []struct {
		name    string
		subject string
		event   string
		want    summary
	}{
		{"grant", "u-r1", granted[0].ID, summary{"u-r1", granted[0].ID, "grant", "3.0", notice, "app_dialog", "en", false}},
		{"separate grant", "u-r1", separate[0].ID, summary{"u-r1", separate[0].ID, "grant", "3.0", notice, "app_dialog", "en", true}},
		{"withdrawal", "u-r1", withdrawn[0].ID, summary{"u-r1", withdrawn[0].ID, "withdraw", "3.0", "", "app_dialog", "en", false}},
		{"another subject", "u-r2", other[0].ID, summary{"u-r2", other[0].ID, "grant", "3.0", notice, "app_dialog", "en", false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := e.svc.Receipt(ctx, admin, tt.subject, tt.event)
			if err != nil {
				t.Fatal(err)
			}
			r, err := receipt.Verify(jwks, tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got := summary{r.PIIPrincipalID, r.Custos.Event, r.Custos.Action, r.Custos.PolicyVersion, r.Custos.NoticeHash, r.Custos.Method, r.Language, r.Custos.Separate}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("receipt (-want +got):\n%s", diff)
			}
			if r.CollectionMethod != "app_dialog" || r.JTI != r.ConsentReceiptID || r.JTI == "" {
				t.Errorf("receipt: method %q jti %q id %q", r.CollectionMethod, r.JTI, r.ConsentReceiptID)
			}
			noLeak(t, "receipt", tok+mustJSON(t, r))
		})
	}

	other2, err := receipt.GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	otherSigner, err := receipt.NewSigner(other2)
	if err != nil {
		t.Fatal(err)
	}
	otherJWKS, err := otherSigner.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.svc.Receipt(ctx, admin, "u-r1", granted[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := receipt.Verify(otherJWKS, tok); err == nil {
		t.Error("a receipt verified with another signer's keys")
	}
	tampered := []byte(tok)
	tampered[len(tampered)-5] ^= 1
	if _, err := receipt.Verify(jwks, string(tampered)); err == nil {
		t.Error("a tampered receipt verified")
	}

	refusals := []struct {
		name, subject, event, want string
	}{
		{"unknown event", "u-r1", "ce_nope", "event_not_found"},
		{"another subject's event", "u-r1", other[0].ID, "event_not_found"},
		{"email as subject id", "alice.wong@example.com", granted[0].ID, "subject_id_is_pi"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.svc.Receipt(ctx, admin, tt.subject, tt.event); code(err) != tt.want {
				t.Errorf("Receipt = %s, want %s", code(err), tt.want)
			}
		})
	}

	// Every issued receipt is in the trail, by event id.
	entries := auditEntries(t, e.st, 0)
	n := 0
	for _, x := range entries {
		if x.Action == "consent.receipt" {
			n++
			if !strings.Contains(x.Detail, `"event":"ce_`) || x.Outcome != audit.OutcomeOK {
				t.Errorf("receipt entry %+v", x)
			}
		}
	}
	if n != len(tests)+1 {
		t.Errorf("%d receipt entries, want %d", n, len(tests)+1)
	}
}

func TestReceiptsWithoutSigner(t *testing.T) {
	e := newEnv(t)
	e.opt.Signer = nil
	_, svc := e.open(t)
	publishOn(t, svc, newClock(), starterV1)
	if _, err := svc.CreateSubject(context.Background(), admin, consent.SubjectInput{ID: "u-1"}); err != nil {
		t.Fatal(err)
	}
	evs := recordOn(t, svc, "u-1", grant("analytics"))
	if _, err := svc.Receipt(context.Background(), admin, "u-1", evs[0].ID); code(err) != "receipts_unavailable" {
		t.Errorf("Receipt without a signer = %s, want receipts_unavailable", code(err))
	}
}

// TestSignalObjects: a browser signal refuses a purpose by what it rests on
// for the person: a PRC resident's consent is withdrawn, an EU resident's
// processing on legitimate interests is objected to. The event names the
// signal either way, and the decision point answers accordingly.
func TestSignalObjects(t *testing.T) {
	e := newEnv(t)
	e.publish(t, "testdata/signals-eu.yaml")
	e.subject(t, consent.SubjectInput{ID: "u-cn", Jurisdiction: "CN"})
	e.subject(t, consent.SubjectInput{ID: "u-eu", Jurisdiction: "EU"})
	gpc := func(in consent.ConsentInput) consent.ConsentInput { in.Signals = []string{"gpc"}; return in }
	cn := e.record(t, "u-cn", gpc(grant("analytics")))
	eu := e.record(t, "u-eu", gpc(grant("analytics")))
	want := []event{{"analytics", "grant", "1.0-eu", "app_dialog", "", "", false}, {"advertising", "withdraw", "1.0-eu", "app_dialog", "", "gpc", false},
		{"personalised_ads", "withdraw", "1.0-eu", "app_dialog", "", "gpc", false}}
	if diff := cmp.Diff(want, events(cn)); diff != "" {
		t.Errorf("PRC resident's events (-want +got):\n%s", diff)
	}
	want[2].Action = "object"
	if diff := cmp.Diff(want, events(eu)); diff != "" {
		t.Errorf("EU resident's events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"personalised_ads": "withdrawn"}, reasons(t, e.svc, "u-cn", "personalised_ads")); diff != "" {
		t.Errorf("PRC resident (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"personalised_ads": "objected"}, reasons(t, e.svc, "u-eu", "personalised_ads")); diff != "" {
		t.Errorf("EU resident (-want +got):\n%s", diff)
	}
}
