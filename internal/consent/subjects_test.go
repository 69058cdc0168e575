package consent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
)

func TestCreateSubject(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)

	v, err := e.svc.CreateSubject(ctx, admin, consent.SubjectInput{ID: "u-1001", BirthDate: adultDate, Identities: []consent.IdentityInput{
		{Kind: "email", Value: rawEmail, Keep: true},
		{Kind: "phone", Value: rawPhone},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := consent.SubjectView{ID: "u-1001", BirthDate: adultDate, AgeStatus: "adult", Identities: []consent.IdentityView{{Kind: "email"}, {Kind: "phone"}}}
	if diff := cmp.Diff(want, v, cmpopts.IgnoreFields(consent.SubjectView{}, "CreatedAt", "UpdatedAt")); diff != "" {
		t.Errorf("created view (-want +got):\n%s", diff)
	}
	if v.CreatedAt.IsZero() || time.Since(v.CreatedAt) > time.Minute {
		t.Errorf("CreatedAt = %v, want about now", v.CreatedAt)
	}
	noLeak(t, "created view", mustJSON(t, v))

	tests := []struct {
		name string
		in   consent.SubjectInput
		want string
	}{
		{"duplicate id", consent.SubjectInput{ID: "u-1001"}, "subject_conflict"},
		{"email taken, written differently", consent.SubjectInput{ID: "u-1002", Identities: []consent.IdentityInput{{Kind: "email", Value: "alice.wong@example.com"}}}, "subject_conflict"},
		{"phone taken, written differently", consent.SubjectInput{ID: "u-1003", Identities: []consent.IdentityInput{{Kind: "phone", Value: "+86 138-0013-8000"}}}, "subject_conflict"},
		{"guardian does not exist", consent.SubjectInput{ID: "u-1004", GuardianID: "u-nobody"}, "subject_conflict"},
		{"own guardian", consent.SubjectInput{ID: "u-1005", GuardianID: "u-1005"}, "invalid_guardian"},
		{"email as id", consent.SubjectInput{ID: "alice.wong@example.com"}, "subject_id_is_pi"},
		{"mobile number as id", consent.SubjectInput{ID: "13800138000"}, "subject_id_is_pi"},
		{"international number as id", consent.SubjectInput{ID: "+8613800138000"}, "subject_id_is_pi"},
		{"empty id", consent.SubjectInput{ID: ""}, "invalid_subject_id"},
		{"id with a space", consent.SubjectInput{ID: "u 1006"}, "invalid_subject_id"},
		{"id starting with a dash", consent.SubjectInput{ID: "-u1007"}, "invalid_subject_id"},
		{"id too long", consent.SubjectInput{ID: strings.Repeat("u", 129)}, "invalid_subject_id"},
		{"birth date not a date", consent.SubjectInput{ID: "u-1008", BirthDate: "2010-02-30"}, "invalid_birth_date"},
		{"birth date in another format", consent.SubjectInput{ID: "u-1009", BirthDate: "01/02/2010"}, "invalid_birth_date"},
		{"birth date in the future", consent.SubjectInput{ID: "u-1010", BirthDate: time.Now().AddDate(0, 0, 2).Format(time.DateOnly)}, "invalid_birth_date"},
		{"birth date before 1900", consent.SubjectInput{ID: "u-1011", BirthDate: "1899-12-31"}, "invalid_birth_date"},
		{"age band unknown", consent.SubjectInput{ID: "u-1012", AgeBand: "teen"}, "invalid_age_band"},
		{"identity invalid", consent.SubjectInput{ID: "u-1013", Identities: []consent.IdentityInput{{Kind: "email", Value: "alice.wong"}}}, "invalid_identity"},
		{"identity kind invalid", consent.SubjectInput{ID: "u-1014", Identities: []consent.IdentityInput{{Kind: "E-Mail", Value: "alice.wong@example.com"}}}, "invalid_identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.CreateSubject(ctx, admin, tt.in)
			if got := code(err); got != tt.want {
				t.Fatalf("CreateSubject: %s, want %s", got, tt.want)
			}
			noLeak(t, "error", err.Error())
			if strings.Contains(err.Error(), "alice") || strings.Contains(err.Error(), "138") {
				t.Errorf("error quotes the value: %v", err)
			}
			if tt.in.ID != "u-1001" && tt.want != "subject_id_is_pi" && tt.want != "invalid_subject_id" {
				if _, err := e.svc.Subject(ctx, admin, tt.in.ID, "test"); code(err) != "subject_not_found" {
					t.Errorf("refused subject %s exists afterwards: %s", tt.in.ID, code(err))
				}
			}
		})
	}

	// The refused attempts left the first subject's identities alone.
	res, err := e.svc.Check(ctx, admin, consent.CheckInput{Identity: &consent.IdentityInput{Kind: "email", Value: "ALICE.WONG@example.com"}, Purposes: []string{"analytics"}})
	if err != nil || res.SubjectID != "u-1001" {
		t.Errorf("check by email after refusals: %+v, %v; want subject u-1001", res, err)
	}
}

func TestSubjectIDIsPIError(t *testing.T) {
	err := consent.ValidateSubjectID("alice.wong@example.com")
	fe, ok := fault.As(err)
	if !ok || fe.Kind != fault.Invalid || fe.Code != "subject_id_is_pi" || fe.Field != "subject_id" {
		t.Fatalf("ValidateSubjectID(email) = %#v, want an Invalid subject_id_is_pi fault at subject_id", err)
	}
	noLeak(t, "error", err.Error())
	for _, id := range []string{"u-1", "1042", "user:42", "a.b_c-d", "1234567890", "12800138000"} {
		if err := consent.ValidateSubjectID(id); err != nil {
			t.Errorf("ValidateSubjectID(%q) = %v, want nil", id, err)
		}
	}
}

func TestSubjectDisclosure(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	e.subject(t, consent.SubjectInput{ID: "u-1001", BirthDate: adultDate, Identities: []consent.IdentityInput{
		{Kind: "email", Value: rawEmail, Keep: true},
		{Kind: "phone", Value: rawPhone},
		{Kind: "user_id", Value: "legacy-88112233", Keep: true},
	}})

	v, err := e.svc.Subject(ctx, admin, "u-1001", "support_ticket")
	if err != nil {
		t.Fatal(err)
	}
	// The kept email is shown masked; the phone was not kept, so nothing of it can be shown.
	wantIDs := []consent.IdentityView{{Kind: "email", Masked: "a***@example.com"}, {Kind: "phone"}, {Kind: "user_id", Masked: "le***33"}}
	if diff := cmp.Diff(wantIDs, v.Identities); diff != "" {
		t.Errorf("identities (-want +got):\n%s", diff)
	}
	if v.Minor || v.Restricted || v.BirthDate != adultDate {
		t.Errorf("view = %+v, want an unrestricted adult born %s", v, adultDate)
	}
	noLeak(t, "disclosed view", mustJSON(t, v))

	if _, err := e.svc.Subject(ctx, admin, "u-none", "support_ticket"); code(err) != "subject_not_found" {
		t.Errorf("Subject(unknown) = %s, want subject_not_found", code(err))
	}
	if _, err := e.svc.Subject(ctx, admin, "alice.wong@example.com", "support_ticket"); code(err) != "subject_id_is_pi" {
		t.Errorf("Subject(email) = %s, want subject_id_is_pi", code(err))
	}

	// Adding identities and updating the subject never shows them either.
	v, err = e.svc.AddIdentities(ctx, admin, "u-1001", []consent.IdentityInput{{Kind: "device_id", Value: "dev-42"}})
	if err != nil {
		t.Fatal(err)
	}
	noLeak(t, "view after AddIdentities", mustJSON(t, v))
	if len(v.Identities) != 4 {
		t.Errorf("identities after adding one: %+v, want 4", v.Identities)
	}
	if _, err := e.svc.AddIdentities(ctx, admin, "u-none", []consent.IdentityInput{{Kind: "device_id", Value: "dev-43"}}); code(err) != "subject_not_found" {
		t.Errorf("AddIdentities(unknown subject) = %s, want subject_not_found", code(err))
	}
	e.subject(t, consent.SubjectInput{ID: "u-1002"})
	if _, err := e.svc.AddIdentities(ctx, admin, "u-1002", []consent.IdentityInput{{Kind: "email", Value: rawEmail}}); code(err) != "identity_conflict" {
		t.Errorf("AddIdentities(taken email) = %s, want identity_conflict", code(err))
	}
}

func TestCheckByIdentity(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	e.subject(t, consent.SubjectInput{ID: "u-1001", Identities: []consent.IdentityInput{
		{Kind: "email", Value: rawEmail, Keep: true},
		{Kind: "phone", Value: rawPhone},
	}})
	e.record(t, "u-1001", grant("analytics"))

	tests := []struct {
		name      string
		identity  consent.IdentityInput
		subjectID string
		reason    string
	}{
		{"email as registered", consent.IdentityInput{Kind: "email", Value: rawEmail}, "u-1001", "consent"},
		{"email in other case", consent.IdentityInput{Kind: "email", Value: "ALICE.WONG@EXAMPLE.COM"}, "u-1001", "consent"},
		{"phone with country code", consent.IdentityInput{Kind: "phone", Value: "+86 138 0013 8000"}, "u-1001", "consent"},
		{"phone with 00 prefix", consent.IdentityInput{Kind: "phone", Value: "0086-13800138000"}, "u-1001", "consent"},
		{"phone looked up again (cached)", consent.IdentityInput{Kind: "phone", Value: rawPhone}, "u-1001", "consent"},
		{"unknown email", consent.IdentityInput{Kind: "email", Value: "someone.else@example.com"}, "", "no_consent"},
		// The same string under another kind is another identity.
		{"email value under another kind", consent.IdentityInput{Kind: "username", Value: "alice.wong@example.com"}, "", "no_consent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idn := tt.identity
			res, err := e.svc.Check(ctx, admin, consent.CheckInput{Identity: &idn, Purposes: []string{"analytics"}})
			if err != nil {
				t.Fatal(err)
			}
			if res.SubjectID != tt.subjectID || res.KnownSubject != (tt.subjectID != "") || res.PolicyVersion != "3.0" {
				t.Errorf("Check = subject %q known %v version %q, want %q %v 3.0", res.SubjectID, res.KnownSubject, res.PolicyVersion, tt.subjectID, tt.subjectID != "")
			}
			if got := decisionReasons(t, res)["analytics"]; got != tt.reason {
				t.Errorf("analytics: %s, want %s", got, tt.reason)
			}
			noLeak(t, "check result", mustJSON(t, res))
		})
	}
}

// TestReplaceIdentity: a corrected email or phone takes the place of every
// identity of its kind; it is kept sealed only where an old one was; a
// subject without an identity of the kind gains none; a value another
// subject holds is refused, naming nobody.
func TestReplaceIdentity(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	e.subject(t, consent.SubjectInput{ID: "u-2001", Identities: []consent.IdentityInput{
		{Kind: "email", Value: "first.old@example.com", Keep: true},
		{Kind: "email", Value: "second.old@example.com"},
		{Kind: "phone", Value: rawPhone},
	}})
	e.subject(t, consent.SubjectInput{ID: "u-2002", Identities: []consent.IdentityInput{{Kind: "email", Value: rawEmail}}})

	tests := []struct {
		name, subject, kind, value string
		replaced                   bool
		code                       string
		want                       []consent.IdentityView
	}{
		{"email, one of them kept", "u-2001", "email", "Grace.Start@Example.com", true, "<nil>",
			[]consent.IdentityView{{Kind: "email", Masked: "g***@example.com"}, {Kind: "phone"}}},
		{"phone, not kept", "u-2001", "phone", "139 0013 9000", true, "<nil>",
			[]consent.IdentityView{{Kind: "email", Masked: "g***@example.com"}, {Kind: "phone"}}},
		{"no phone on file", "u-2002", "phone", "139 0013 9001", false, "<nil>",
			[]consent.IdentityView{{Kind: "email"}}},
		{"another subject's email", "u-2001", "email", rawEmail, false, "identity_conflict",
			[]consent.IdentityView{{Kind: "email", Masked: "g***@example.com"}, {Kind: "phone"}}},
		{"not an identity kept by kind", "u-2001", "user_id", "x-1", false, "invalid_identity", nil},
		{"unknown subject", "u-none", "email", "who@example.com", false, "subject_not_found", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replaced, err := e.svc.ReplaceIdentity(ctx, admin, tt.subject, tt.kind, tt.value)
			if replaced != tt.replaced || code(err) != tt.code {
				t.Fatalf("ReplaceIdentity = %v, %v; want %v, %q", replaced, err, tt.replaced, tt.code)
			}
			if err != nil {
				noLeak(t, "error", err.Error())
				if strings.Contains(err.Error(), "u-2002") {
					t.Errorf("the error names the other subject: %v", err)
				}
			}
			if tt.want == nil {
				return
			}
			v, err := e.svc.Subject(ctx, admin, tt.subject, "support_ticket")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, v.Identities); diff != "" {
				t.Errorf("identities (-want +got):\n%s", diff)
			}
		})
	}
	// The old values find nobody, the new ones the subject.
	for value, want := range map[string]string{"first.old@example.com": "", "second.old@example.com": "", "grace.start@example.com": "u-2001"} {
		res, err := e.svc.Check(ctx, admin, consent.CheckInput{Identity: &consent.IdentityInput{Kind: "email", Value: value}, Purposes: []string{"analytics"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.KnownSubject != (want != "") {
			t.Errorf("check by %s: known %v", value, res.KnownSubject)
		}
	}
}
