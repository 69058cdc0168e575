package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestOperatorsContract covers console accounts and sessions on every
// backend: unique usernames, failure counting and lockout, session
// lookup by token hash, and what a password reset or disabling ends.
func TestOperatorsContract(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
		op := Operator{ID: "op_1", Username: "alice", DisplayName: "Alice", Role: "operator", PasswordHash: "$argon2id$x", PasswordSetBy: "root", CreatedAt: now, UpdatedAt: now}
		if err := s.CreateOperator(ctx, op, entry("operator.create", "operator:op_1")); err != nil {
			t.Fatal(err)
		}
		dup := op
		dup.ID = "op_2"
		if err := s.CreateOperator(ctx, dup); !errors.Is(err, ErrConflict) {
			t.Fatalf("second account named alice: %v, want ErrConflict", err)
		}
		got, err := s.OperatorByUsername(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(op, got); diff != "" {
			t.Errorf("operator (-want +got):\n%s", diff)
		}
		if _, err := s.OperatorByUsername(ctx, "bob"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown username: %v, want ErrNotFound", err)
		}

		lock := now.Add(15 * time.Minute)
		for i := 1; i <= 5; i++ {
			n, err := s.RecordSignInFailure(ctx, op.ID, 5, now, lock)
			if err != nil || n != i {
				t.Fatalf("failure %d: count %d, %v", i, n, err)
			}
		}
		got, _ = s.Operator(ctx, op.ID)
		if !got.LockedUntil.Equal(lock) || got.FailedCount != 0 {
			t.Fatalf("after 5 failures: locked until %v, count %d; want %v, 0", got.LockedUntil, got.FailedCount, lock)
		}
		// A locked account counts no more failures, and gets no session
		// when the guard is checked inside the transaction.
		if _, err := s.RecordSignInFailure(ctx, op.ID, 5, now.Add(time.Minute), lock.Add(time.Hour)); !errors.Is(err, ErrLocked) {
			t.Errorf("failure while locked: %v, want ErrLocked", err)
		}
		if got, _ = s.Operator(ctx, op.ID); got.FailedCount != 0 || !got.LockedUntil.Equal(lock) {
			t.Errorf("failure while locked changed the account: count %d, locked until %v", got.FailedCount, got.LockedUntil)
		}
		guard := SessionGuard{Now: now.Add(time.Minute), MaxFailures: 5, PasswordHash: op.PasswordHash}
		locked := Session{TokenHash: []byte("locked-session-hash-0123456789ab"), OperatorID: op.ID, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.StartSession(ctx, locked, guard); !errors.Is(err, ErrLocked) {
			t.Errorf("session on a locked account: %v, want ErrLocked", err)
		}
		if _, err := s.SessionByHash(ctx, locked.TokenHash); !errors.Is(err, ErrNotFound) {
			t.Errorf("a locked account got a session: %v", err)
		}
		guard.Now = lock
		guard.PasswordHash = "$argon2id$other"
		if err := s.StartSession(ctx, locked, guard); !errors.Is(err, ErrLocked) {
			t.Errorf("session after the password changed: %v, want ErrLocked", err)
		}
		guard.PasswordHash = op.PasswordHash
		for i := 1; i < 5; i++ {
			s.RecordSignInFailure(ctx, op.ID, 5, lock, lock.Add(time.Hour))
		}
		if err := s.StartSession(ctx, locked, SessionGuard{Now: lock, MaxFailures: 4, PasswordHash: op.PasswordHash}); !errors.Is(err, ErrLocked) {
			t.Errorf("session with the failure limit reached: %v, want ErrLocked", err)
		}
		if err := s.StartSession(ctx, locked, guard); err != nil {
			t.Fatalf("session once the lock has passed: %v", err)
		}
		if err := s.EndSession(ctx, locked.TokenHash); err != nil {
			t.Fatal(err)
		}

		hash := []byte("0123456789abcdef0123456789abcdef")
		se := Session{TokenHash: hash, OperatorID: op.ID, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(12 * time.Hour)}
		if err := s.StartSession(ctx, se, SessionGuard{}); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Operator(ctx, op.ID)
		if !got.LockedUntil.IsZero() {
			t.Errorf("a session start leaves the lock in place: %v", got.LockedUntil)
		}
		gotSe, err := s.SessionByHash(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(se, gotSe); diff != "" {
			t.Errorf("session (-want +got):\n%s", diff)
		}
		if err := s.TouchSession(ctx, hash, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if gotSe, _ = s.SessionByHash(ctx, hash); !gotSe.LastSeen.Equal(now.Add(time.Minute)) {
			t.Errorf("last seen %v after touch", gotSe.LastSeen)
		}

		if err := s.SetOperatorPassword(ctx, op.ID, "$argon2id$y", "alice", now); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Operator(ctx, op.ID); got.PasswordSetBy != "alice" {
			t.Errorf("password set by %q after a change, want alice", got.PasswordSetBy)
		}
		if _, err := s.SessionByHash(ctx, hash); !errors.Is(err, ErrNotFound) {
			t.Errorf("session after a password reset: %v, want ErrNotFound", err)
		}
		if err := s.StartSession(ctx, se, SessionGuard{}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetOperatorDisabled(ctx, op.ID, true, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByHash(ctx, hash); !errors.Is(err, ErrNotFound) {
			t.Errorf("session after disabling: %v, want ErrNotFound", err)
		}
		if got, _ = s.Operator(ctx, op.ID); !got.Disabled || got.PasswordHash != "$argon2id$y" {
			t.Errorf("disabled %v, hash %q", got.Disabled, got.PasswordHash)
		}
		if err := s.SetOperatorDisabled(ctx, "op_nobody", true, now); !errors.Is(err, ErrNotFound) {
			t.Errorf("disable unknown: %v, want ErrNotFound", err)
		}

		// Expiry: one session past its absolute end, one idle, one live.
		s.SetOperatorDisabled(ctx, op.ID, false, now)
		for i, e := range []struct{ seen, expires time.Time }{
			{now, now.Add(-time.Second)},
			{now.Add(-2 * time.Hour), now.Add(time.Hour)},
			{now, now.Add(time.Hour)},
		} {
			h := append([]byte("session-hash-"), byte('a'+i))
			if err := s.StartSession(ctx, Session{TokenHash: h, OperatorID: op.ID, CreatedAt: now, LastSeen: e.seen, ExpiresAt: e.expires}, SessionGuard{}); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.DeleteExpiredSessions(ctx, now, now.Add(-time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("expired sessions deleted: %d, %v; want 2", n, err)
		}
		if _, err := s.SessionByHash(ctx, []byte("session-hash-c")); err != nil {
			t.Errorf("live session: %v", err)
		}
		ops, err := s.Operators(ctx)
		if err != nil || len(ops) != 1 || ops[0].Username != "alice" {
			t.Errorf("operators = %v, %v", ops, err)
		}
	})
}
