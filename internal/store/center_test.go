package store

import (
	"context"
	"testing"

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
		if err := s.Submit(ctx, &Write{Fn: s.EraseSubjectFn("g-2")}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Wards(ctx, "g-2"); err != nil || len(got) != 0 {
			t.Errorf("after erasure Wards(g-2) = %v, %v; want none", got, err)
		}
	})
}
