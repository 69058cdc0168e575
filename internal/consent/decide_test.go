package consent_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/consent"
)

// TestCacheSeesOwnWrites toggles a consent and checks right after each
// write, while other goroutines keep loading the subject into the cache: a
// load that began before a write must not put stale state back.
func TestCacheSeesOwnWrites(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	e.subject(t, consent.SubjectInput{ID: "u-1"})
	e.subject(t, consent.SubjectInput{ID: "u-2"})
	reasons(t, e.svc, "u-1", "analytics") // cached as no_consent

	var stop atomic.Bool
	var wg sync.WaitGroup
	var loadErr atomic.Value
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				for _, id := range []string{"u-1", "u-2"} {
					if _, err := e.svc.Check(ctx, admin, consent.CheckInput{SubjectID: id, Purposes: []string{"analytics"}}); err != nil {
						loadErr.Store(err)
						return
					}
				}
			}
		})
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
		if err, ok := loadErr.Load().(error); ok {
			t.Errorf("background check: %v", err)
		}
	}()

	for i := range 30 {
		in, want := grant("analytics"), "consent"
		if i%2 == 1 {
			in, want = withdraw("analytics"), "withdrawn"
		}
		e.record(t, "u-1", in)
		if got := reasons(t, e.svc, "u-1", "analytics")["analytics"]; got != want {
			t.Fatalf("write %d: check right after it says %s, want %s", i, got, want)
		}
	}
}

// TestCacheSeesSubjectCreation checks an id before it is registered: the
// cached absence must end with the registration.
func TestCacheSeesSubjectCreation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	res, err := e.svc.Check(ctx, admin, consent.CheckInput{SubjectID: "u-later", Purposes: []string{"analytics"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.KnownSubject || res.SubjectID != "u-later" {
		t.Errorf("before registration: known %v id %q, want unknown u-later", res.KnownSubject, res.SubjectID)
	}
	e.subject(t, consent.SubjectInput{ID: "u-later"})
	e.record(t, "u-later", grant("analytics"))
	res, err = e.svc.Check(ctx, admin, consent.CheckInput{SubjectID: "u-later", Purposes: []string{"analytics"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.KnownSubject || res.Decisions[0].Reason != "consent" {
		t.Errorf("after registration and grant: %+v, want a known subject with consent", res)
	}
}

// TestPollSeesOtherInstance runs two services on one database: each sees
// the other's writes after Poll.
func TestPollSeesOtherInstance(t *testing.T) {
	a := newEnv(t)
	ctx := context.Background()
	a.publish(t, starterV1)
	_, b := a.open(t)

	var seen []string
	var mu sync.Mutex
	b.OnChange(func(c consent.Change) {
		mu.Lock()
		seen = append(seen, c.Action+" "+c.Object)
		mu.Unlock()
	})

	a.subject(t, consent.SubjectInput{ID: "u-1", Identities: []consent.IdentityInput{{Kind: "email", Value: rawEmail}}})
	// b loads u-1 into its cache.
	if got := reasons(t, b, "u-1", "analytics", "marketing"); !cmp.Equal(got, map[string]string{"analytics": "no_consent", "marketing": "no_consent"}) {
		t.Fatalf("b before any grant: %v", got)
	}

	a.record(t, "u-1", grant("analytics"))
	if err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"analytics": "consent", "marketing": "no_consent"}
	if diff := cmp.Diff(want, reasons(t, b, "u-1", "analytics", "marketing")); diff != "" {
		t.Errorf("b after a's grant and a poll (-want +got):\n%s", diff)
	}

	// And the other way round, by identity.
	if _, err := b.Record(ctx, admin, "u-1", withdraw("analytics")); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := a.svc.Check(ctx, admin, consent.CheckInput{Identity: &consent.IdentityInput{Kind: "email", Value: rawEmail}, Purposes: []string{"analytics"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.SubjectID != "u-1" || res.Decisions[0].Reason != "withdrawn" {
		t.Errorf("a after b's withdrawal and a poll: %+v, want u-1 withdrawn", res)
	}

	// A publication on a reaches b's decisions after a poll.
	a.publish(t, starterV2)
	if err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	a.record(t, "u-1", grant("marketing"))
	if err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = b.Check(ctx, admin, consent.CheckInput{SubjectID: "u-1", Purposes: []string{"marketing", "personalised_recommendations"}})
	if err != nil {
		t.Fatal(err)
	}
	wantRes := map[string]string{"marketing": "consent", "personalised_recommendations": "no_consent"}
	if res.PolicyVersion != "3.1" {
		t.Errorf("b's policy after a poll: %s, want 3.1", res.PolicyVersion)
	}
	if diff := cmp.Diff(wantRes, decisionReasons(t, res)); diff != "" {
		t.Errorf("b after 3.1 (-want +got):\n%s", diff)
	}

	mu.Lock()
	defer mu.Unlock()
	wantSeen := []string{
		"subject.create subject:u-1",
		"consent.grant subject:u-1",
		"consent.withdraw subject:u-1", // b's own write, seen like any other
		"policy.publish policy:3.1",
		"consent.grant subject:u-1",
	}
	if diff := cmp.Diff(wantSeen, seen); diff != "" {
		t.Errorf("changes b was told of (-want +got):\n%s", diff)
	}
}

// TestPollAppliesGuardianAge publishes, on one instance, a version that
// turns an adults-only service into one that takes a guardian's consent.
// Another instance that has the subject cached must decide as the
// publishing one does once it has polled.
func TestPollAppliesGuardianAge(t *testing.T) {
	a := newEnv(t)
	ctx := context.Background()
	a.publish(t, signalsV1) // adults only
	_, b := a.open(t)
	a.subject(t, consent.SubjectInput{ID: "u-kid", BirthDate: childDate})
	if err := b.Poll(ctx); err != nil { // b is up to date before it caches u-kid
		t.Fatal(err)
	}

	purposes := []string{"analytics"}
	if diff := cmp.Diff(map[string]string{"analytics": "minor_not_served"}, reasons(t, b, "u-kid", purposes...)); diff != "" {
		t.Fatalf("b under 1.0 (-want +got):\n%s", diff)
	}

	a.publish(t, "testdata/minors.yaml") // guardian consent below 14
	if err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	want := reasons(t, a.svc, "u-kid", purposes...)
	if diff := cmp.Diff(map[string]string{"analytics": "guardian_consent_required"}, want); diff != "" {
		t.Fatalf("a under 2.0 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, reasons(t, b, "u-kid", purposes...)); diff != "" {
		t.Errorf("b after polling 2.0 decides otherwise than a (-a +b):\n%s", diff)
	}
}

// TestConcurrentChecksAndWrites runs many subjects' writes and checks at
// once; every subject's last write must be what its check says.
func TestConcurrentChecksAndWrites(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	const n = 16
	for i := range n {
		e.subject(t, consent.SubjectInput{ID: fmt.Sprintf("u-%d", i)})
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("u-%d", i)
			for j := range 6 {
				in, want := grant("marketing"), "consent"
				if j%2 == 1 {
					in, want = withdraw("marketing"), "withdrawn"
				}
				if _, err := e.svc.Record(ctx, admin, id, in); err != nil {
					errs <- err
					return
				}
				res, err := e.svc.Check(ctx, admin, consent.CheckInput{SubjectID: id, Purposes: []string{"marketing"}})
				if err != nil {
					errs <- err
					return
				}
				if res.Decisions[0].Reason != want {
					errs <- fmt.Errorf("%s write %d: check says %s, want %s", id, j, res.Decisions[0].Reason, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r, err := e.st.VerifyAudit(ctx, nil, nil)
	if err != nil || !r.OK {
		t.Errorf("VerifyAudit after concurrent writes: %+v, %v", r, err)
	}
}

// TestOnAllowed: the hook is told of each allowed decision about a named
// subject, with the act asked about, and of nothing else.
func TestOnAllowed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(t, starterV1)
	e.subject(t, consent.SubjectInput{ID: "u-told"})
	e.record(t, "u-told", grant("analytics"))
	var told []string
	e.svc.OnAllowed(func(subjectID, purpose string, act check.Act) {
		told = append(told, subjectID+"/"+purpose+"/"+check.ActKey(act))
	})
	for _, in := range []consent.CheckInput{
		{SubjectID: "u-told", Purposes: []string{"analytics", "marketing"}},
		{SubjectID: "u-told", Purposes: []string{"analytics"}, Recipient: "ad-measurement"},
	} {
		if _, err := e.svc.Check(ctx, admin, in); err != nil {
			t.Fatal(err)
		}
	}
	e.svc.OnAllowed(nil)
	if _, err := e.svc.Check(ctx, admin, consent.CheckInput{SubjectID: "u-told", Purposes: []string{"analytics"}}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"u-told/analytics/"}; !slices.Equal(told, want) {
		t.Errorf("told %v, want %v", told, want)
	}
}
