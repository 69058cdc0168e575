package client_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/custos-privacy/custos/client"
)

// testVault keeps, reads and deletes the starter's vault field email: a
// service key reads it in clear for account_registration and, while
// consent stands, marketing; an admin key sees it masked.
func testVault(t *testing.T, s *server) {
	ctx := t.Context()
	const given, kept, masked = " Wang.Fang@Example.ORG", "wang.fang@example.org", "w***@example.org"
	for _, id := range []string{"cv-1", "cv-2"} {
		if _, err := s.service.CreateSubject(ctx, client.SubjectInput{SubjectID: id, BirthDate: "1990-01-02", Language: "en"}); err != nil {
			t.Fatalf("CreateSubject %s: %v", id, err)
		}
	}
	if _, err := s.service.RecordConsent(ctx, "cv-2", client.ConsentInput{Withdraw: []string{"marketing"}, Method: client.MethodAppDialog, Language: "en"}); err != nil {
		t.Fatal(err)
	}

	w, err := s.service.PutVault(ctx, "cv-1", "email", given)
	if err != nil {
		t.Fatalf("PutVault: %v", err)
	}
	if w.SubjectID != "cv-1" || w.Field != "email" || !strings.HasPrefix(w.Token, "vt_") || time.Since(w.UpdatedAt) > time.Hour {
		t.Errorf("PutVault = %+v", w)
	}
	w2, err := s.service.PutVault(ctx, "cv-2", "email", kept)
	if err != nil || w2.Token != w.Token {
		t.Errorf("the same address for another subject: token %q, %v; want %q", w2.Token, err, w.Token)
	}

	noTime := cmpopts.IgnoreFields(client.VaultValue{}, "UpdatedAt")
	got, err := s.service.GetVault(ctx, "cv-1", "email", "account_registration")
	want := client.VaultValue{SubjectID: "cv-1", Field: "email", Value: kept, Token: w.Token, Purpose: "account_registration"}
	if d := cmp.Diff(want, got, noTime); err != nil || d != "" {
		t.Errorf("GetVault as a service: %v (-want +got):\n%s", err, d)
	}
	got, err = s.admin.GetVault(ctx, "cv-1", "email", "account_registration")
	want.Value, want.Masked = masked, true
	if d := cmp.Diff(want, got, noTime); err != nil || d != "" {
		t.Errorf("GetVault as an admin: %v (-want +got):\n%s", err, d)
	}

	_, err = s.service.GetVault(ctx, "cv-1", "email", "analytics")
	e := wantErr(t, "a purpose email is not collected for", err, client.ErrInvalid, client.CodePurposeNotAllowed, "wang.fang")
	if e.Field != "purpose" || !cmp.Equal(e.Allowed, []string{"account_registration", "payments", "customer_support", "marketing"}) {
		t.Errorf("the refusal names %q and allows %v", e.Field, e.Allowed)
	}
	_, err = s.service.GetVault(ctx, "cv-2", "email", "marketing")
	if e := wantErr(t, "marketing after withdrawal", err, client.ErrForbidden, client.CodeNotAllowed, "wang.fang"); !strings.Contains(e.Message, "withdrawn") {
		t.Errorf("the refusal does not say why: %q", e.Message)
	}
	_, err = s.service.PutVault(ctx, "cv-1", "email", "wang.fang at example.org")
	wantErr(t, "a value that is no address", err, client.ErrInvalid, client.CodeInvalidValue, "wang.fang")
	if _, err := s.service.PutVault(ctx, "", "email", kept); err == nil {
		t.Error("PutVault without a subject id was sent")
	}

	if err := s.service.DeleteVault(ctx, "cv-2", "email"); err != nil {
		t.Fatalf("DeleteVault: %v", err)
	}
	if err := s.service.DeleteVault(ctx, "cv-2", "email"); err != nil {
		t.Errorf("DeleteVault again: %v", err)
	}
	_, err = s.admin.GetVault(ctx, "cv-2", "email", "customer_support")
	wantErr(t, "a deleted value", err, client.ErrNotFound, client.ErrorCode("vault_value_not_found"))

	// Erased through a deletion request: nothing to read, nothing kept.
	r, err := s.admin.SubmitRequest(ctx, client.RequestInput{Type: client.RightDeletion, Language: "en", SubjectID: "cv-1",
		Verification: client.VerificationOperator, Evidence: "signed in to the app"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.admin.ApproveRequest(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.admin.CompleteRequest(ctx, r.ID, client.CompleteInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = s.service.GetVault(ctx, "cv-1", "email", "account_registration")
	wantErr(t, "GetVault after erasure", err, client.ErrGone, client.CodeSubjectErased)
	_, err = s.service.PutVault(ctx, "cv-1", "email", kept)
	wantErr(t, "PutVault after erasure", err, client.ErrGone, client.CodeSubjectErased, "wang.fang")
}
