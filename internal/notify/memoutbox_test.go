package notify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMemOutbox(t *testing.T) {
	ctx := context.Background()
	ob := &MemOutbox{}
	for _, d := range []Delivery{
		{ID: "dl_c", NextAt: t0.Add(-time.Minute), Sealed: []byte("v")},
		{ID: "dl_a", NextAt: t0},
		{ID: "dl_b", NextAt: t0.Add(-time.Minute)},
		{ID: "dl_future", NextAt: t0.Add(time.Second)},
		{ID: "dl_sent", NextAt: t0.Add(-time.Hour), Status: StatusSent},
		{ID: "dl_dead", NextAt: t0.Add(-time.Hour), Status: StatusDead},
	} {
		if err := ob.Enqueue(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(ds []Delivery) []string {
		var s []string
		for _, d := range ds {
			s = append(s, d.ID)
		}
		return s
	}
	tests := []struct {
		name  string
		limit int
		want  []string
	}{
		{"earliest first, then by id", 0, []string{"dl_b", "dl_c", "dl_a"}},
		{"limited", 2, []string{"dl_b", "dl_c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, err := ob.Due(ctx, t0, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, ids(due)); d != "" {
				t.Errorf("Due (-want +got):\n%s", d)
			}
		})
	}

	// Returned deliveries are copies.
	due, _ := ob.Due(ctx, t0, 0)
	due[1].Sealed[0] = 'x'
	if got, _ := ob.Get("dl_c"); string(got.Sealed) != "v" {
		t.Errorf("changing a returned delivery changed the outbox")
	}

	if err := ob.Enqueue(ctx, Delivery{ID: "dl_a"}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("Enqueue of a held id = %v, want ErrDuplicate", err)
	}
	if err := ob.MarkSent(ctx, "dl_nope", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkSent of an unknown id = %v, want ErrNotFound", err)
	}
	if err := ob.MarkFailed(ctx, "dl_nope", 1, t0, false, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkFailed of an unknown id = %v, want ErrNotFound", err)
	}
	if _, err := ob.Get("dl_nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of an unknown id = %v, want ErrNotFound", err)
	}

	if err := ob.MarkFailed(ctx, "dl_a", 3, t0.Add(time.Hour), false, "timeout"); err != nil {
		t.Fatal(err)
	}
	if err := ob.MarkFailed(ctx, "dl_b", 8, t0, true, "gave up"); err != nil {
		t.Fatal(err)
	}
	if err := ob.MarkSent(ctx, "dl_c", t0); err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID, Status, LastError string
		Attempts              int
		NextAt, SentAt        time.Time
	}
	var got []row
	for _, d := range ob.All() {
		got = append(got, row{d.ID, d.Status, d.LastError, d.Attempts, d.NextAt, d.SentAt})
	}
	want := []row{
		{"dl_a", StatusPending, "timeout", 3, t0.Add(time.Hour), time.Time{}},
		{"dl_b", StatusDead, "gave up", 8, t0, time.Time{}},
		{"dl_c", StatusSent, "", 1, t0.Add(-time.Minute), t0},
		{"dl_dead", StatusDead, "", 0, t0.Add(-time.Hour), time.Time{}},
		{"dl_future", StatusPending, "", 0, t0.Add(time.Second), time.Time{}},
		{"dl_sent", StatusSent, "", 0, t0.Add(-time.Hour), time.Time{}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("All after marking (-want +got):\n%s", d)
	}
	if due, _ := ob.Due(ctx, t0, 0); len(due) != 0 {
		t.Errorf("Due after marking = %v, want none", ids(due))
	}
}

// keyLedger is a Destroyer that records what it destroyed.
type keyLedger struct{ destroyed []string }

func (k *keyLedger) Destroy(_ context.Context, owners ...string) (int, error) {
	k.destroyed = append(k.destroyed, owners...)
	return len(owners), nil
}

// TestPurge: a settled delivery past its retention loses its key, then its
// payload; a pending one, or one settled since, keeps both.
func TestPurge(t *testing.T) {
	ctx := context.Background()
	ob := &MemOutbox{}
	for _, d := range []Delivery{
		{ID: "dl_old_sent", Status: StatusSent, SentAt: t0.Add(-48 * time.Hour), Sealed: []byte("s")},
		{ID: "dl_old_dead", Status: StatusDead, NextAt: t0.Add(-48 * time.Hour), Sealed: []byte("s")},
		{ID: "dl_new_sent", Status: StatusSent, SentAt: t0.Add(-time.Hour), Sealed: []byte("s")},
		{ID: "dl_pending", Status: StatusPending, NextAt: t0.Add(-48 * time.Hour), Sealed: []byte("s")},
	} {
		if err := ob.Enqueue(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	keys := &keyLedger{}
	n, err := Purge(ctx, ob, keys, t0.Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v; want 2", n, err)
	}
	if d := cmp.Diff([]string{Owner("dl_old_dead"), Owner("dl_old_sent")}, keys.destroyed); d != "" {
		t.Errorf("keys destroyed (-want +got):\n%s", d)
	}
	for id, kept := range map[string]bool{"dl_old_sent": false, "dl_old_dead": false, "dl_new_sent": true, "dl_pending": true} {
		d, err := ob.Get(id)
		if err != nil {
			t.Fatalf("%s: the record went with the payload: %v", id, err)
		}
		if (len(d.Sealed) > 0) != kept {
			t.Errorf("%s: payload kept = %v, want %v", id, len(d.Sealed) > 0, kept)
		}
	}
	if n, err := Purge(ctx, ob, keys, t0.Add(-24*time.Hour)); err != nil || n != 0 {
		t.Errorf("second Purge = %d, %v; want nothing left to purge", n, err)
	}
}
