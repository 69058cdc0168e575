package client_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/client"
)

// consentSubject registers a subject for a test.
func consentSubject(t *testing.T, s *server, id, email string) {
	t.Helper()
	in := client.SubjectInput{SubjectID: id, AgeBand: "adult", Language: "en"}
	if email != "" {
		in.Identities = []client.IdentityInput{{Kind: client.KindEmail, Value: email, Keep: true}}
	}
	if _, err := s.service.CreateSubject(t.Context(), in); err != nil {
		t.Fatalf("CreateSubject %s: %v", id, err)
	}
}

var notice = client.NoticeHash("We use analytics to improve Qingyun Notes. You can withdraw at any time.")

func testConsents(t *testing.T, s *server) {
	ctx := t.Context()
	consentSubject(t, s, "ct-2", "ct.two@example.com")
	pol, err := s.service.CurrentPolicy(ctx)
	if err != nil || !pol.InForce || pol.Version == "" {
		t.Fatalf("CurrentPolicy = %+v, %v", pol, err)
	}
	versions, err := s.service.PolicyVersions(ctx)
	if err != nil {
		t.Fatalf("PolicyVersions: %v", err)
	}
	var inForce []string
	for _, v := range versions {
		if v.InForce != (v.State == "in_force") || v.Seq == 0 || v.SHA256 == "" {
			t.Errorf("version %+v", v)
		}
		if v.InForce {
			inForce = append(inForce, v.Version)
		}
	}
	if diff := cmp.Diff([]string{pol.Version}, inForce); diff != "" {
		t.Errorf("versions in force (-want +got):\n%s", diff)
	}

	evs, err := s.service.RecordConsent(ctx, "ct-2", client.ConsentInput{Grant: []string{"analytics"}, Method: client.MethodBanner, Language: "en", NoticeHash: notice,
		Evidence: []byte(`{"form":"f-7"}`)})
	if err != nil {
		t.Fatalf("RecordConsent: %v", err)
	}
	if len(evs) != 1 {
		t.Fatalf("events = %+v", evs)
	}
	grant := evs[0]
	wantEvent := client.ConsentEvent{ID: grant.ID, Seq: grant.Seq, Purpose: "analytics", Action: client.ActionGrant, PolicyVersion: pol.Version, Method: "banner",
		Language: "en", NoticeHash: notice, Evidence: []byte(`{"form":"f-7"}`), At: grant.At}
	if diff := cmp.Diff(wantEvent, grant); diff != "" {
		t.Errorf("grant event (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(grant.ID, "ce_") || time.Since(grant.At) > time.Hour {
		t.Errorf("event id %q at %v", grant.ID, grant.At)
	}

	res, err := s.service.Check(ctx, client.CheckInput{SubjectID: "ct-2", Purposes: []string{"analytics", "marketing", "account_registration"}})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	want := client.CheckResult{SubjectID: "ct-2", KnownSubject: true, PolicyVersion: pol.Version, Decisions: []client.Decision{
		{Purpose: "analytics", Allowed: true, Reason: "consent"},
		{Purpose: "marketing", Allowed: false, Reason: "no_consent"},
		{Purpose: "account_registration", Allowed: true, Reason: "legal_basis:contract"},
	}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Check (-want +got):\n%s", diff)
	}
	if !res.Allowed("analytics") || res.Allowed("marketing") || res.Allowed("not-asked") {
		t.Error("CheckResult.Allowed disagrees with the decisions")
	}
	// By identity, the same person; an unknown one is nobody.
	res, err = s.service.Check(ctx, client.CheckInput{Identity: &client.IdentityInput{Kind: client.KindEmail, Value: "CT.Two@example.com"}, Purposes: []string{"analytics"}})
	if err != nil || res.SubjectID != "ct-2" || !res.Allowed("analytics") {
		t.Errorf("Check by identity = %+v, %v", res, err)
	}
	res, err = s.service.Check(ctx, client.CheckInput{SubjectID: "ct-nobody", Purposes: []string{"analytics"}})
	if err != nil || res.KnownSubject || res.Allowed("analytics") {
		t.Errorf("Check of no one = %+v, %v", res, err)
	}
	_, err = s.service.Check(ctx, client.CheckInput{SubjectID: "ct-2"})
	wantErr(t, "Check without purposes", err, client.ErrInvalid, "invalid_purposes")

	evs, err = s.service.RecordConsent(ctx, "ct-2", client.ConsentInput{Withdraw: []string{"analytics"}, Method: client.MethodAppDialog, Language: "en", NoticeHash: notice})
	if err != nil || len(evs) != 1 || evs[0].Action != client.ActionWithdraw || evs[0].Seq <= grant.Seq {
		t.Fatalf("withdraw = %+v, %v", evs, err)
	}
	if d, _ := mustCheck(t, s, "ct-2", "analytics").Decision("analytics"); d.Reason != "withdrawn" {
		t.Errorf("after the withdrawal: %+v", d)
	}

	// A browser's GPC signal, relayed, turns the grant of a purpose the
	// manifest ties to it into a withdrawal.
	evs, err = s.service.RecordConsent(ctx, "ct-2", client.ConsentInput{Grant: []string{"advertising"}, Method: client.MethodBanner, Language: "en", NoticeHash: notice, GPC: true})
	if err != nil {
		t.Fatalf("RecordConsent with GPC: %v", err)
	}
	gpc := slices.IndexFunc(evs, func(e client.ConsentEvent) bool { return e.Purpose == "advertising" })
	if gpc < 0 || evs[gpc].Action != client.ActionWithdraw || evs[gpc].Signal != "gpc" {
		t.Errorf("GPC events = %+v", evs)
	}

	_, err = s.service.RecordConsent(ctx, "ct-2", client.ConsentInput{Grant: []string{"no-such-purpose"}, Method: client.MethodBanner, Language: "en", NoticeHash: notice})
	if e := wantErr(t, "an unknown purpose", err, client.ErrInvalid, client.CodeUnknownPurpose); e.Field != "grant" {
		t.Errorf("field = %q, want grant", e.Field)
	}
	_, err = s.service.RecordConsent(ctx, "ct-2", client.ConsentInput{Grant: []string{"analytics"}, Method: client.MethodBanner, Language: "en"})
	wantErr(t, "a grant without a notice hash", err, client.ErrInvalid, client.CodeNoticeHashRequired)
	_, err = s.service.RecordConsent(ctx, "ct-2", client.ConsentInput{Grant: []string{"note_sync"}, Method: client.MethodBanner, Language: "en", NoticeHash: notice})
	wantErr(t, "consent to a contract purpose", err, client.ErrInvalid, client.CodeConsentNotApplicable)
	_, err = s.service.RecordConsent(ctx, "ct-2", client.ConsentInput{Grant: []string{"location_tagging"}, Method: client.MethodBanner, Language: "en", NoticeHash: notice})
	wantErr(t, "a separate consent asked together", err, client.ErrInvalid, client.CodeSeparateConsentRequired)
	_, err = s.service.RecordConsent(ctx, "ct-nobody", client.ConsentInput{Grant: []string{"analytics"}, Method: client.MethodBanner, Language: "en", NoticeHash: notice})
	wantErr(t, "consent of no one", err, client.ErrNotFound, client.CodeSubjectNotFound)

	// The ledger, a page at a time and whole.
	var paged []client.ConsentEvent
	opt := client.ListOptions{Limit: 1}
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("ListConsents does not end")
		}
		p, err := s.service.ListConsents(ctx, "ct-2", opt)
		if err != nil {
			t.Fatalf("ListConsents: %v", err)
		}
		if len(p.Items) > 1 {
			t.Fatalf("a page of %d items, limit 1", len(p.Items))
		}
		paged = append(paged, p.Items...)
		if p.NextCursor == "" {
			break
		}
		opt.Cursor = p.NextCursor
	}
	var all []client.ConsentEvent
	for e, err := range s.service.ConsentHistory(ctx, "ct-2") {
		if err != nil {
			t.Fatalf("ConsentHistory: %v", err)
		}
		all = append(all, e)
	}
	if len(all) < 3 || all[0].ID != grant.ID {
		t.Errorf("history = %+v, want the grant first and at least 3 events", all)
	}
	if diff := cmp.Diff(all, paged); diff != "" {
		t.Errorf("paged history differs from the whole (-whole +paged):\n%s", diff)
	}
	if !slices.IsSortedFunc(all, func(a, b client.ConsentEvent) int { return int(a.Seq - b.Seq) }) {
		t.Error("the history is not oldest first")
	}
	_, err = s.service.ListConsents(ctx, "ct-2", client.ListOptions{Cursor: "bogus"})
	wantErr(t, "a bogus cursor", err, client.ErrBadRequest, "invalid_cursor")
	for _, err := range s.service.ConsentHistory(ctx, "ct-2") {
		if err != nil {
			t.Fatal(err)
		}
		break // stopping early must not panic or fetch on
	}
}

func mustCheck(t *testing.T, s *server, subject string, purposes ...string) client.CheckResult {
	t.Helper()
	res, err := s.service.Check(t.Context(), client.CheckInput{SubjectID: subject, Purposes: purposes})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return res
}

func testReceipts(t *testing.T, s *server) {
	ctx := t.Context()
	consentSubject(t, s, "ct-r", "")
	evs, err := s.service.RecordConsent(ctx, "ct-r", client.ConsentInput{Grant: []string{"analytics"}, Method: client.MethodAppDialog, Language: "en", NoticeHash: notice})
	if err != nil {
		t.Fatal(err)
	}
	ev := evs[0]
	sr, err := s.service.ConsentReceipt(ctx, "ct-r", ev.ID)
	if err != nil {
		t.Fatalf("ConsentReceipt: %v", err)
	}
	if strings.Count(sr.Receipt, ".") != 2 || sr.KeysURL != "/v1/keys/receipts" {
		t.Errorf("receipt = %+v", sr)
	}
	keys, err := s.public.ReceiptKeys(ctx)
	if err != nil || len(keys.Keys) != 1 || keys.Keys[0].Kty != "OKP" || keys.Keys[0].Crv != "Ed25519" || keys.Keys[0].Kid == "" {
		t.Fatalf("ReceiptKeys = %+v, %v", keys, err)
	}
	r, err := s.public.VerifyReceipt(ctx, sr.Receipt)
	if err != nil {
		t.Fatalf("VerifyReceipt: %v", err)
	}
	wantExt := client.ReceiptExtension{Event: ev.ID, Action: client.ActionGrant, PolicyVersion: ev.PolicyVersion, NoticeHash: notice, Method: "app_dialog"}
	if diff := cmp.Diff(wantExt, r.Custos); diff != "" {
		t.Errorf("receipt extension (-want +got):\n%s", diff)
	}
	if r.PIIPrincipalID != "ct-r" || r.Version != "KI-CR-v1.1.0" || r.Language != "en" || len(r.Services) == 0 || len(r.PIIControllers) == 0 {
		t.Errorf("receipt = %+v", r)
	}
	if r.ConsentTimestamp != ev.At.Unix() {
		t.Errorf("consentTimestamp %d, event at %v", r.ConsentTimestamp, ev.At)
	}
	covered := false
	for _, svc := range r.Services {
		for _, p := range svc.Purposes {
			covered = covered || slices.Contains(p.PurposeCategory, "analytics")
		}
	}
	if !covered {
		t.Errorf("the receipt does not cover analytics: %+v", r.Services)
	}

	// A receipt changed in any part does not verify.
	parts := strings.Split(sr.Receipt, ".")
	flip := func(s string) string {
		b := []byte(s)
		if b[5] == 'A' {
			b[5] = 'B'
		} else {
			b[5] = 'A'
		}
		return string(b)
	}
	for name, tok := range map[string]string{
		"payload":   parts[0] + "." + flip(parts[1]) + "." + parts[2],
		"signature": parts[0] + "." + parts[1] + "." + flip(parts[2]),
		"header":    flip(parts[0]) + "." + parts[1] + "." + parts[2],
		"truncated": parts[0] + "." + parts[1],
		"garbage":   "not a token",
	} {
		if _, err := s.public.VerifyReceipt(ctx, tok); !errors.Is(err, client.ErrReceiptInvalid) {
			t.Errorf("%s changed: err = %v, want ErrReceiptInvalid", name, err)
		}
	}

	_, err = s.service.ConsentReceipt(ctx, "ct-r", "ce_nosuchevent")
	wantErr(t, "a receipt of no event", err, client.ErrNotFound, "event_not_found")
}

func testObjectionsAcceptances(t *testing.T, s *server) {
	ctx := t.Context()
	consentSubject(t, s, "ct-o", "")
	pol, err := s.service.CurrentPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The starter manifest rests no purpose on legitimate interests: an
	// objection is answered with the rule it breaks.
	_, err = s.service.RecordObjection(ctx, "ct-o", client.ObjectionInput{Object: []string{"analytics"}, Method: client.MethodAppDialog, Language: "en"})
	if e := wantErr(t, "an objection to a consent purpose", err, client.ErrInvalid, "objection_not_applicable"); e.Field != "object" {
		t.Errorf("field %q, want object", e.Field)
	}
	_, err = s.admin.OverrideObjection(ctx, "ct-o", "analytics", "fraud investigation 12")
	wantErr(t, "an override without an objection", err, client.ErrInvalid, "objection_not_applicable")
	_, err = s.service.OverrideObjection(ctx, "ct-o", "analytics", "fraud investigation 12")
	wantErr(t, "an override with a service key", err, client.ErrForbidden, client.CodeForbidden)

	evs, err := s.service.RecordAcceptance(ctx, "ct-o", client.AcceptanceInput{Version: pol.Version, Method: client.MethodAppDialog, Language: "en", NoticeHash: client.NoticeHash("the policy text")})
	if err != nil {
		t.Fatalf("RecordAcceptance: %v", err)
	}
	if len(evs) != 1 || evs[0].Action != client.ActionAccept || evs[0].PolicyVersion != pol.Version {
		t.Errorf("acceptance events = %+v", evs)
	}
	_, err = s.service.ConsentReceipt(ctx, "ct-o", evs[0].ID)
	wantErr(t, "a receipt of an acceptance", err, client.ErrConflict, "no_receipt")
	_, err = s.service.RecordAcceptance(ctx, "ct-o", client.AcceptanceInput{Version: "0.0-never", Method: client.MethodAppDialog, Language: "en", NoticeHash: client.NoticeHash("x")})
	wantErr(t, "an acceptance of no version", err, client.ErrInvalid, "unknown_version")
}
