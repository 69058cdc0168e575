package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/keystore"
)

// TestVault: the vault's rows on both databases. A value is kept per
// subject and field and replaced in place; an unknown subject, an erased
// one and a missing value are told apart; erasure deletes the subject's
// values (after destroying its key) and refuses new ones.
func TestVault(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, id := range []string{"u-1", "u-2"} {
			if err := s.CreateSubject(ctx, Subject{ID: id}); err != nil {
				t.Fatal(err)
			}
		}
		at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		put := func(subject, field, sealed, token string, entries ...string) error {
			var es []audit.Entry
			for _, a := range entries {
				es = append(es, entry(a, "subject:"+subject))
			}
			return s.PutVault(ctx, VaultValue{SubjectID: subject, Field: field, Sealed: []byte(sealed), Token: token, UpdatedAt: at}, es...)
		}
		if err := put("u-1", "mobile_number", "sealed-1", "vt_a", "vault.put"); err != nil {
			t.Fatal(err)
		}
		if err := put("u-1", "email", "sealed-2", "vt_b"); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Hour)
		if err := put("u-1", "mobile_number", "sealed-3", "vt_c"); err != nil {
			t.Fatal(err)
		}
		got, err := s.VaultValue(ctx, "u-1", "mobile_number")
		want := VaultValue{SubjectID: "u-1", Field: "mobile_number", Sealed: []byte("sealed-3"), Token: "vt_c", UpdatedAt: at}
		if d := cmp.Diff(want, got); err != nil || d != "" {
			t.Errorf("VaultValue after a replacement: %v (-want +got):\n%s", err, d)
		}
		es, err := s.AuditEntries(ctx, AuditFilter{})
		if err != nil || len(es) != 1 || es[0].Action != "vault.put" || es[0].Object != "subject:u-1" {
			t.Errorf("audit entries after the puts: %+v, %v; want the one given", es, err)
		}

		for _, tc := range []struct {
			name, subject, field string
			want                 error
			notSubject           bool
		}{
			{"unknown subject", "u-404", "email", ErrNoSubject, false},
			{"no value", "u-2", "email", ErrNotFound, true},
			{"another subject's field", "u-2", "mobile_number", ErrNotFound, true},
		} {
			_, err := s.VaultValue(ctx, tc.subject, tc.field)
			if !errors.Is(err, tc.want) || tc.notSubject && errors.Is(err, ErrNoSubject) {
				t.Errorf("%s: VaultValue = %v, want %v", tc.name, err, tc.want)
			}
		}
		if err := put("u-404", "email", "x", "vt_x"); !errors.Is(err, ErrNoSubject) {
			t.Errorf("PutVault for an unknown subject = %v, want ErrNoSubject", err)
		}
		if err := s.DeleteVault(ctx, "u-1", "email", entry("vault.delete", "subject:u-1")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.VaultValue(ctx, "u-1", "email"); !errors.Is(err, ErrNotFound) {
			t.Errorf("a deleted value reads back: %v", err)
		}
		if err := s.DeleteVault(ctx, "u-1", "email"); err != nil {
			t.Errorf("deleting what is gone = %v, want nil: a retried delete succeeds", err)
		}

		// The vault's entries change nothing another instance keeps: they
		// are passed over, not handed to its caches.
		if err := s.AppendAudit(ctx, entry("subject.update", "subject:u-2")); err != nil {
			t.Fatal(err)
		}
		changes, last, err := s.ChangesSince(ctx, 0, 100)
		if err != nil || last != 3 || len(changes) != 1 || changes[0].Action != "subject.update" {
			t.Errorf("ChangesSince = %+v, %d, %v; want the subject.update alone, after the two vault entries", changes, last, err)
		}

		var shredded []string
		shred := func(_ context.Context, owners ...string) (int, error) {
			shredded = append(shredded, owners...)
			return len(owners), nil
		}
		if err := s.Submit(ctx, &Write{Fn: s.EraseSubjectFn("u-1", shred)}); err != nil {
			t.Fatal(err)
		}
		if len(shredded) == 0 || shredded[0] != keystore.Subject("u-1") {
			t.Errorf("erasure destroyed %v, want the subject's key first", shredded)
		}
		var rows int
		if err := s.rd().QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM vault_values WHERE subject_id = ?`), "u-1").Scan(&rows); err != nil || rows != 0 {
			t.Errorf("vault rows after erasure: %d, %v; want none", rows, err)
		}
		if _, err := s.VaultValue(ctx, "u-1", "mobile_number"); !errors.Is(err, ErrErased) {
			t.Errorf("VaultValue of an erased subject = %v, want ErrErased", err)
		}
		if err := put("u-1", "mobile_number", "sealed-4", "vt_d"); !errors.Is(err, ErrErased) {
			t.Errorf("PutVault for an erased subject = %v, want ErrErased", err)
		}
		if err := s.DeleteVault(ctx, "u-1", "mobile_number"); !errors.Is(err, ErrErased) {
			t.Errorf("DeleteVault for an erased subject = %v, want ErrErased", err)
		}
	})
}

// TestVaultValues: a subject's values for their export, on both
// databases: every field kept for them and no one else's, ordered by
// field; none for a subject without values; an unknown subject and an
// erased one told apart.
func TestVaultValues(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, id := range []string{"u-1", "u-2", "u-3"} {
			if err := s.CreateSubject(ctx, Subject{ID: id}); err != nil {
				t.Fatal(err)
			}
		}
		at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		for i, v := range []VaultValue{
			{SubjectID: "u-1", Field: "mobile_number", Sealed: []byte("sealed-1"), Token: "vt_a"},
			{SubjectID: "u-1", Field: "email", Sealed: []byte("sealed-2"), Token: "vt_b"},
			{SubjectID: "u-2", Field: "email", Sealed: []byte("sealed-3"), Token: "vt_c"},
		} {
			v.UpdatedAt = at.Add(time.Duration(i) * time.Hour)
			if err := s.PutVault(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Submit(ctx, &Write{Fn: s.EraseSubjectFn("u-2", func(_ context.Context, owners ...string) (int, error) { return len(owners), nil })}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, subject string
			want          []VaultValue
			err           error
		}{
			{name: "two fields, by field", subject: "u-1", want: []VaultValue{
				{SubjectID: "u-1", Field: "email", Sealed: []byte("sealed-2"), Token: "vt_b", UpdatedAt: at.Add(time.Hour)},
				{SubjectID: "u-1", Field: "mobile_number", Sealed: []byte("sealed-1"), Token: "vt_a", UpdatedAt: at},
			}},
			{name: "no values", subject: "u-3"},
			{name: "erased", subject: "u-2", err: ErrErased},
			{name: "unknown subject", subject: "u-404", err: ErrNoSubject},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.VaultValues(ctx, tc.subject)
				if !errors.Is(err, tc.err) || tc.err == nil && err != nil {
					t.Fatalf("VaultValues = %v, want %v", err, tc.err)
				}
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Errorf("VaultValues (-want +got):\n%s", d)
				}
			})
		}
	})
}

// TestExpireVault: retention deletes one field's values written before the
// cutoff, on both databases, in bounded transactions each with its own
// audit entry counting what it deleted; a value written at the cutoff,
// another field's and a later one stay, and a second run finds nothing.
func TestExpireVault(t *testing.T) {
	defer func(n int) { vaultExpireBatch = n }(vaultExpireBatch)
	vaultExpireBatch = 2
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		cutoff := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		put := func(subject, field string, at time.Time) {
			t.Helper()
			if err := s.PutVault(ctx, VaultValue{SubjectID: subject, Field: field, Sealed: []byte("sealed"), Token: "vt_" + subject, UpdatedAt: at}); err != nil {
				t.Fatal(err)
			}
		}
		for i := 1; i <= 7; i++ {
			id := fmt.Sprintf("u-%d", i)
			if err := s.CreateSubject(ctx, Subject{ID: id}); err != nil {
				t.Fatal(err)
			}
			switch {
			case i <= 5: // five older values: batches of 2, 2 and 1
				put(id, "mobile_number", cutoff.Add(-time.Duration(i)*time.Hour))
			case i == 6:
				put(id, "mobile_number", cutoff)
			default:
				put(id, "mobile_number", cutoff.Add(time.Hour))
			}
			put(id, "email", cutoff.Add(-24*time.Hour))
		}
		entry := func(n int) audit.Entry {
			e := entry("vault.expire", "vault:mobile_number")
			e.Detail = fmt.Sprintf(`{"count":%d}`, n)
			return e
		}
		n, err := s.ExpireVault(ctx, "mobile_number", cutoff, entry)
		if err != nil || n != 5 {
			t.Fatalf("ExpireVault = %d, %v; want 5", n, err)
		}
		var details []string
		es, err := s.AuditEntries(ctx, AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Action == "vault.expire" && e.Object == "vault:mobile_number" {
				details = append(details, e.Detail)
			}
		}
		if d := cmp.Diff([]string{`{"count":2}`, `{"count":2}`, `{"count":1}`}, details); d != "" {
			t.Errorf("vault.expire entries (-want +got):\n%s", d)
		}
		for _, tc := range []struct {
			subject, field string
			kept           bool
		}{
			{"u-1", "mobile_number", false},
			{"u-5", "mobile_number", false},
			{"u-6", "mobile_number", true},
			{"u-7", "mobile_number", true},
			{"u-1", "email", true},
		} {
			_, err := s.VaultValue(ctx, tc.subject, tc.field)
			if kept := err == nil; kept != tc.kept || err != nil && !errors.Is(err, ErrNotFound) {
				t.Errorf("%s %s after expiry: %v, want kept %v", tc.subject, tc.field, err, tc.kept)
			}
		}
		if n, err := s.ExpireVault(ctx, "mobile_number", cutoff, entry); err != nil || n != 0 {
			t.Errorf("a second run = %d, %v; want 0", n, err)
		}
		if es2, _ := s.AuditEntries(ctx, AuditFilter{}); len(es2) != len(es) {
			t.Errorf("a run that deleted nothing added %d audit entries", len(es2)-len(es))
		}
		// Values a legal hold keeps stay past their period.
		for _, id := range []string{"u-8", "u-9", "u-10"} {
			if err := s.CreateSubject(ctx, Subject{ID: id}); err != nil {
				t.Fatal(err)
			}
			put(id, "mobile_number", cutoff.Add(-time.Hour))
		}
		if n, err := s.ExpireVaultKeeping(ctx, "mobile_number", cutoff, []string{"u-8", "u-10"}, entry); err != nil || n != 1 {
			t.Errorf("expiry keeping u-8 and u-10 = %d, %v; want 1", n, err)
		}
		for id, kept := range map[string]bool{"u-8": true, "u-9": false, "u-10": true} {
			if _, err := s.VaultValue(ctx, id, "mobile_number"); (err == nil) != kept {
				t.Errorf("%s after an expiry keeping held subjects: %v, want kept %v", id, err, kept)
			}
		}
	})
}
