package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"
)

// reopenKeyed opens a fresh store of the same backend as the running
// subtest, with an audit key.
func reopenKeyed(t *testing.T, key []byte) *Store {
	t.Helper()
	var dsn string
	if backendOf(t) == Postgres {
		dsn = postgresDSN(t)
	} else {
		dsn = t.TempDir() + "/custos.db"
	}
	ctx := context.Background()
	s, err := Open(ctx, dsn, Options{AuditKey: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAuditKey shows a chain only verifies under the key it was written with.
func TestAuditKey(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.AppendAudit(ctx, entry("a", "b"), entry("c", "d")); err != nil {
			t.Fatal(err)
		}
		if rep, _ := s.VerifyAudit(ctx, nil, nil); !rep.OK || rep.Entries != 2 {
			t.Fatalf("unkeyed verify = %+v", rep)
		}
		s.auditKey = []byte("another key, another chain......")
		if rep, _ := s.VerifyAudit(ctx, nil, nil); rep.OK {
			t.Error("a chain verified under a different key")
		}
	})
}

// TestAuditExport pages through entries and filters by time.
func TestAuditExport(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		old := entry("old", "x")
		old.At = time.Now().Add(-48 * time.Hour)
		if err := s.AppendAudit(ctx, old, entry("new1", "x"), entry("new2", "x")); err != nil {
			t.Fatal(err)
		}
		got, err := s.AuditEntries(ctx, AuditFilter{Since: time.Now().Add(-time.Hour)})
		if err != nil || len(got) != 2 || got[0].Action != "new1" {
			t.Fatalf("since filter = %+v, %v", got, err)
		}
		page, err := s.AuditEntries(ctx, AuditFilter{After: 1, Limit: 1})
		if err != nil || len(page) != 1 || page[0].Seq != 2 {
			t.Fatalf("page = %+v, %v", page, err)
		}
		changes, last, err := s.ChangesSince(ctx, 0, 10)
		if err != nil || last != 3 || len(changes) != 3 {
			t.Errorf("ChangesSince = %v, %d, %v", changes, last, err)
		}
	})
}

// TestAuditSinceIsExact: times are not in sequence order (an entry's time
// is taken before it is queued) and another organisation's entries share
// the time index, yet a time filter returns exactly the organisation's
// entries of the period, in sequence order, page by page.
func TestAuditSinceIsExact(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "acme", Name: "acme"}); err != nil {
			t.Fatal(err)
		}
		other := s.ForOrg("acme").WithChainKeys([]byte("acme-chain-key-0123456789abcdef01234"), nil)
		base := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
		// Minutes after base, in sequence order: 5 comes before 3 and 4.
		minutes := []int{1, 2, 5, 3, 4, 6, 9, 7, 8}
		for i, m := range minutes {
			e := entry(fmt.Sprintf("own.%d", i+1), "x")
			e.At = base.Add(time.Duration(m) * time.Minute)
			if err := s.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
			o := entry("other", "x")
			o.At = base.Add(time.Duration(m)*time.Minute - 30*time.Second)
			if err := other.AppendAudit(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			since time.Time
			after int64
			limit int
			want  []int64
		}{
			{since: base, want: []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}},
			{since: base.Add(3 * time.Minute), want: []int64{3, 4, 5, 6, 7, 8, 9}},
			{since: base.Add(4 * time.Minute), want: []int64{3, 5, 6, 7, 8, 9}},
			{since: base.Add(5 * time.Minute), want: []int64{3, 6, 7, 8, 9}},
			{since: base.Add(6 * time.Minute), want: []int64{6, 7, 8, 9}},
			{since: base.Add(8 * time.Minute), want: []int64{7, 9}},
			{since: base.Add(8 * time.Minute), after: 7, want: []int64{9}},
			{since: base.Add(3 * time.Minute), limit: 2, want: []int64{3, 4}},
			{since: base.Add(3 * time.Minute), after: 4, limit: 2, want: []int64{5, 6}},
			{since: base.Add(10 * time.Minute), want: nil},
		} {
			got, err := s.AuditEntries(ctx, AuditFilter{Since: tc.since, After: tc.after, Limit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			if !slices.Equal(seqs, tc.want) {
				t.Errorf("since +%v after %d limit %d: %v, want %v", tc.since.Sub(base), tc.after, tc.limit, seqs, tc.want)
			}
		}
	})
}

// TestChangesSince: a poll returns the state changes alone, in order, at
// most the limit asked for, and the number to go on after: the last
// change listed (decision records and vault entries count neither
// against the limit nor as where to go on from).
func TestChangesSince(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		// seq:  1 subject.update, 2 check.deny, 3 vault.read, 4 subject.create,
		//       5 check.allow, 6 policy.publish, 7 check.deny, 8 vault.write
		for _, a := range []string{"subject.update", "check.deny", "vault.read", "subject.create", "check.allow", "policy.publish", "check.deny", "vault.write"} {
			if err := s.AppendAudit(ctx, entry(a, "subject:s1")); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			after    int64
			limit    int
			want     []int64
			wantLast int64
		}{
			{after: 0, limit: 10, want: []int64{1, 4, 6}, wantLast: 6},
			{after: 0, limit: 2, want: []int64{1, 4}, wantLast: 4},
			{after: 4, limit: 2, want: []int64{6}, wantLast: 6},
			{after: 1, limit: 1, want: []int64{4}, wantLast: 4},
			{after: 6, limit: 10, want: nil, wantLast: 6},
			{after: 8, limit: 10, want: nil, wantLast: 8},
		} {
			got, last, err := s.ChangesSince(ctx, tc.after, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, c := range got {
				seqs = append(seqs, c.Seq)
			}
			if !slices.Equal(seqs, tc.want) || last != tc.wantLast {
				t.Errorf("ChangesSince(%d, %d) = %v, %d; want %v, %d", tc.after, tc.limit, seqs, last, tc.want, tc.wantLast)
			}
		}
	})
}

// TestChangeHeads: the deployment's one query names, per organisation,
// the last change ChangesSince would read, and decision records and the
// vault's entries do not move it.
func TestChangeHeads(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "acme", Name: "Acme"}); err != nil {
			t.Fatal(err)
		}
		acme := s.ForOrg("acme")
		heads := func() map[string]int64 {
			t.Helper()
			h, err := s.ChangeHeads(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		if h := heads(); h[DefaultOrg] != 0 || h["acme"] != 0 {
			t.Fatalf("heads before any change = %v", h)
		}
		for _, step := range []struct {
			st     *Store
			action string
			want   map[string]int64
		}{
			{s, "subject.update", map[string]int64{DefaultOrg: 1}},
			{acme, "check.deny", map[string]int64{DefaultOrg: 1}},
			{acme, "consent.grant", map[string]int64{DefaultOrg: 1, "acme": 2}},
			{acme, "vault.read", map[string]int64{DefaultOrg: 1, "acme": 2}},
			{s, "check.allow", map[string]int64{DefaultOrg: 1, "acme": 2}},
			{s, "policy.publish", map[string]int64{DefaultOrg: 3, "acme": 2}},
		} {
			if err := step.st.AppendAudit(ctx, entry(step.action, "subject:s1")); err != nil {
				t.Fatal(err)
			}
			if got := heads(); !maps.Equal(got, step.want) {
				t.Errorf("after %s in %s: heads = %v, want %v", step.action, step.st.org, got, step.want)
			}
		}
		for _, st := range []*Store{s, acme} {
			_, last, err := st.ChangesSince(ctx, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if h := heads()[st.org]; h != last {
				t.Errorf("%s: head %d, but its last change is %d", st.org, h, last)
			}
		}
	})
}
