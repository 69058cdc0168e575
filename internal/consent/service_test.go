package consent_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/keystore/keystoretest"
	"github.com/custos-privacy/custos/internal/receipt"
	"github.com/custos-privacy/custos/internal/seal"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

// Manifests the tests publish.
const (
	starterV1 = "../../examples/starter/custos.yaml"    // version 3.0
	starterV2 = "../../examples/starter/custos-v2.yaml" // version 3.1
	signalsV1 = "testdata/signals.yaml"                 // version 1.0
	signalsV2 = "testdata/signals-v2.yaml"              // version 1.1
)

var (
	admin     = consent.Actor{ID: "key_test", Role: "admin", Place: "127.0.0.1 test-host"}
	hashKey   = bytes.Repeat([]byte{0x42}, 32)
	auditKey  = []byte("audit chain key for the consent tests")
	notice    = sha256Hex("Allow usage statistics? We count which features you use.")
	adultDate = time.Now().AddDate(-30, 0, 0).Format(time.DateOnly)
	childDate = time.Now().AddDate(-10, 0, 0).Format(time.DateOnly)
)

// Personal data the tests register; none of it may leak.
const (
	rawEmail = "  Alice.Wong@Example.COM "
	rawPhone = "138 0013 8000"
)

// leaks lists every form of rawEmail and rawPhone that must never appear.
var leaks = []string{"alice.wong", "Alice.Wong", "13800138000", "+8613800138000", "0013 8000", "0013-8000"}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// env is a consent service on a fresh SQLite database, on a clock the
// test moves.
type env struct {
	svc    *consent.Service
	st     *store.Store
	path   string
	opt    consent.Options
	signer *receipt.Signer
	clock  *clocktest.Clock
}

func newClock() *clocktest.Clock { return clocktest.New(time.Now()) }

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvOn(t, filepath.Join(t.TempDir(), "c.db"))
}

// newEnvOn is newEnv on the database at dsn (a PostgreSQL schema, say).
func newEnvOn(t testing.TB, dsn string) *env {
	t.Helper()
	hasher, err := identity.NewHasher(hashKey)
	if err != nil {
		t.Fatal(err)
	}
	keyset, err := seal.GenerateKeyset()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(keyset)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := receipt.GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := receipt.NewSigner(pem)
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	e := &env{path: dsn, signer: signer, clock: clk,
		opt: consent.Options{Hasher: hasher, Keys: keystoretest.New(t, sealer), Signer: signer, CheckSample: 1, Now: clk.Now}}
	e.st, e.svc = e.open(t)
	return e
}

// open starts another store and service on e's database, as a second
// instance of the server would.
func (e *env) open(t testing.TB) (*store.Store, *consent.Service) {
	t.Helper()
	st := storetest.Open(t, e.path, store.Options{AuditKey: auditKey})
	svc, err := consent.New(context.Background(), st, e.opt)
	if err != nil {
		t.Fatal(err)
	}
	return st, svc
}

// publish puts a manifest in force. A material change under a manifest
// that promises notice is announced for the earliest instant it may take
// effect, and the clock moved past it.
func (e *env) publish(t testing.TB, path string) consent.Published {
	t.Helper()
	return publishOn(t, e.svc, e.clock, path)
}

func publishOn(t testing.TB, svc *consent.Service, clk *clocktest.Clock, path string) consent.Published {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Publish(context.Background(), admin, filepath.Base(path), src)
	if fe, ok := fault.As(err); ok && fe.Code == "notice_period_too_short" {
		at := clk.Now().AddDate(0, 0, 7)
		if p, err = svc.PublishWith(context.Background(), admin, filepath.Base(path), src, consent.PublishOptions{EffectiveAt: at}); err == nil {
			clk.Advance(at.Sub(clk.Now()) + time.Second)
		}
	}
	if err != nil {
		t.Fatalf("publish %s: %v", path, err)
	}
	return p
}

func (e *env) subject(t testing.TB, in consent.SubjectInput) {
	t.Helper()
	if _, err := e.svc.CreateSubject(context.Background(), admin, in); err != nil {
		t.Fatalf("create subject %s: %v", in.ID, err)
	}
}

// grant is a valid grant from an app dialog.
func grant(purposes ...string) consent.ConsentInput {
	return consent.ConsentInput{Grant: purposes, Method: "app_dialog", Language: "en", NoticeHash: notice}
}

func withdraw(purposes ...string) consent.ConsentInput {
	return consent.ConsentInput{Withdraw: purposes, Method: "app_dialog", Language: "en"}
}

func (e *env) record(t *testing.T, subjectID string, in consent.ConsentInput) []consent.ConsentEvent {
	t.Helper()
	return recordOn(t, e.svc, subjectID, in)
}

func recordOn(t *testing.T, svc *consent.Service, subjectID string, in consent.ConsentInput) []consent.ConsentEvent {
	t.Helper()
	evs, err := svc.Record(context.Background(), admin, subjectID, in)
	if err != nil {
		t.Fatalf("record for %s: %v", subjectID, err)
	}
	return evs
}

// reasons checks purposes for a subject and returns the reason per purpose.
func reasons(t *testing.T, svc *consent.Service, subjectID string, purposes ...string) map[string]string {
	t.Helper()
	res, err := svc.Check(context.Background(), admin, consent.CheckInput{SubjectID: subjectID, Purposes: purposes})
	if err != nil {
		t.Fatalf("check %s: %v", subjectID, err)
	}
	return decisionReasons(t, res)
}

func decisionReasons(t *testing.T, res consent.CheckResult) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range res.Decisions {
		allowed := d.Reason == check.ReasonConsent || strings.HasPrefix(d.Reason, "legal_basis:")
		if d.Allowed != allowed {
			t.Errorf("decision %+v: Allowed does not match the reason", d)
		}
		out[d.Purpose] = d.Reason
	}
	return out
}

// code is the fault code of err, or a description of what err is instead.
func code(err error) string {
	if err == nil {
		return "<nil>"
	}
	fe, ok := fault.As(err)
	if !ok {
		return "not a fault: " + err.Error()
	}
	return fe.Code
}

// noLeak fails if s contains any form of the test's personal data.
func noLeak(t *testing.T, what, s string) {
	t.Helper()
	for _, l := range leaks {
		if strings.Contains(strings.ToLower(s), strings.ToLower(l)) {
			t.Errorf("%s contains personal data %q: %s", what, l, s)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// auditEntries lists the trail after seq. It sets Since: with a zero Since,
// AuditEntries leaks a read connection (TestAuditEntriesReleasesConnections).
func auditEntries(t *testing.T, st *store.Store, after int64) []audit.Entry {
	t.Helper()
	entries, err := st.AuditEntries(context.Background(), store.AuditFilter{After: after, Since: time.Unix(0, 0), Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// waitAudit polls the trail until pred holds for the entries read, for up to
// two seconds: decision records are queued, not waited for.
func waitAudit(t *testing.T, st *store.Store, pred func([]audit.Entry) bool) []audit.Entry {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		entries := auditEntries(t, st, 0)
		if pred(entries) || time.Now().After(deadline) {
			return entries
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNoPolicyYet(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.subject(t, consent.SubjectInput{ID: "u-1"})
	if _, err := e.svc.Check(ctx, admin, consent.CheckInput{SubjectID: "u-1", Purposes: []string{"analytics"}}); code(err) != "no_policy" {
		t.Errorf("Check before any publication: %s, want no_policy", code(err))
	}
	if _, err := e.svc.Record(ctx, admin, "u-1", grant("analytics")); code(err) != "no_policy" {
		t.Errorf("Record before any publication: %s, want no_policy", code(err))
	}
	if fe, _ := fault.As(func() error { _, _, _, err := e.svc.Policy(); return err }()); fe == nil || fe.Kind != fault.Unavailable {
		t.Errorf("Policy before any publication: %v, want an Unavailable fault", fe)
	}
}

func TestCheckInput(t *testing.T) {
	e := newEnv(t)
	e.publish(t, starterV1)
	many := make([]string, 65)
	for i := range many {
		many[i] = "analytics"
	}
	tests := []struct {
		name string
		in   consent.CheckInput
		want string
	}{
		{"no purposes", consent.CheckInput{SubjectID: "u-1"}, "invalid_purposes"},
		{"too many purposes", consent.CheckInput{SubjectID: "u-1", Purposes: many}, "invalid_purposes"},
		{"no subject", consent.CheckInput{Purposes: []string{"analytics"}}, "invalid_subject"},
		{"both id and identity", consent.CheckInput{SubjectID: "u-1", Identity: &consent.IdentityInput{Kind: "email", Value: "a@example.com"}, Purposes: []string{"analytics"}}, "invalid_subject"},
		{"email as subject id", consent.CheckInput{SubjectID: "alice@example.com", Purposes: []string{"analytics"}}, "subject_id_is_pi"},
		{"malformed identity", consent.CheckInput{Identity: &consent.IdentityInput{Kind: "email", Value: "alice.wong"}, Purposes: []string{"analytics"}}, "invalid_identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Check(context.Background(), admin, tt.in)
			if got := code(err); got != tt.want {
				t.Errorf("Check: %s, want %s", got, tt.want)
			}
			if err != nil {
				noLeak(t, "error", err.Error())
				if strings.Contains(err.Error(), "alice") {
					t.Errorf("error quotes the value it refuses: %v", err)
				}
			}
		})
	}
}

func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	e.subject(t, consent.SubjectInput{ID: "u-audit", BirthDate: adultDate, Identities: []consent.IdentityInput{
		{Kind: "email", Value: rawEmail, Keep: true}, {Kind: "phone", Value: rawPhone, Keep: true},
	}})
	e.record(t, "u-audit", grant("analytics", "marketing"))
	e.record(t, "u-audit", withdraw("marketing"))
	if _, err := e.svc.Record(ctx, admin, "u-audit", grant("location_tagging")); code(err) != "separate_consent_required" {
		t.Fatalf("refused grant: %s", code(err))
	}
	if _, err := e.svc.Subject(ctx, admin, "u-audit", "support_ticket"); err != nil {
		t.Fatal(err)
	}

	// Denied and allowed decisions, by id and by identity, for a known and an unknown person.
	res, err := e.svc.Check(ctx, admin, consent.CheckInput{Identity: &consent.IdentityInput{Kind: "phone", Value: rawPhone},
		Purposes: []string{"analytics", "marketing", "advertising", "note_sync", "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	wantReasons := map[string]string{"analytics": "consent", "marketing": "withdrawn", "advertising": "no_consent", "note_sync": "legal_basis:contract", "nope": "unknown_purpose"}
	if diff := cmp.Diff(wantReasons, decisionReasons(t, res)); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
	if _, err := e.svc.Check(ctx, admin, consent.CheckInput{Identity: &consent.IdentityInput{Kind: "email", Value: "bob.stranger@example.com"}, Purposes: []string{"analytics"}}); err != nil {
		t.Fatal(err)
	}

	// type decision is a decision record as the trail keeps it.
	type decision struct{ Action, Object, Purpose, Outcome, Detail string }
	isDecision := func(a string) bool { return strings.HasPrefix(a, "check.") }
	want := []decision{
		{"check.allow", "subject:u-audit", "analytics", "ok", `{"reason":"consent"}`},
		{"check.deny", "subject:u-audit", "marketing", "denied", `{"reason":"withdrawn"}`},
		{"check.deny", "subject:u-audit", "advertising", "denied", `{"reason":"no_consent"}`},
		{"check.allow", "subject:u-audit", "note_sync", "ok", `{"reason":"legal_basis:contract"}`},
		{"check.deny", "subject:u-audit", "nope", "denied", `{"reason":"unknown_purpose"}`},
		{"check.deny", "subject:unknown", "analytics", "denied", `{"reason":"no_consent"}`},
	}
	entries := waitAudit(t, e.st, func(es []audit.Entry) bool {
		n := 0
		for _, x := range es {
			if isDecision(x.Action) {
				n++
			}
		}
		return n >= len(want)
	})
	var got []decision
	for _, x := range entries {
		if isDecision(x.Action) {
			got = append(got, decision{x.Action, x.Object, x.Purpose, x.Outcome, x.Detail})
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decision records (-want +got):\n%s", diff)
	}

	// The state changes are in the trail too, in order.
	var actions []string
	for _, x := range entries {
		if !isDecision(x.Action) {
			actions = append(actions, x.Action+" "+x.Object+" "+x.Purpose+" "+x.Outcome)
		}
	}
	wantActions := []string{
		"policy.publish policy:3.0  ok",
		"subject.create subject:u-audit  ok",
		"consent.grant subject:u-audit analytics ok",
		"consent.grant subject:u-audit marketing ok",
		"consent.withdraw subject:u-audit marketing ok",
		"consent.rejected subject:u-audit location_tagging denied",
		"subject.read subject:u-audit support_ticket ok",
	}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("state changes in the trail (-want +got):\n%s", diff)
	}

	for _, x := range entries {
		if x.Actor != admin.ID || x.Role != admin.Role || x.Place != admin.Place {
			t.Errorf("entry %d: actor %q role %q place %q, want the caller's", x.Seq, x.Actor, x.Role, x.Place)
		}
		if !json.Valid([]byte(x.Detail)) {
			t.Errorf("entry %d: detail %q is not JSON", x.Seq, x.Detail)
		}
		noLeak(t, "audit entry", strings.Join([]string{x.Actor, x.Role, x.Place, x.Action, x.Object, x.Purpose, x.Outcome, x.Detail, string(x.Prev), string(x.Hash)}, "\x00"))
		if strings.Contains(x.Detail+x.Object, "bob.stranger") {
			t.Errorf("entry %d names the unknown person's identity: %+v", x.Seq, x)
		}
	}

	r, err := e.st.VerifyAudit(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || r.Entries != int64(len(entries)) || r.HeadSeq != int64(len(entries)) {
		t.Errorf("VerifyAudit = OK %v, %d entries, head %d, problems %v; want OK with %d entries", r.OK, r.Entries, r.HeadSeq, r.Problems, len(entries))
	}
}

func TestCheckSampleZeroStillRecordsDenials(t *testing.T) {
	e := newEnv(t)
	e.opt.CheckSample = 0
	st, svc := e.open(t)
	publishOn(t, svc, newClock(), starterV1)
	if _, err := svc.CreateSubject(context.Background(), admin, consent.SubjectInput{ID: "u-s"}); err != nil {
		t.Fatal(err)
	}
	recordOn(t, svc, "u-s", grant("analytics"))
	for range 3 {
		reasons(t, svc, "u-s", "analytics", "marketing")
	}
	entries := waitAudit(t, st, func(es []audit.Entry) bool {
		n := 0
		for _, x := range es {
			if x.Action == "check.deny" {
				n++
			}
		}
		return n >= 3
	})
	var got []string
	for _, x := range entries {
		if strings.HasPrefix(x.Action, "check.") {
			got = append(got, x.Action+" "+x.Purpose)
		}
	}
	want := []string{"check.deny marketing", "check.deny marketing", "check.deny marketing"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decision records with CheckSample 0 (-want +got):\n%s", diff)
	}
}

func TestNewRequiresHasher(t *testing.T) {
	e := newEnv(t)
	if _, err := consent.New(context.Background(), e.st, consent.Options{}); err == nil {
		t.Error("New without a hasher succeeded")
	}
}

// TestAuditEntriesReleasesConnections lists the trail more often, within
// one context, than the store has read connections: as VerifyAudit does on a
// long trail, or a job that pages through it.
func TestAuditEntriesReleasesConnections(t *testing.T) {
	e := newEnv(t)
	e.publish(t, starterV1)

	t.Run("AuditEntries", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for i := range 12 {
			if _, err := e.st.AuditEntries(ctx, store.AuditFilter{}); err != nil {
				t.Fatalf("call %d: %v", i+1, err)
			}
		}
	})

	t.Run("VerifyAudit of nine pages", func(t *testing.T) {
		entries := make([]audit.Entry, 9*5000)
		for i := range entries {
			entries[i] = audit.Entry{At: time.Now(), Actor: "system", Action: "test.fill", Object: "test", Outcome: audit.OutcomeOK, Detail: "{}"}
		}
		if err := e.st.AppendAudit(context.Background(), entries...); err != nil {
			t.Fatal(err)
		}
		// The deadline only ends a hang (connections not released); under
		// the race detector on a busy machine nine pages take a while.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		r, err := e.st.VerifyAudit(ctx, nil, nil)
		if err != nil || !r.OK || r.Entries != int64(len(entries))+1 {
			t.Fatalf("VerifyAudit = %d entries, OK %v, %v; want %d entries, OK", r.Entries, r.OK, err, len(entries)+1)
		}
	})
}
