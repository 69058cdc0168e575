package client_test

import (
	"archive/zip"
	"bytes"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/client"
)

func testRequests(t *testing.T, s *server) {
	ctx := t.Context()
	op := s.admin
	for _, id := range []string{"ct-3", "ct-4", "ct-5", "ct-6"} {
		consentSubject(t, s, id, "")
	}
	consentSubject(t, s, "ct-7", "ct.seven@example.com")

	// Access: taken, started, waited on, resumed, extended, completed,
	// downloaded.
	r, err := op.SubmitRequest(ctx, client.RequestInput{Type: client.RightAccess, Jurisdiction: "EU", Language: "en", SubjectID: "ct-3",
		Verification: client.VerificationOperator, Evidence: "signed-in session, ticket 31"})
	if err != nil {
		t.Fatalf("SubmitRequest: %v", err)
	}
	if r.ID == "" || r.State != client.StateVerified || r.SubjectID != "ct-3" || r.Type != "access" || r.Jurisdiction != "EU" || r.Channel != "operator" || r.DueDate == "" {
		t.Errorf("SubmitRequest = %+v", r)
	}
	steps := []struct {
		name  string
		do    func() (client.Request, error)
		state string
	}{
		{"approve", func() (client.Request, error) { return op.ApproveRequest(ctx, r.ID) }, client.StateInProgress},
		{"await", func() (client.Request, error) { return op.AwaitSubject(ctx, r.ID, "which notebook?") }, client.StateAwaitingSubject},
		{"resume", func() (client.Request, error) { return op.ResumeRequest(ctx, r.ID) }, client.StateInProgress},
		{"extend", func() (client.Request, error) { return op.ExtendRequest(ctx, r.ID, "many notebooks to export") }, client.StateExtended},
		{"complete", func() (client.Request, error) { return op.CompleteRequest(ctx, r.ID, client.CompleteInput{}) }, client.StateCompleted},
	}
	for _, st := range steps {
		got, err := st.do()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got.State != st.state {
			t.Fatalf("%s: state %s, want %s", st.name, got.State, st.state)
		}
		r = got
	}
	if !r.Extended || r.Download == "" {
		t.Fatalf("completed = %+v, want extended with a download", r)
	}
	body, err := op.DownloadBundle(ctx, r.Download)
	if err != nil {
		t.Fatalf("DownloadBundle: %v", err)
	}
	zipped, _ := io.ReadAll(body)
	body.Close()
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatalf("the bundle is not a zip: %v", err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	for _, n := range []string{"data.json", "consents.csv", "report.html"} {
		if !slices.Contains(names, n) {
			t.Errorf("the bundle lacks %s: %v", n, names)
		}
	}
	_, err = op.DownloadBundle(ctx, strings.Replace(r.Download, "token=", "token=x", 1))
	if e := wantErr(t, "a download with a wrong token", err, client.ErrNotFound, "bundle_not_found", "token"); e.Op != "DownloadBundle" {
		t.Errorf("op %q", e.Op)
	}

	got, err := op.GetRequest(ctx, r.ID)
	if err != nil {
		t.Fatalf("GetRequest: %v", err)
	}
	var path []string
	for _, h := range got.History {
		path = append(path, h.To)
	}
	if diff := cmp.Diff([]string{"verified", "in_progress", "awaiting_subject", "in_progress", "extended", "completed"}, path); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if got.Download != "" {
		t.Error("the download link is shown again")
	}
	list, err := op.ListRequests(ctx, client.RequestFilter{SubjectID: "ct-3", State: client.StateCompleted})
	if err != nil || len(list) != 1 || list[0].ID != r.ID {
		t.Errorf("ListRequests(ct-3, completed) = %+v, %v", list, err)
	}
	_, err = op.ApproveRequest(ctx, r.ID)
	wantErr(t, "approving a completed request", err, client.ErrConflict, client.CodeInvalidTransition)
	// Fees: the starter charges only for repeated requests, and nothing
	// is awaited on a closed request.
	_, err = op.AskFee(ctx, r.ID, "20.00", "CNY", "a fourth copy this year")
	wantErr(t, "a fee where the policy allows none", err, client.ErrConflict, "fee_not_allowed")
	_, err = op.FeePaid(ctx, r.ID)
	wantErr(t, "a fee paid where none was asked", err, client.ErrConflict, "no_fee_asked")
	_, err = op.WaiveFee(ctx, r.ID)
	wantErr(t, "a fee waived where none was asked", err, client.ErrConflict, "no_fee_asked")
	// Nothing was sent to a third party, so nothing failed to retry.
	_, err = op.RetryTransmission(ctx, r.ID)
	if e := wantErr(t, "a retry where no transmission failed", err, client.ErrConflict, "no_failed_transmission"); e.Op != "RetryTransmission" {
		t.Errorf("op %q", e.Op)
	}
	_, err = op.GetRequest(ctx, "rq_nosuchrequest")
	wantErr(t, "GetRequest of none", err, client.ErrNotFound, client.CodeRequestNotFound)
	_, err = op.ListRequests(ctx, client.RequestFilter{DueBy: "soon"})
	wantErr(t, "a bad due_by", err, client.ErrBadRequest, "invalid_due_by")

	// Deletion: completed, recipients told, one acknowledges.
	del, err := op.SubmitRequest(ctx, client.RequestInput{Type: client.RightDeletion, Language: "en", SubjectID: "ct-4", Verification: client.VerificationOperator, Evidence: "ticket 41"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.ApproveRequest(ctx, del.ID); err != nil {
		t.Fatal(err)
	}
	del, err = op.CompleteRequest(ctx, del.ID, client.CompleteInput{})
	if err != nil || del.State != client.StateCompleted || len(del.Recipients) == 0 {
		t.Fatalf("deletion completed = %+v, %v", del, err)
	}
	rcpt := del.Recipients[0].Recipient
	link, err := op.RecipientAckLink(ctx, del.ID, rcpt)
	if err != nil || link.Recipient != rcpt || link.Token == "" || link.Path != "/v1/public/acknowledgements/"+link.Token {
		t.Errorf("RecipientAckLink = %+v, %v", link, err)
	}
	_, err = op.RecipientAckLink(ctx, del.ID, "no-such-recipient")
	wantErr(t, "the link of no recipient", err, client.ErrNotFound, "recipient_task_not_found")
	del, err = op.AcknowledgeRecipient(ctx, del.ID, rcpt)
	if err != nil {
		t.Fatalf("AcknowledgeRecipient: %v", err)
	}
	i := slices.IndexFunc(del.Recipients, func(n client.RecipientNotice) bool { return n.Recipient == rcpt })
	if i < 0 || del.Recipients[i].State != "acknowledged" {
		t.Errorf("recipients after the acknowledgement = %+v", del.Recipients)
	}
	_, err = op.AcknowledgeRecipient(ctx, del.ID, "no-such-recipient")
	wantErr(t, "acknowledging no recipient", err, client.ErrNotFound, "recipient_task_not_found")

	// Refusal on a ground of the policy.
	ref, err := op.SubmitRequest(ctx, client.RequestInput{Type: client.RightCopy, Language: "en", SubjectID: "ct-5", Verification: client.VerificationOperator, Evidence: "ticket 51"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = op.RefuseRequest(ctx, ref.ID, "no-such-ground", "because")
	wantErr(t, "a refusal on no ground", err, client.ErrInvalid, "invalid_ground")
	ref, err = op.RefuseRequest(ctx, ref.ID, "bad_faith", "The same request was answered last week.")
	if err != nil || ref.State != client.StateRefused || ref.RefusalGround != "bad_faith" {
		t.Errorf("RefuseRequest = %+v, %v", ref, err)
	}

	// Withdrawal recorded by an operator.
	wd, err := op.SubmitRequest(ctx, client.RequestInput{Type: client.RightRestriction, Language: "en", SubjectID: "ct-6", Verification: client.VerificationOperator, Evidence: "ticket 61"})
	if err != nil {
		t.Fatal(err)
	}
	if wd, err = op.WithdrawRequest(ctx, wd.ID); err != nil || wd.State != client.StateWithdrawn {
		t.Errorf("WithdrawRequest = %+v, %v", wd, err)
	}

	// A code to the subject, then the operator's verification.
	otp, err := op.SubmitRequest(ctx, client.RequestInput{Type: client.RightAccess, Language: "en", SubjectID: "ct-7", Verification: client.VerificationOTP})
	if err != nil || otp.State != client.StateAwaitingVerification {
		t.Fatalf("SubmitRequest(otp) = %+v, %v", otp, err)
	}
	if otp, err = op.VerifyRequest(ctx, otp.ID, "called back on the number on file"); err != nil || otp.State != client.StateVerified {
		t.Errorf("VerifyRequest = %+v, %v", otp, err)
	}

	_, err = op.SubmitRequest(ctx, client.RequestInput{Type: client.RightAccess, Language: "en", SubjectID: "ct-3", Verification: client.VerificationOperator})
	wantErr(t, "an operator's request without evidence", err, client.ErrInvalid, "evidence_required")
	_, err = s.service.SubmitRequest(ctx, client.RequestInput{Type: client.RightAccess, Language: "en", SubjectID: "ct-3", Verification: client.VerificationOperator, Evidence: "x"})
	wantErr(t, "SubmitRequest with a service key", err, client.ErrForbidden, client.CodeForbidden)
	// Paging: a page at a time, the same requests in the same order as
	// one page holding them all; the last page has no next.
	whole, err := op.ListRequestsPage(ctx, client.RequestFilter{State: client.StateCompleted}, "")
	if err != nil || whole.Next != "" || len(whole.Requests) < 2 {
		t.Fatalf("ListRequestsPage(completed) = %+v, %v", whole, err)
	}
	var paged []client.Request
	for r, err := range op.AllRequests(ctx, client.RequestFilter{State: client.StateCompleted, Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, r)
	}
	if diff := cmp.Diff(whole.Requests, paged); diff != "" {
		t.Errorf("AllRequests in pages of 1 (-one page +pages):\n%s", diff)
	}
	_, err = op.ListRequestsPage(ctx, client.RequestFilter{}, "not-a-cursor!")
	wantErr(t, "a page after no page", err, client.ErrBadRequest, "invalid_cursor")
}

var sixDigits = regexp.MustCompile(`^\d{6}$`)

func testPublicRequests(t *testing.T, s *server) {
	ctx := t.Context()
	const email = "ct.eight@example.com"
	consentSubject(t, s, "ct-8", email)
	acc, err := s.public.SubmitPublicRequest(ctx, client.PublicRequestInput{Type: client.RightAccess, Language: "en", Identity: client.IdentityInput{Kind: client.KindEmail, Value: email}})
	if err != nil {
		t.Fatalf("SubmitPublicRequest: %v", err)
	}
	if acc.ID == "" || acc.AccessToken == "" || acc.State != client.StateAwaitingVerification || acc.Message == "" {
		t.Fatalf("accepted = %+v", acc)
	}
	r, err := s.public.PublicRequest(ctx, acc.ID, acc.AccessToken)
	if err != nil {
		t.Fatalf("PublicRequest: %v", err)
	}
	if r.ID != acc.ID || r.State != client.StateAwaitingVerification || r.SubjectID != "" {
		t.Errorf("PublicRequest = %+v, want no subject id", r)
	}
	_, err = s.public.PublicRequest(ctx, acc.ID, "wrong-"+acc.AccessToken)
	wantErr(t, "PublicRequest with a wrong token", err, client.ErrNotFound, client.CodeRequestNotFound, acc.AccessToken)

	code := s.Code(t, email)
	if !sixDigits.MatchString(code) {
		t.Fatalf("code %q", code)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err = s.public.VerifyPublicRequest(ctx, acc.ID, "wrong-"+acc.AccessToken, code)
	wantErr(t, "VerifyPublicRequest with a wrong token", err, client.ErrNotFound, client.CodeRequestNotFound, acc.AccessToken)
	_, err = s.public.VerifyPublicRequest(ctx, acc.ID, acc.AccessToken, wrong)
	wantErr(t, "a wrong code", err, client.ErrInvalid, "invalid_code", wrong)
	if r, err = s.public.VerifyPublicRequest(ctx, acc.ID, acc.AccessToken, code); err != nil || r.State != client.StateVerified {
		t.Fatalf("VerifyPublicRequest = %+v, %v", r, err)
	}
	if r, err = s.public.WithdrawPublicRequest(ctx, acc.ID, acc.AccessToken); err != nil || r.State != client.StateWithdrawn {
		t.Errorf("WithdrawPublicRequest = %+v, %v", r, err)
	}
	// The operator sees it, with the subject.
	if r, err := s.admin.GetRequest(ctx, acc.ID); err != nil || r.SubjectID != "ct-8" || r.Channel == "" {
		t.Errorf("GetRequest of the public request = %+v, %v", r, err)
	}
}
