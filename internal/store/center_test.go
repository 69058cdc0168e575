package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWards(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, sub := range []Subject{
			{ID: "g-1"}, {ID: "g-2"},
			{ID: "m-2", GuardianID: "g-1"}, {ID: "m-1", GuardianID: "g-1"}, {ID: "m-3", GuardianID: "g-2"},
		} {
			if err := s.CreateSubject(ctx, sub); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			guardian string
			want     []string
		}{
			{"g-1", []string{"m-1", "m-2"}},
			{"g-2", []string{"m-3"}},
			{"m-1", nil},
			{"nobody", nil},
		} {
			got, err := s.Wards(ctx, tc.guardian)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Wards(%s) (-want +got):\n%s", tc.guardian, diff)
			}
		}
		// Erasing a ward's guardian unlinks the ward.
		if err := s.Submit(ctx, &Write{Fn: s.EraseSubjectFn("g-2", noShred)}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Wards(ctx, "g-2"); err != nil || len(got) != 0 {
			t.Errorf("after erasure Wards(g-2) = %v, %v; want none", got, err)
		}
	})
}

func TestSignins(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.CreateSubject(ctx, Subject{ID: "u-1"}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().Truncate(time.Microsecond)
		old := Signin{ID: "si_old", SubjectID: "u-1", CodeHash: []byte("h0"), ExpiresAt: now.Add(-time.Minute), CreatedAt: now.Add(-16 * time.Minute)}
		if err := s.PutSignin(ctx, old); err != nil {
			t.Fatal(err)
		}
		for _, si := range []Signin{
			{ID: "si_1", SubjectID: "u-1", CodeHash: []byte("h1"), ExpiresAt: now.Add(15 * time.Minute), CreatedAt: now},
			{ID: "si_2", CodeHash: []byte("h2"), ExpiresAt: now.Add(15 * time.Minute), CreatedAt: now}, // identity not on file
		} {
			if err := s.PutSignin(ctx, si); err != nil {
				t.Fatal(err)
			}
		}
		// Storing a sign-in dropped the expired one.
		if _, err := s.SigninAttempt(ctx, "si_old"); !errors.Is(err, ErrNotFound) {
			t.Errorf("expired sign-in still there: %v", err)
		}
		for want := 1; want <= 3; want++ {
			got, err := s.SigninAttempt(ctx, "si_1")
			if err != nil {
				t.Fatal(err)
			}
			if got.Attempts != want || got.SubjectID != "u-1" || string(got.CodeHash) != "h1" || !got.ExpiresAt.Equal(now.Add(15*time.Minute)) {
				t.Errorf("attempt %d: %+v", want, got)
			}
		}
		if got, err := s.SigninAttempt(ctx, "si_2"); err != nil || got.SubjectID != "" {
			t.Errorf("sign-in for an identity not on file: %+v, %v", got, err)
		}
		if err := s.DeleteSignin(ctx, "si_2"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SigninAttempt(ctx, "si_2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted sign-in: %v", err)
		}
		// Erasing the subject ends their sign-ins.
		if err := s.Submit(ctx, &Write{Fn: s.EraseSubjectFn("u-1", noShred)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SigninAttempt(ctx, "si_1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("a sign-in outlived erasure: %v", err)
		}
	})
}
