# The consent decision of Custos's internal/check package (Policy.Decide),
# written for Open Policy Agent so that both engines can be measured on the
# same decision over the same data.
#
# input: {"subject": "<id>", "purposes": ["<purpose id>", ...], "now": <unix seconds>}
# data:  {"policy": {...}, "subjects": {...}} as written by `custos bench check --vs-opa`
#
# decisions holds one {purpose, allowed, reason} per input purpose, in input
# order, so that the answer lines up with Custos's []check.Decision.
package custos

import rego.v1

decisions := [decision(p) | some p in input.purposes]

decision(p) := {"purpose": p, "allowed": v[0], "reason": v[1]} if {
	v := verdict(p)
}

# The else chain keeps the order of the checks in Policy.Decide: the first
# clause that holds gives the answer.
verdict(p) := [false, "unknown_purpose"] if {
	not data.policy.purposes[p]
} else := [false, "restricted"] if {
	subject.restricted
	not data.policy.purposes[p].survives_restriction
} else := [true, concat("", ["legal_basis:", basis])] if {
	basis := data.policy.purposes[p].basis
	basis != "consent"
} else := [false, "guardian_required"] if {
	not subject.consents[p]
	minor
} else := [false, "no_consent"] if {
	not subject.consents[p]
} else := [false, "withdrawn"] if {
	not subject.consents[p].granted
} else := [false, "reconsent_required"] if {
	subject.consents[p].version_seq < data.policy.purposes[p].epoch
} else := [false, "guardian_required"] if {
	minor
	not subject.consents[p].by_guardian
} else := [true, "consent"]

# Undefined for an unknown subject, which then has no restriction, no
# consents and is not a minor.
subject := data.subjects[input.subject]

# minor_until is 0 for an adult or a subject of unknown age, and no time is
# before it.
minor if {
	data.policy.guardian_age > 0
	input.now < subject.minor_until
}
