package consent_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
)

func TestPublishStarterReconsent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	ignoreTime := cmpopts.IgnoreFields(consent.Published{}, "EffectiveAt")
	v1 := e.publish(t, starterV1)
	if diff := cmp.Diff(consent.Published{Version: "3.0", Seq: 1, Created: true, Reconsent: []string{}, Accept: []string{}}, v1, ignoreTime); diff != "" {
		t.Errorf("first publication (-want +got):\n%s", diff)
	}
	e.subject(t, consent.SubjectInput{ID: "u-1", BirthDate: adultDate})
	e.subject(t, consent.SubjectInput{ID: "u-2", BirthDate: adultDate})
	e.record(t, "u-1", grant("analytics", "marketing"))
	sep := grant("location_tagging")
	sep.Separate = true
	e.record(t, "u-1", sep)
	e.record(t, "u-1", withdraw("push_notifications"))

	again := e.publish(t, starterV1)
	if diff := cmp.Diff(consent.Published{Version: "3.0", Seq: 1, Created: false, Reconsent: []string{}, Accept: []string{}}, again, ignoreTime); diff != "" {
		t.Errorf("republishing the same bytes (-want +got):\n%s", diff)
	}

	published := e.clock.Now()
	v2 := e.publish(t, starterV2)
	// A material change of contact with express_consent acceptance stales every consent
	// purpose, and every purpose on another basis but the law's needs 3.1 accepted; the
	// consent to provide analytics data to the new recipient is asked for on its own. The
	// starter promises 7 days' notice: 3.1 was announced and came into force after them.
	want := consent.Published{Version: "3.1", Seq: 2, Created: true, Material: true, Upcoming: true,
		Reconsent: []string{"sync_acceleration", "location_tagging", "personalised_recommendations", "analytics", "marketing", "advertising", "push_notifications", "recipient:insights-partner"},
		Accept:    []string{"account_registration", "note_sync", "note_publishing", "payments", "customer_support", "security", "crash_diagnostics"}}
	if diff := cmp.Diff(want, v2, ignoreTime); diff != "" {
		t.Fatalf("second publication (-want +got):\n%s", diff)
	}
	if d := v2.EffectiveAt.Sub(published); d < 7*24*time.Hour || d > 7*24*time.Hour+time.Minute {
		t.Errorf("3.1 takes effect %v after publication, want 7 days", d)
	}

	purposes := []string{"analytics", "marketing", "location_tagging", "push_notifications", "sync_acceleration", "personalised_recommendations", "note_sync", "legal_compliance"}
	res, err := e.svc.Check(ctx, admin, consent.CheckInput{SubjectID: "u-1", Purposes: purposes})
	if err != nil {
		t.Fatal(err)
	}
	if res.PolicyVersion != "3.1" {
		t.Errorf("PolicyVersion = %q, want 3.1", res.PolicyVersion)
	}
	wantReasons := map[string]string{
		"analytics":                    "reconsent_required",
		"marketing":                    "reconsent_required",
		"location_tagging":             "reconsent_required",
		"push_notifications":           "withdrawn", // a withdrawal stays a withdrawal
		"sync_acceleration":            "no_consent",
		"personalised_recommendations": "no_consent",                 // new in 3.1
		"note_sync":                    "policy_acceptance_required", // u-1 was there before 3.1
		"legal_compliance":             "legal_basis:legal_obligation",
	}
	if diff := cmp.Diff(wantReasons, decisionReasons(t, res)); diff != "" {
		t.Errorf("after 3.1 (-want +got):\n%s", diff)
	}

	// 3.1 provides analytics data to a recipient asking for a separate consent of its own:
	// the analytics consent is ordinary, the provision its own act.
	evs := e.record(t, "u-1", grant("analytics"))
	if evs[0].PolicyVersion != "3.1" {
		t.Errorf("regrant recorded under %q, want 3.1", evs[0].PolicyVersion)
	}
	toPartner := consent.CheckInput{SubjectID: "u-1", Purposes: []string{"analytics"}, Recipient: "insights-partner"}
	if res, err := e.svc.Check(ctx, admin, toPartner); err != nil || res.Decisions[0].Reason != "separate_consent_required" {
		t.Errorf("analytics to insights-partner: %+v, %v; want separate_consent_required", res.Decisions, err)
	}
	if _, err := e.svc.Record(ctx, admin, "u-1", grant("recipient:insights-partner")); code(err) != "separate_consent_required" {
		t.Errorf("provision granted as an ordinary consent: %s, want separate_consent_required", code(err))
	}
	partner := grant("recipient:insights-partner")
	partner.Separate = true
	if evs := e.record(t, "u-1", partner); evs[0].Recipient != "insights-partner" || evs[0].Purpose != "" || !evs[0].Separate {
		t.Errorf("separate consent to the recipient: %+v", evs[0])
	}
	if res, err := e.svc.Check(ctx, admin, toPartner); err != nil || !res.Decisions[0].Allowed || res.Decisions[0].Reason != "separate_consent" {
		t.Errorf("analytics to insights-partner after its consent: %+v, %v", res.Decisions, err)
	}
	e.record(t, "u-1", grant("marketing", "personalised_recommendations"))
	if _, err := e.svc.Accept(ctx, admin, "u-1", consent.AcceptanceInput{Version: "3.1", Method: "app_dialog", Language: "en", NoticeHash: notice}); err != nil {
		t.Fatal(err)
	}
	wantReasons["analytics"], wantReasons["marketing"], wantReasons["personalised_recommendations"] = "consent", "consent", "consent"
	wantReasons["note_sync"] = "legal_basis:contract"
	if diff := cmp.Diff(wantReasons, reasons(t, e.svc, "u-1", purposes...)); diff != "" {
		t.Errorf("after consenting and accepting again (-want +got):\n%s", diff)
	}

	// History keeps each event's own version.
	hist, err := e.svc.History(ctx, admin, "u-1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, h := range hist {
		versions = append(versions, h.Purpose+h.Recipient+"@"+h.PolicyVersion+":"+h.Action)
	}
	wantVersions := []string{"analytics@3.0:grant", "marketing@3.0:grant", "location_tagging@3.0:grant", "push_notifications@3.0:withdraw",
		"analytics@3.1:grant", "insights-partner@3.1:grant", "marketing@3.1:grant", "personalised_recommendations@3.1:grant", "@3.1:accept"}
	if diff := cmp.Diff(wantVersions, versions); diff != "" {
		t.Errorf("history versions (-want +got):\n%s", diff)
	}
	// Paging after a cursor.
	page, err := e.svc.History(ctx, admin, "u-1", hist[3].Seq, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hist[4:6], page); diff != "" {
		t.Errorf("history page (-want +got):\n%s", diff)
	}

	// Republishing the version in force is a no-op; the same label with other bytes is refused.
	src2, err := os.ReadFile(starterV2)
	if err != nil {
		t.Fatal(err)
	}
	same, err := e.svc.Publish(ctx, admin, "custos-v2.yaml", src2)
	if err != nil || same.Created || same.Seq != 2 {
		t.Errorf("republish 3.1: %+v, %v; want seq 2 not created", same, err)
	}
	edited := append(append([]byte{}, src2...), "\n# an edit that keeps the label\n"...)
	_, err = e.svc.Publish(ctx, admin, "custos-v2.yaml", edited)
	if fe, ok := fault.As(err); !ok || fe.Code != "version_exists" || fe.Kind != fault.Conflict {
		t.Errorf("same label, other bytes: %v, want a version_exists conflict", err)
	}
	src1, err := os.ReadFile(starterV1)
	if err != nil {
		t.Fatal(err)
	}
	edited1 := append(append([]byte{}, src1...), "\n# an edit to 3.0 after 3.1\n"...)
	if _, err := e.svc.Publish(ctx, admin, "custos.yaml", edited1); code(err) != "version_exists" {
		t.Errorf("old label, other bytes: %s, want version_exists", code(err))
	}
	if _, err := e.svc.Publish(ctx, admin, "broken.yaml", []byte("custos: 1\npolicy: [")); code(err) != "invalid_manifest" {
		t.Errorf("unparsable manifest: %s, want invalid_manifest", code(err))
	}

	vs, err := e.st.PolicyVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[1].Version != "3.1" {
		t.Errorf("published versions: %d, last %q; want 2, last 3.1", len(vs), vs[len(vs)-1].Version)
	}
	if pv, _, _, err := e.svc.Policy(); err != nil || pv.Seq != 2 {
		t.Errorf("version in force: %+v, %v; want seq 2", pv.Seq, err)
	}
	// u-2 never consented: nothing to re-ask.
	if got := reasons(t, e.svc, "u-2", "analytics")["analytics"]; got != "no_consent" {
		t.Errorf("u-2 analytics: %s, want no_consent", got)
	}
}

// TestPublishScopedReconsent publishes a change that stales one purpose only:
// the others keep their consent.
func TestPublishScopedReconsent(t *testing.T) {
	e := newEnv(t)
	e.publish(t, signalsV1)
	e.subject(t, consent.SubjectInput{ID: "u-1"})
	e.record(t, "u-1", grant("analytics", "advertising", "personalised_ads"))
	e.record(t, "u-1", withdraw("personalised_ads"))

	v2 := e.publish(t, signalsV2)
	if diff := cmp.Diff(consent.Published{Version: "1.1", Seq: 2, Created: true, Material: true, Reconsent: []string{"analytics"}, Accept: []string{}}, v2,
		cmpopts.IgnoreFields(consent.Published{}, "EffectiveAt")); diff != "" {
		t.Fatalf("publication (-want +got):\n%s", diff)
	}
	purposes := []string{"analytics", "advertising", "personalised_ads", "registration"}
	want := map[string]string{"analytics": "reconsent_required", "advertising": "consent", "personalised_ads": "withdrawn", "registration": "legal_basis:contract"}
	if diff := cmp.Diff(want, reasons(t, e.svc, "u-1", purposes...)); diff != "" {
		t.Errorf("after 1.1 (-want +got):\n%s", diff)
	}
	e.record(t, "u-1", grant("analytics"))
	want["analytics"] = "consent"
	if diff := cmp.Diff(want, reasons(t, e.svc, "u-1", purposes...)); diff != "" {
		t.Errorf("after consenting again (-want +got):\n%s", diff)
	}
}

// TestRepublishOlderVersion publishes 3.0 again, unchanged, while 3.1 is in
// force. Nothing is published, so nothing may say otherwise.
func TestRepublishOlderVersion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	e.publish(t, starterV2)
	head, err := e.st.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src1, err := os.ReadFile(starterV1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Publish(ctx, admin, "custos.yaml", src1)
	if err != nil {
		t.Fatalf("republish 3.0: %v", err)
	}
	if p.Created || p.Version != "3.0" || p.Seq != 1 {
		t.Errorf("republish 3.0 = %+v, want the stored 3.0, not created", p)
	}
	if pv, _, _, _ := e.svc.Policy(); pv.Version != "3.1" {
		t.Errorf("version in force after republishing 3.0: %s, want 3.1", pv.Version)
	}
	after := auditEntries(t, e.st, head.Seq)
	for _, x := range after {
		if x.Action == consent.ActionPolicyPublish {
			t.Errorf("the trail records a publication that did not happen: %s %s %s", x.Action, x.Object, x.Detail)
		}
	}
}
