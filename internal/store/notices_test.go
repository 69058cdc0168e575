package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/notify"
)

func TestSubjectPlace(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.CreateSubject(ctx, Subject{ID: "u-1", Jurisdiction: "EU", Language: "en"}); err != nil {
			t.Fatal(err)
		}
		sub, err := s.Subject(ctx, "u-1")
		if err != nil || sub.Jurisdiction != "EU" || sub.Language != "en" {
			t.Fatalf("Subject = %+v, %v; want EU, en", sub, err)
		}
		cn, zh := "CN", "zh-CN"
		if err := s.UpdateSubject(ctx, "u-1", SubjectPatch{Jurisdiction: &cn, Language: &zh}); err != nil {
			t.Fatal(err)
		}
		if sub, _ = s.Subject(ctx, "u-1"); sub.Jurisdiction != "CN" || sub.Language != "zh-CN" {
			t.Errorf("after the patch: %q %q, want CN zh-CN", sub.Jurisdiction, sub.Language)
		}
	})
}

func TestPolicySchedule(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Now().Truncate(time.Microsecond)
		v1, _, err := s.PublishPolicy(ctx, PolicyVersion{Version: "1", SHA256: "a", Manifest: "m1", PublishedAt: now}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !v1.EffectiveAt.Equal(now) {
			t.Errorf("a version without an effective time takes effect when published: %v, want %v", v1.EffectiveAt, now)
		}
		later := now.AddDate(0, 0, 7)
		if _, _, err := s.PublishPolicy(ctx, PolicyVersion{Version: "2", SHA256: "b", Manifest: "m2", PublishedAt: now, EffectiveAt: later,
			Material: true, Reconsent: []string{"ads"}, Accept: []string{"sync"}, NoticesPending: true}, 1); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.PublishPolicy(ctx, PolicyVersion{Version: "3", SHA256: "c", Manifest: "m3", PublishedAt: now, EffectiveAt: now.AddDate(0, 0, 1)}, 2); !errors.Is(err, ErrEffectiveOrder) {
			t.Errorf("a version taking effect before the one published earlier: %v, want ErrEffectiveOrder", err)
		}
		vs, err := s.PolicyVersions(ctx)
		if err != nil || len(vs) != 2 {
			t.Fatalf("PolicyVersions = %d, %v", len(vs), err)
		}
		got := vs[1]
		if !got.EffectiveAt.Equal(later) || !got.NoticesPending || cmp.Diff([]string{"sync"}, got.Accept) != "" || cmp.Diff([]string{"ads"}, got.Reconsent) != "" {
			t.Errorf("version 2 = %+v", got)
		}
	})
}

func TestNotices(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for i := 1; i <= 5; i++ {
			sub := Subject{ID: fmt.Sprintf("u-%d", i), Language: "en"}
			if i != 3 { // u-3 keeps no address
				sub.Identities = []Identity{{Kind: "email", Hash: []byte{byte(i)}, Sealed: []byte("sealed")}}
			}
			if err := s.CreateSubject(ctx, sub); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AppendConsents(ctx, []ConsentEvent{consent("e1", "u-4", "ads", ActionGrant, 1)}, nil); err != nil {
			t.Fatal(err)
		}
		ids := func(ts []NoticeTarget) []string {
			var out []string
			for _, t := range ts {
				out = append(out, t.ID)
			}
			return out
		}
		ts, err := s.NoticeTargets(ctx, "", 2, nil)
		if err != nil || cmp.Diff([]string{"u-1", "u-2"}, ids(ts)) != "" || len(ts[0].Identities) != 1 || ts[0].Language != "en" {
			t.Fatalf("first page = %+v, %v", ts, err)
		}
		if ts, _ = s.NoticeTargets(ctx, "u-2", 10, nil); cmp.Diff([]string{"u-4", "u-5"}, ids(ts)) != "" {
			t.Errorf("second page = %v, want u-4 u-5 (u-3 keeps no address)", ids(ts))
		}
		if ts, _ = s.NoticeTargets(ctx, "", 10, []string{"ads"}); cmp.Diff([]string{"u-4"}, ids(ts)) != "" {
			t.Errorf("holders of ads = %v, want u-4", ids(ts))
		}

		if _, _, err := s.PublishPolicy(ctx, PolicyVersion{Version: "1", SHA256: "a", Manifest: "m", Material: true, NoticesPending: true}, 0); err != nil {
			t.Fatal(err)
		}
		d := notify.Delivery{ID: "dl_1", Channel: notify.ChannelEmail, Sealed: []byte("x"), Template: "policy_change", Lang: "en",
			NextAt: time.Now(), Status: notify.StatusPending, Subject: "u-1"}
		if err := s.QueueNotices(ctx, 1, "", "u-2", false, []notify.Delivery{d}, entry("policy.notices", "policy:1")); err != nil {
			t.Fatal(err)
		}
		// Another instance that read the old cursor loses: the batch is not queued twice.
		d.ID = "dl_2"
		if err := s.QueueNotices(ctx, 1, "", "u-2", false, []notify.Delivery{d}); !errors.Is(err, ErrConflict) {
			t.Errorf("a second commit of the same batch: %v, want ErrConflict", err)
		}
		if err := s.QueueNotices(ctx, 1, "u-2", "u-5", true, nil); err != nil {
			t.Fatal(err)
		}
		cursor, pending, err := s.NoticesCursor(ctx, 1)
		if err != nil || cursor != "u-5" || pending {
			t.Errorf("NoticesCursor = %q %v %v, want u-5, done", cursor, pending, err)
		}
		if n := countRows(t, s, "outbox"); n != 1 {
			t.Errorf("outbox has %d messages, want 1", n)
		}
	})
}
