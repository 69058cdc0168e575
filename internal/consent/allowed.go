package consent

import "github.com/custos-privacy/custos/internal/check"

// What a field may take under a policy, for the errors that refuse a value
// (fault.Error.Allowing): a caller who names an unknown purpose is told the
// ones there are. Lists follow the manifest's order; they are built only
// when a request is refused.

// Languages are the languages of notices and messages.
var Languages = []string{"zh-CN", "en"}

// purposeIDs lists the policy's purposes.
func purposeIDs(pol *check.Policy) []string {
	var out []string
	for _, p := range pol.Spec().Purposes {
		out = append(out, p.ID)
	}
	return out
}

// purposesWhere lists the policy's purposes whose rule, in jurisdiction
// index jur, passes keep.
func purposesWhere(pol *check.Policy, jur int, keep func(*check.Rule, int) bool) []string {
	var out []string
	for _, p := range pol.Spec().Purposes {
		if r, ok := pol.Rule(p.ID); ok && keep(r, jur) {
			out = append(out, p.ID)
		}
	}
	return out
}

// consentKeys lists what a subject in jurisdiction index jur can grant or
// withdraw: the purposes resting on consent there, then the acts that ask
// a separate consent of their own.
func consentKeys(pol *check.Policy, jur int) []string {
	return append(purposesWhere(pol, jur, (*check.Rule).ConsentIn), separateActKeys(pol)...)
}

// separateActKeys lists the ledger keys of the acts that ask a separate
// consent: recipient:<id>, transfer:<id>, disclosure.
func separateActKeys(pol *check.Policy) []string {
	var out []string
	for _, a := range pol.Spec().Acts {
		if a.Separate {
			out = append(out, check.ActKey(check.Act{Kind: check.ParseActKind(a.Kind), ID: a.ID}))
		}
	}
	return out
}

// actIDs lists the ids of the policy's acts of one kind (recipients,
// cross-border transfers).
func actIDs(pol *check.Policy, kind check.ActKind) []string {
	var out []string
	for _, a := range pol.Spec().Acts {
		if check.ParseActKind(a.Kind) == kind {
			out = append(out, a.ID)
		}
	}
	return out
}
