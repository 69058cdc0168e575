package vault_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/examples"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
	"github.com/custos-privacy/custos/internal/vault"
)

// retentionVault replaces the starter's vault: one field per way a
// category's retention rules can bound it, or not.
const retentionVault = `vault:
  - {field: email, category: basic.email, mask: email}                 # 30 days
  - {field: nickname, category: basic.nickname, mask: hidden}          # 1 month
  - {field: mobile_number, category: basic.phone, mask: phone}         # 1 month and 1 year: 1 year
  - {field: id_number, category: identity.id_card, mask: id_number}    # until account deletion only
  - {field: real_name, category: basic.name, mask: name}               # 1 day, and until account deletion
  - {field: device_id, category: device.id, mask: last4}               # 7 days, by its parent category
  - {field: location, category: location.precise, mask: hidden}       # 1 day, then restricted

`

// retentionRules are added to the starter's retention rules.
const retentionRules = `retention:
  - {id: vault-email, categories: [basic.email], period: {count: 30, unit: days}, from: collection, after: delete}
  - {id: vault-nickname, categories: [basic.nickname], period: {count: 1, unit: months}, from: collection, after: anonymise}
  - {id: vault-phone-short, categories: [basic.phone], period: {count: 1, unit: months}, from: collection, after: delete}
  - {id: vault-phone-long, categories: [basic.phone], period: {count: 1, unit: years}, from: collection, after: delete}
  - {id: vault-id, categories: [identity.id_card], until: account_deletion, after: delete}
  - {id: vault-name-short, categories: [basic.name], period: {count: 1, unit: days}, from: collection, after: delete}
  - {id: vault-name-account, categories: [basic.name], until: account_deletion, after: delete}
  - {id: vault-device, categories: [device], period: {count: 7, unit: days}, from: collection, after: delete}
  - {id: vault-location, categories: [location.precise], period: {count: 1, unit: days}, from: collection, after: restrict}
`

// retentionManifest is the starter with retentionVault and retentionRules.
func retentionManifest(t *testing.T) []byte {
	t.Helper()
	src := examples.Starter
	start := bytes.Index(src, []byte("\nvault:\n"))
	end := bytes.Index(src, []byte("\n# ---------------------------------------------------------------------------------------------\n# Rights:"))
	rules := bytes.Index(src, []byte("\nretention:\n"))
	if start < 0 || end < start || rules < 0 || rules > start {
		t.Fatal("the starter manifest is no longer laid out as this test expects")
	}
	var b bytes.Buffer
	b.Write(src[:rules+1])
	b.WriteString(retentionRules)
	b.Write(src[rules+len("\nretention:\n") : start+1])
	b.WriteString(retentionVault)
	b.Write(src[end:])
	return b.Bytes()
}

// china is a wall-clock instant in China.
func china(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.China)
	if err != nil {
		panic(err)
	}
	return t
}

// TestExpire: the sweep, on both databases, at 00:30 on 31 March 2026 in
// China. Each value belongs to its own subject; it is deleted when its
// category's retention rules bound it and its period, counted in China's
// days from the day after it was written, ended before today.
func TestExpire(t *testing.T) {
	now := china("2026-03-31 00:30")
	tests := []struct {
		name, field string
		written     time.Time
		kept        bool
	}{
		// 30 days: from 1 March 00:00 China, values are still kept.
		{name: "30 days ended on 30 March", field: "email", written: china("2026-02-28 23:00")},
		{name: "30 days end today", field: "email", written: china("2026-03-01 00:10"), kept: true},
		{name: "written on 28 February UTC, 1 March in China", field: "email", written: time.Date(2026, 2, 28, 16, 30, 0, 0, time.UTC), kept: true},
		// 1 month across a month end: on 31 March every value of February
		// has ended (28 February + 1 month is 28 March); 31 January + 1
		// month is 28 February.
		{name: "1 month from 31 January ended on 28 February", field: "nickname", written: china("2026-01-31 12:00")},
		{name: "1 month from the last day of February ended on 28 March", field: "nickname", written: china("2026-02-28 23:59")},
		{name: "1 month from 1 March ends on 1 April", field: "nickname", written: china("2026-03-01 00:01"), kept: true},
		// The longer of two periods wins.
		{name: "1 year, not 1 month: ended yesterday", field: "mobile_number", written: china("2025-03-30 12:00")},
		{name: "1 year, not 1 month: ends today", field: "mobile_number", written: china("2025-03-31 08:00"), kept: true},
		{name: "1 year, not 1 month: two months old", field: "mobile_number", written: china("2026-01-31 08:00"), kept: true},
		{name: "until account deletion only", field: "id_number", written: china("2020-01-01 00:00"), kept: true},
		{name: "a period and until account deletion", field: "real_name", written: china("2020-01-01 00:00"), kept: true},
		{name: "a rule on the parent category", field: "device_id", written: china("2026-03-20 10:00")},
		{name: "a rule on the parent category, within its period", field: "device_id", written: china("2026-03-24 10:00"), kept: true},
		{name: "a period ending in restriction", field: "location", written: china("2020-01-01 00:00"), kept: true},
	}
	storetest.Backends(t, func(t *testing.T, dsn string) {
		clock := clocktest.New(now)
		e := newEnvOf(t, dsn, retentionManifest(t), clock.Now)
		ctx := t.Context()
		deleted := 0
		for i, tc := range tests {
			id := fmt.Sprintf("u-%d", i)
			if err := e.st.CreateSubject(ctx, store.Subject{ID: id}); err != nil {
				t.Fatal(err)
			}
			// The sweep reads no value: a row with the time is enough.
			if err := e.st.PutVault(ctx, store.VaultValue{SubjectID: id, Field: tc.field, Sealed: []byte("sealed"), Token: "vt_" + id, UpdatedAt: tc.written}); err != nil {
				t.Fatal(err)
			}
			if !tc.kept {
				deleted++
			}
		}
		n, err := e.vault.Expire(ctx, system, now)
		if err != nil {
			t.Fatal(err)
		}
		if n != deleted {
			t.Errorf("Expire = %d, want %d", n, deleted)
		}
		for i, tc := range tests {
			_, err := e.st.VaultValue(ctx, fmt.Sprintf("u-%d", i), tc.field)
			if kept := err == nil; kept != tc.kept {
				t.Errorf("%s: kept %v (%v), want %v", tc.name, kept, err, tc.kept)
			}
		}

		// One entry per field and batch: the rule, how many, written
		// before when; never whose.
		got := map[string]string{}
		for _, en := range e.entries(t, vault.ActionExpire) {
			got[en.Object] = en.Detail
			if en.Actor != system.ID || en.Purpose != "retention" || strings.Contains(en.Detail, "u-") {
				t.Errorf("entry %+v", en)
			}
		}
		want := map[string]string{
			"vault:email":         `{"count":1,"rule":"vault-email","written_before":"2026-02-28T16:00:00Z"}`,
			"vault:nickname":      `{"count":2,"rule":"vault-nickname","written_before":"2026-02-28T16:00:00Z"}`,
			"vault:mobile_number": `{"count":1,"rule":"vault-phone-long","written_before":"2025-03-30T16:00:00Z"}`,
			"vault:device_id":     `{"count":1,"rule":"vault-device","written_before":"2026-03-23T16:00:00Z"}`,
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("vault.expire entries (-want +got):\n%s", d)
		}
		if n, err := e.vault.Expire(ctx, system, now); n != 0 || err != nil {
			t.Errorf("a second sweep = %d, %v; want nothing left to delete", n, err)
		}

		// A value written through the vault is read until its period ends
		// and not found after.
		e.subject(t, "u-put", false)
		if _, err := e.vault.Put(ctx, service, "u-put", "email", "li.na@example.com"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(30 * 24 * time.Hour) // 30 April 00:30: its last day
		if _, err := e.vault.Expire(ctx, system, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := e.vault.Get(ctx, service, "u-put", "email", "account_registration"); err != nil {
			t.Errorf("Get on the last day: %v", err)
		}
		clock.Advance(24 * time.Hour)
		if _, err := e.vault.Expire(ctx, system, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := e.vault.Get(ctx, service, "u-put", "email", "account_registration"); !is(err, 404, "vault_value_not_found") {
			t.Errorf("Get after the period: %v, want 404 vault_value_not_found", err)
		}
	})
}

// TestRetentionCutoff checks the cutoff against the count it inverts, day
// by day over 2027 and 2028 (a leap year): a value written on day d with a
// period p is kept through d+p (the same day p months on, or that month's
// last day) and deleted from the day after, so it is past its period
// exactly when it was written before the cutoff.
func TestRetentionCutoff(t *testing.T) {
	lastDay := func(d time.Time, p manifest.Period) time.Time {
		y, m, day := d.Date()
		switch p.Unit {
		case "days":
			return time.Date(y, m, day+p.Count, 0, 0, 0, 0, calendar.China)
		case "years":
			p.Count *= 12
		}
		first := time.Date(y, m+time.Month(p.Count), 1, 0, 0, 0, 0, calendar.China)
		return first.AddDate(0, 0, min(day, first.AddDate(0, 1, -1).Day())-1)
	}
	for _, p := range []manifest.Period{{Count: 30, Unit: "days"}, {Count: 1, Unit: "months"}, {Count: 6, Unit: "months"}, {Count: 1, Unit: "years"}} {
		t.Run(fmt.Sprintf("%d %s", p.Count, p.Unit), func(t *testing.T) {
			m := &manifest.Manifest{Retention: []manifest.Retention{{ID: "r", Categories: []string{"basic.phone"}, Period: &p, From: "collection", After: "delete"}}}
			f := manifest.VaultField{Field: "mobile_number", Category: "basic.phone"}
			for today := china("2027-01-01 00:00"); today.Year() < 2029; today = today.AddDate(0, 0, 1) {
				_, cutoff, ok := vault.Retention(m, f, today.Add(13*time.Hour))
				if !ok {
					t.Fatalf("no cutoff on %s", today.Format(time.DateOnly))
				}
				for d := today.AddDate(-1, -2, 0); !d.After(today); d = d.AddDate(0, 0, 1) {
					written := d.Add(23*time.Hour + 59*time.Minute)
					if past, before := lastDay(d, p).Before(today), written.Before(cutoff); past != before {
						t.Fatalf("on %s, written %s: past its period %v, before the cutoff %s %v",
							today.Format(time.DateOnly), d.Format(time.DateOnly), past, cutoff.In(calendar.China), before)
					}
				}
			}
		})
	}
}
