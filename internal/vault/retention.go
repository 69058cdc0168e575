package vault

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// ActionExpire is the audit action of deleting values whose retention
// period ended: one entry per batch, naming the field, the rule and how
// many values went, never whose.
const ActionExpire = "vault.expire"

// Expire deletes, field by field, the values whose retention period ended
// by now, and returns how many. A field's period is the one the policy in
// force sets for its category (Retention); a field without one is kept
// until the person is erased or the value deleted, and so is a field the
// policy no longer declares. Values an active legal hold covers are kept
// (hold.Retention).
func (s *Service) Expire(ctx context.Context, a audit.Actor, now time.Time) (int, error) {
	_, m, _, err := s.d.Policy()
	if err != nil {
		return 0, err
	}
	stored, err := s.st.LegalHolds(ctx, store.HoldFilter{ActiveAt: now})
	if err != nil {
		return 0, fmt.Errorf("vault: expire: %w", err)
	}
	holds := make([]hold.Hold, len(stored))
	for i, h := range stored {
		holds[i] = hold.FromStore(h)
	}
	total := 0
	for _, f := range m.Vault {
		rule, cutoff, ok := Retention(m, f, now)
		if !ok {
			continue
		}
		keep, whole := hold.Retention(holds, f.Category, now)
		if whole {
			continue // a legal hold keeps every value of the category
		}
		n, err := s.st.ExpireVaultKeeping(ctx, f.Field, cutoff, keep, func(n int) audit.Entry {
			return audit.NewEntry(s.now(), a, ActionExpire, "vault:"+f.Field, "retention", audit.OutcomeOK,
				map[string]any{"count": n, "rule": rule, "written_before": cutoff.UTC()})
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("vault: expire %s: %w", f.Field, err)
		}
	}
	return total, nil
}

// Retention returns the retention rule that bounds how long f's values
// are kept, and the cutoff it sets at now: a value last written before
// cutoff has been kept its whole period and is deleted. ok is false when
// nothing bounds the field by time.
//
// The rules that count are those naming f's category or one of its
// parents (categories: [basic] covers basic.phone). A rule naming only
// purposes speaks of what is processed for a purpose, and a vault value
// serves every purpose its category is collected for, so no such rule
// alone can end it.
//
// A rule bounds the field when it is a fixed period counted from
// collection that ends in deletion or anonymisation (to anonymise a phone
// number is to delete it). "Collection" is when the value was last
// written: a value written again is collected again. Validation requires
// from whenever a period is given, so there is no default to read. Other
// rules do not bound it:
//   - until account_deletion: the person's erasure deletes their values
//     already; the other until events (purpose_fulfilled,
//     consent_withdrawn, service_end, legal_minimum) are not known to the
//     vault, and DELETE carries them out;
//   - a period from another event (account_deletion, last_activity,
//     contract_end, transaction) cannot be counted from the value;
//   - after: restrict says to keep the value, restricted.
//
// With several rules for the category, keeping is bounded by the most
// permissive: the longest period wins, and one rule that does not bound
// the field leaves it unbounded. Deleting under the stricter of two rules
// the policy states would break the other; a policy that means the
// shorter period states only that one.
func Retention(m *manifest.Manifest, f manifest.VaultField, now time.Time) (rule string, cutoff time.Time, ok bool) {
	covered := lineage(m, f.Category)
	for _, r := range m.Retention {
		if !slices.ContainsFunc(r.Categories, func(c string) bool { return slices.Contains(covered, c) }) {
			continue
		}
		if r.Period == nil || r.From != "collection" || r.After == "restrict" {
			return "", time.Time{}, false
		}
		c, known := r.Period.KeptFrom(now)
		if !known {
			return "", time.Time{}, false
		}
		if !ok || c.Before(cutoff) {
			rule, cutoff, ok = r.ID, c, true
		}
	}
	return rule, cutoff, ok
}

// lineage is category and its parents, nearest first.
func lineage(m *manifest.Manifest, category string) []string {
	var out []string
	for c := category; c != "" && !slices.Contains(out, c); {
		out = append(out, c)
		cat, ok := m.Category(c)
		if !ok {
			break
		}
		c = cat.Parent
	}
	return out
}
