package client_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/custos-privacy/custos/client"
)

var ignoreTimes = cmpopts.IgnoreFields(client.Subject{}, "CreatedAt", "UpdatedAt")

func testSubjects(t *testing.T, s *server) {
	ctx := t.Context()
	const email, phone = "ct.one@example.com", "+86 138-0013-8111"
	in := client.SubjectInput{
		SubjectID:    "ct-1",
		Identities:   []client.IdentityInput{{Kind: client.KindEmail, Value: email, Keep: true}, {Kind: client.KindPhone, Value: phone, Keep: true}},
		BirthDate:    "1990-01-02",
		Jurisdiction: "EU",
		Language:     "en",
	}
	// A service key may register a subject but not read it: it is told the id.
	w, err := s.service.CreateSubject(ctx, in)
	if err != nil {
		t.Fatalf("CreateSubject: %v", err)
	}
	if diff := cmp.Diff(client.SubjectWritten{SubjectID: "ct-1"}, w); diff != "" {
		t.Errorf("CreateSubject with a service key (-want +got):\n%s", diff)
	}

	// An admin key is shown what it registered.
	w, err = s.admin.CreateSubject(ctx, client.SubjectInput{SubjectID: "ct-admin", Identities: []client.IdentityInput{{Kind: client.KindDeviceID, Value: "dev-ct-admin"}},
		BirthDate: "1990-01-02", Jurisdiction: "EU", Language: "en"})
	if err != nil {
		t.Fatalf("CreateSubject as admin: %v", err)
	}
	if w.SubjectID != "ct-admin" || w.Subject == nil {
		t.Fatalf("CreateSubject as admin = %+v, want the subject", w)
	}
	got := *w.Subject
	want := client.Subject{SubjectID: "ct-admin", BirthDate: "1990-01-02", Jurisdiction: "EU", Language: "en", AgeStatus: "adult",
		Identities: []client.IdentityView{{Kind: client.KindDeviceID}}}
	byKind := cmpopts.SortSlices(func(a, b client.IdentityView) bool { return a.Kind < b.Kind })
	if diff := cmp.Diff(want, got, ignoreTimes, byKind); diff != "" {
		t.Errorf("CreateSubject as admin (-want +got):\n%s", diff)
	}
	if time.Since(got.CreatedAt) > time.Hour || got.CreatedAt.IsZero() {
		t.Errorf("CreatedAt = %v, want about now", got.CreatedAt)
	}

	_, err = s.service.CreateSubject(ctx, in)
	wantErr(t, "a second CreateSubject", err, client.ErrConflict, client.CodeSubjectConflict, email, "13800138111")
	_, err = s.service.CreateSubject(ctx, client.SubjectInput{SubjectID: "li.na@example.com"})
	e := wantErr(t, "an email as subject id", err, client.ErrInvalid, client.CodeSubjectIDIsPI, "li.na")
	if e.Status != 422 || e.Op != "CreateSubject" {
		t.Errorf("error = %+v, want a 422 from CreateSubject", e)
	}
	if e.Field != "subject_id" {
		t.Errorf("the error names field %q, want subject_id, the body's name for it", e.Field)
	}

	// Disclosure to an operator masks the kept values.
	got, err = s.admin.GetSubject(ctx, "ct-1", "client test: support ticket 1")
	if err != nil {
		t.Fatalf("GetSubject: %v", err)
	}
	if len(got.Identities) != 2 {
		t.Fatalf("identities = %+v", got.Identities)
	}
	for _, id := range got.Identities {
		if id.Masked == "" || strings.Contains(id.Masked, "ct.one") || strings.Contains(id.Masked, "0013811") {
			t.Errorf("identity %s masked as %q", id.Kind, id.Masked)
		}
	}
	_, err = s.service.GetSubject(ctx, "ct-1", "")
	wantErr(t, "GetSubject with a service key", err, client.ErrForbidden, client.CodeForbidden)
	_, err = s.admin.GetSubject(ctx, "ct-nobody", "")
	if e := wantErr(t, "GetSubject of no one", err, client.ErrNotFound, client.CodeSubjectNotFound); e.Status != 404 {
		t.Errorf("status %d", e.Status)
	}

	w, err = s.service.UpdateSubject(ctx, "ct-1", client.SubjectPatch{Language: client.Ptr("zh-CN"), Arrangement: client.Ptr("refuse_relatives")})
	if err != nil {
		t.Fatalf("UpdateSubject: %v", err)
	}
	if diff := cmp.Diff(client.SubjectWritten{SubjectID: "ct-1"}, w); diff != "" {
		t.Errorf("UpdateSubject with a service key (-want +got):\n%s", diff)
	}
	_, err = s.service.UpdateSubject(ctx, "ct-1", client.SubjectPatch{BirthDate: client.Ptr("yesterday")})
	wantErr(t, "UpdateSubject with a bad date", err, client.ErrInvalid, "invalid_birth_date")

	w, err = s.service.AddIdentities(ctx, "ct-1", client.IdentityInput{Kind: client.KindDeviceID, Value: "dev-ct-1"})
	if err != nil {
		t.Fatalf("AddIdentities: %v", err)
	}
	if diff := cmp.Diff(client.SubjectWritten{SubjectID: "ct-1"}, w); diff != "" {
		t.Errorf("AddIdentities with a service key (-want +got):\n%s", diff)
	}
	// The service's writes took effect, as an admin sees.
	w, err = s.admin.UpdateSubject(ctx, "ct-1", client.SubjectPatch{})
	if err != nil || w.Subject == nil {
		t.Fatalf("UpdateSubject as admin = %+v, %v; want the subject", w, err)
	}
	if got := *w.Subject; got.Language != "zh-CN" || got.Arrangement != "refuse_relatives" || got.BirthDate != "1990-01-02" {
		t.Errorf("UpdateSubject as admin = %+v", got)
	}
	kinds := []string{}
	for _, id := range w.Subject.Identities {
		kinds = append(kinds, id.Kind)
	}
	slices.Sort(kinds)
	if diff := cmp.Diff([]string{"device_id", "email", "phone"}, kinds); diff != "" {
		t.Errorf("identities after AddIdentities (-want +got):\n%s", diff)
	}
	w, err = s.admin.AddIdentities(ctx, "ct-admin", client.IdentityInput{Kind: client.KindUserID, Value: "u-ct-admin"})
	if err != nil || w.Subject == nil || len(w.Subject.Identities) != 2 {
		t.Errorf("AddIdentities as admin = %+v, %v; want the subject with two identities", w, err)
	}
	_, err = s.service.AddIdentities(ctx, "ct-nobody", client.IdentityInput{Kind: client.KindDeviceID, Value: "dev-x"})
	wantErr(t, "AddIdentities to no one", err, client.ErrNotFound, client.CodeSubjectNotFound)

	// A restriction turns every check to "restricted" (but statutory
	// bases); lifting it brings the answers back.
	got, err = s.admin.SetRestriction(ctx, "ct-1", true, "accuracy disputed")
	if err != nil || !got.Restricted {
		t.Fatalf("SetRestriction(true) = %+v, %v", got, err)
	}
	res, err := s.service.Check(ctx, client.CheckInput{SubjectID: "ct-1", Purposes: []string{"note_sync", "legal_compliance"}})
	if err != nil {
		t.Fatal(err)
	}
	wantDecisions := []client.Decision{{Purpose: "note_sync", Allowed: false, Reason: "restricted"}, {Purpose: "legal_compliance", Allowed: true, Reason: "legal_basis:legal_obligation"}}
	if diff := cmp.Diff(wantDecisions, res.Decisions); diff != "" {
		t.Errorf("decisions while restricted (-want +got):\n%s", diff)
	}
	got, err = s.admin.SetRestriction(ctx, "ct-1", false, "resolved")
	if err != nil || got.Restricted {
		t.Fatalf("SetRestriction(false) = %+v, %v", got, err)
	}
	if res, err := s.service.Check(ctx, client.CheckInput{SubjectID: "ct-1", Purposes: []string{"note_sync"}}); err != nil || !res.Allowed("note_sync") {
		t.Errorf("after lifting the restriction: %+v, %v", res, err)
	}
	_, err = s.service.SetRestriction(ctx, "ct-1", true, "")
	wantErr(t, "SetRestriction with a service key", err, client.ErrForbidden, client.CodeForbidden)
}
