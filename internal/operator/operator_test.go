package operator

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

var testParams = Params{Memory: 4 * 1024, Time: 1, Threads: 1, KeyLen: 32}

var admin = consent.Actor{ID: "test", Role: "admin", Place: "test"}

func newTestService(t *testing.T, wrap func(*store.Store) Store) (*Service, *store.Store) {
	t.Helper()
	st := storetest.SQLite(t)
	var s Store = st
	if wrap != nil {
		s = wrap(st)
	}
	svc, err := New(s, Options{Params: testParams})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st
}

// signIns returns the sign-in outcomes audited for an account, in order:
// "ok", or the reason of a refusal.
func signIns(t *testing.T, st *store.Store, o store.Operator) []string {
	t.Helper()
	entries, err := st.AuditEntries(context.Background(), store.AuditFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Action != "console.sign_in" || e.Object != "operator:"+o.ID {
			continue
		}
		if e.Outcome == "ok" {
			out = append(out, "ok")
			continue
		}
		var d struct{ Reason string }
		json.Unmarshal([]byte(e.Detail), &d)
		out = append(out, d.Reason)
	}
	return out
}

// TestParallelGuessesStopAtLimit: many wrong passwords at once count no
// more than MaxFailures; then the right password is refused (locked).
func TestParallelGuessesStopAtLimit(t *testing.T) {
	svc, st := newTestService(t, nil)
	ctx := context.Background()
	o, err := svc.Create(ctx, admin, SetByCLI, "alice", "", RoleOperator, "the-right-password")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if _, _, err := svc.SignIn(ctx, "test", "alice", "a-wrong-password"); !errors.Is(err, ErrSignIn) {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
	wg.Wait()
	if _, _, err := svc.SignIn(ctx, "test", "alice", "the-right-password"); !errors.Is(err, ErrSignIn) {
		t.Fatalf("the right password after 40 wrong ones: %v, want ErrSignIn (locked)", err)
	}
	wrong := 0
	for _, r := range signIns(t, st, o) {
		if r == "wrong_password" {
			wrong++
		}
	}
	if wrong != svc.Options().MaxFailures {
		t.Errorf("%d failures counted, want exactly %d before the lock", wrong, svc.Options().MaxFailures)
	}
	got, _ := st.Operator(ctx, o.ID)
	if !time.Now().Before(got.LockedUntil) {
		t.Errorf("account not locked: %v", got.LockedUntil)
	}
}

// TestParallelRightAmongWrong: the right password sent among many wrong
// ones at once succeeds only if fewer than MaxFailures failures were
// counted before it; and no more than MaxFailures are ever counted
// before the lock.
func TestParallelRightAmongWrong(t *testing.T) {
	for round := range 5 {
		svc, st := newTestService(t, nil)
		ctx := context.Background()
		o, err := svc.Create(ctx, admin, SetByCLI, "alice", "", RoleOperator, "the-right-password")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 41 {
			wg.Go(func() {
				pw := "a-wrong-password"
				if i == 20+round {
					pw = "the-right-password"
				}
				svc.SignIn(ctx, "test", "alice", pw)
			})
		}
		wg.Wait()
		failures, locked := 0, false
		for i, r := range signIns(t, st, o) {
			switch r {
			case "ok":
				if locked || failures >= svc.Options().MaxFailures {
					t.Fatalf("round %d, attempt %d: signed in after %d failures (locked %v)", round, i, failures, locked)
				}
				failures = 0
			case "wrong_password":
				if locked {
					t.Fatalf("round %d, attempt %d: a failure counted while locked", round, i)
				}
				failures++
				if failures == svc.Options().MaxFailures {
					locked = true
				}
			case "locked":
				if !locked {
					t.Fatalf("round %d, attempt %d: refused as locked before the lock", round, i)
				}
			}
		}
	}
}

// lockingStore locks the account right after it has been read, as a
// parallel sign-in or another instance would.
type lockingStore struct {
	*store.Store
	once sync.Once
}

func (l *lockingStore) OperatorByUsername(ctx context.Context, username string) (store.Operator, error) {
	o, err := l.Store.OperatorByUsername(ctx, username)
	if err == nil {
		l.once.Do(func() {
			now := time.Now()
			for range 5 {
				l.Store.RecordSignInFailure(ctx, o.ID, 5, now, now.Add(time.Hour))
			}
		})
	}
	return o, err
}

// TestNoSessionAfterLock: an account locked between the password check
// and the session's start gets no session: the database decides.
func TestNoSessionAfterLock(t *testing.T) {
	var ls *lockingStore
	svc, st := newTestService(t, func(st *store.Store) Store { ls = &lockingStore{Store: st}; return ls })
	ctx := context.Background()
	o, err := svc.Create(ctx, admin, SetByCLI, "alice", "", RoleOperator, "the-right-password")
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := svc.SignIn(ctx, "test", "alice", "the-right-password")
	if !errors.Is(err, ErrSignIn) {
		t.Fatalf("sign-in on an account locked meanwhile: %v, want ErrSignIn", err)
	}
	if token != "" {
		t.Error("a token was issued")
	}
	got, _ := st.Operator(ctx, o.ID)
	if !time.Now().Before(got.LockedUntil) {
		t.Errorf("the sign-in lifted the lock: %v", got.LockedUntil)
	}
}

// TestHashingCap: when every hashing slot is taken, a sign-in waits and
// gives up with ErrBusy when its context ends.
func TestHashingCap(t *testing.T) {
	svc, _ := newTestService(t, nil)
	ctx := context.Background()
	if _, err := svc.Create(ctx, admin, SetByCLI, "alice", "", RoleOperator, "the-right-password"); err != nil {
		t.Fatal(err)
	}
	if cap(svc.hashing) != 4 {
		t.Errorf("%d hashes at once, want 4", cap(svc.hashing))
	}
	for range cap(svc.hashing) {
		svc.hashing <- struct{}{}
	}
	// Long enough for the account lookup before the wait, even under the
	// race detector on a busy machine: the wait itself is what times out.
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, _, err := svc.SignIn(short, "test", "alice", "the-right-password"); !errors.Is(err, ErrBusy) {
		t.Fatalf("sign-in with every slot taken: %v, want ErrBusy", err)
	}
	<-svc.hashing
	if _, _, err := svc.SignIn(ctx, "test", "alice", "the-right-password"); err != nil {
		t.Fatalf("sign-in with a slot free: %v", err)
	}
}

// TestHashingGateShared: services given one gate (a deployment's
// organisations) share its cap: with the slot taken by one, another's
// sign-in waits and gives up. They share the dummy hash too, computed
// once for the process.
func TestHashingGateShared(t *testing.T) {
	ctx := context.Background()
	gate := NewGate(1)
	var svcs []*Service
	for range 2 {
		svc, err := New(storetest.SQLite(t), Options{Params: testParams, Gate: gate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Create(ctx, admin, SetByCLI, "alice", "", RoleOperator, "the-right-password"); err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	if svcs[0].dummy != svcs[1].dummy {
		t.Error("each service computed a dummy hash of its own")
	}
	svcs[0].hashing <- struct{}{} // the first organisation's sign-in in progress
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, _, err := svcs[1].SignIn(short, "test", "alice", "the-right-password"); !errors.Is(err, ErrBusy) {
		t.Fatalf("sign-in with the shared slot taken: %v, want ErrBusy", err)
	}
	<-svcs[0].hashing
	if _, _, err := svcs[1].SignIn(ctx, "test", "alice", "the-right-password"); err != nil {
		t.Fatalf("sign-in with the slot free: %v", err)
	}
}

// TestPasswordSetBy: who set a password is recorded; an operator's own
// change makes the account theirs and needs the current password.
func TestPasswordSetBy(t *testing.T) {
	svc, st := newTestService(t, nil)
	ctx := context.Background()
	for _, name := range []string{SetByCLI, SetBySystem} {
		if _, err := svc.Create(ctx, admin, SetByCLI, name, "", RoleOperator, "the-right-password"); err == nil {
			t.Errorf("an account named %q was created", name)
		}
	}
	o, err := svc.Create(ctx, admin, "root", "alice", "", RoleOperator, "the-right-password")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Operator(ctx, o.ID); got.PasswordSetBy != "root" {
		t.Errorf("created: set by %q, want root", got.PasswordSetBy)
	}
	if err := svc.ResetPassword(ctx, admin, "boss", "alice", "another-password"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Operator(ctx, o.ID); got.PasswordSetBy != "boss" {
		t.Errorf("reset: set by %q, want boss", got.PasswordSetBy)
	}
	if err := svc.ChangePassword(ctx, admin, o.ID, "another-password", "mine-only-password", "mine-only-passwort"); err == nil {
		t.Error("a change with a mistyped repetition went through")
	}
	if err := svc.ChangePassword(ctx, admin, o.ID, "wrong-password!", "mine-only-password", "mine-only-password"); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("a change with the wrong current password: %v", err)
	}
	if err := svc.ChangePassword(ctx, admin, o.ID, "another-password", "mine-only-password", "mine-only-password"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Operator(ctx, o.ID); got.PasswordSetBy != "alice" {
		t.Errorf("own change: set by %q, want alice", got.PasswordSetBy)
	}
	if _, _, err := svc.SignIn(ctx, "test", "alice", "mine-only-password"); err != nil {
		t.Errorf("sign-in with the new password: %v", err)
	}
}
