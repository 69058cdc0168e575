package consent_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/consent"
)

func TestRecordAnonymous(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	e.subject(t, consent.SubjectInput{ID: "v_registered", Identities: []consent.IdentityInput{{Kind: "email", Value: rawEmail}}})
	e.subject(t, consent.SubjectInput{ID: "v_aged", AgeBand: "adult"})
	visitor := consent.Actor{ID: "anonymous", Role: "public", Place: "192.0.2.1 shop.example.com"}

	tests := []struct {
		name    string
		id      string
		in      consent.ConsentInput
		code    string
		actions []string
	}{
		{"first write creates the subject", "v_new", grant("analytics"), "<nil>", []string{"grant"}},
		{"second write reuses it", "v_new", withdraw("analytics"), "<nil>", []string{"withdraw"}},
		{"a refused first write creates nothing", "v_refused", grant("note_sync"), "consent_not_applicable", nil},
		{"a subject with identities", "v_registered", grant("analytics"), "visitor_not_anonymous", nil},
		{"a subject with an age", "v_aged", grant("analytics"), "visitor_not_anonymous", nil},
		{"an id that is PI", "someone@example.com", grant("analytics"), "subject_id_is_pi", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := e.svc.RecordAnonymous(ctx, visitor, tc.id, tc.in)
			if got := code(err); got != tc.code {
				t.Fatalf("code %q, want %q (err %v)", got, tc.code, err)
			}
			var got []string
			for _, ev := range evs {
				got = append(got, ev.Action)
			}
			if d := cmp.Diff(tc.actions, got); d != "" {
				t.Errorf("actions (-want +got):\n%s", d)
			}
		})
	}
	if _, err := e.st.Subject(ctx, "v_refused"); err == nil {
		t.Error("a refused write left a subject behind")
	}
	if sub, err := e.st.Subject(ctx, "v_new"); err != nil || len(sub.Identities) != 0 {
		t.Errorf("anonymous subject: %+v, %v", sub, err)
	}
	if evs, err := e.svc.History(ctx, admin, "v_registered", 0, 10); err != nil || len(evs) != 0 {
		t.Errorf("the registered subject's ledger: %v, %v", evs, err)
	}
}

func TestConsentVersions(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.ConsentVersions([]string{"analytics"}); code(err) != "no_policy" {
		t.Errorf("before any policy: %v", err)
	}
	e.publish(t, starterV1)
	e.publish(t, starterV2) // makes analytics, marketing and advertising consents stale, not note_sync's
	for _, tc := range []struct {
		purposes []string
		want     []string
	}{
		{[]string{"analytics", "marketing"}, []string{"3.1"}},
		{[]string{"note_sync"}, []string{"3.0", "3.1"}},
		{nil, []string{"3.0", "3.1"}},
	} {
		got, err := e.svc.ConsentVersions(tc.purposes)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ConsentVersions(%v) = %v, %v; want %v", tc.purposes, got, err, tc.want)
		}
	}
}
