# The decision of Custos's internal/check package (Policy.DecideAct), written
# for Open Policy Agent so that both engines can be measured on the same
# decision over the same data. The numbered rules are those of check's
# package comment, in the order DecideAct applies them.
#
# input: {"subject": "<id>", "purposes": ["<purpose id>", ...],
#         "act": {"kind": "recipient|transfer|disclosure", "id": "<id>"},  (optional)
#         "now": <unix seconds>}
# data:  {"policy":   {"jurisdictions": [...], "minors": [...],
#                      "purposes": {"<id>": {...}}, "acts": {"<ledger key>": {...}}},
#         "subjects": {"<id>": {...}}}   (bench/opa/data.go, opaDocument)
#
# decisions holds one {purpose, allowed, reason} per input purpose, in input
# order, so that the answer lines up with Custos's []check.Decision.
package custos

import rego.v1

decisions := [decision(p) | some p in input.purposes]

decision(p) := {"purpose": p, "allowed": v[0], "reason": v[1]} if {
	v := verdict(p)
}

# ---------------------------------------------------------------------------
# The subject and what the policy says about them. Each of these is computed
# once per query.
# ---------------------------------------------------------------------------

# Undefined for a person Custos does not know: no restriction, no ledger,
# the general rules, and an unknown age.
subject := data.subjects[input.subject]

# The subject's jurisdiction index; 0 (the general rules) for an unknown
# subject and for an index the policy does not have.
jur := j if {
	j := subject.jurisdiction
	j > 0
	data.policy.jurisdictions[j - 1]
} else := 0

# The treatment of minors in the subject's jurisdiction; a jurisdiction the
# policy lists no rule for takes the general one, and a policy with none is
# not directed at minors.
minor_rule := r if {
	r := data.policy.minors[jur]
} else := r if {
	r := data.policy.minors[0]
} else := {"stance": "not_directed", "age": 0, "unknown_age": "adult"}

# adults_only, guardian_consent, or none (no threshold, or not directed).
stance := s if {
	minor_rule.age > 0
	s := minor_rule.stance
	s in {"adults_only", "guardian_consent"}
} else := "none"

# Policy.MinorStatus: minor, ask (unknown age, and the manifest says to ask)
# or adult.
minor_status := "adult" if {
	stance == "none"
} else := "minor" if {
	not subject.age_unknown
	input.now < subject.minor_until
} else := "adult" if {
	subject
	not subject.age_unknown
} else := "minor" if {
	minor_rule.unknown_age == "minor"
} else := "ask" if {
	minor_rule.unknown_age == "ask"
} else := "adult"

# The guardian accepted the policy for the minor: ledger key "policy",
# action accept, recorded by the guardian.
guardian_accepted if {
	subject.consents.policy.action == "accept"
	subject.consents.policy.by_guardian
}

# The latest policy version the subject (or their guardian) accepted.
accepted := subject.consents.policy.version_seq if {
	subject.consents.policy.action == "accept"
} else := 0

granted(key) if subject.consents[key].action == "grant"

# ---------------------------------------------------------------------------
# The purpose's rule in the subject's jurisdiction.
# ---------------------------------------------------------------------------

# The basis of jurisdiction jur; a purpose with fewer bases than the policy
# has jurisdictions takes its general one. The decision functions below take
# it as their argument b, so that it is looked up once per purpose.
basis(p) := b if {
	b := data.policy.purposes[p].bases[jur]
} else := b if {
	b := data.policy.purposes[p].bases[0]
} else := ""

# A legal obligation, vital interests or a public task: survives restriction,
# and the rules about minors and acceptance do not stop it.
statutory_bases := {"legal_obligation", "vital_interests", "public_interest"}

# Legitimate interests and a public task: the subject may object.
objectable_bases := {"legitimate_interests", "public_interest"}

# A minor in a guardian's care (for a basis that is not statutory).
guardian_minor if {
	minor_status == "minor"
	stance == "guardian_consent"
}

# ---------------------------------------------------------------------------
# The decision. Each else chain keeps the order of Policy.DecideAct: the
# first clause that holds gives the answer.
# ---------------------------------------------------------------------------

verdict(p) := with_act(p, b, purpose_verdict(p, b)) if b := basis(p)

# Rule 7 applies to an allowed purpose when the query names an act.
with_act(p, b, v) := v if {
	not act_key
} else := v if {
	not v[0]
} else := act_verdict(p, b, v)

# Rules 1 to 6: the purpose itself.
purpose_verdict(p, b) := [false, "unknown_purpose"] if {
	# 1. a purpose the policy does not know
	not data.policy.purposes[p]
} else := [false, "restricted"] if {
	# 2. restriction stops every basis but the statutory ones
	subject.restricted
	not b in statutory_bases
} else := [false, "age_unknown"] if {
	# 3. minors: a person of unknown age, where the manifest says to ask
	minor_status == "ask"
	not b in statutory_bases
} else := [false, "minor_not_served"] if {
	# 3. minors: adults_only
	minor_status == "minor"
	stance == "adults_only"
	not b in statutory_bases
} else := [false, "guardian_consent_required"] if {
	# 3. minors: guardian_consent, for a basis other than consent, until the
	#    guardian accepted the policy (consent purposes: rule 6)
	guardian_minor
	b != "consent"
	not b in statutory_bases
	not guardian_accepted
} else := [false, "policy_acceptance_required"] if {
	# 4. a materially changed version under express consent, for people
	#    who were there before it, until they accept it
	b != "consent"
	not b in statutory_bases
	awaiting_acceptance(p)
} else := consent_verdict(p) if {
	# 6. consent
	b == "consent"
} else := basis_verdict(p, b)

awaiting_acceptance(p) if {
	r := data.policy.purposes[p]
	r.accept_epoch > 0
	subject.created_at < r.accept_since
	accepted < r.accept_epoch
}

# 5. legitimate interests and public task: objections; otherwise the basis.
basis_verdict(p, b) := [false, "objected"] if {
	b in objectable_bases
	objection(p) == "object"
} else := [false, "objected"] if {
	# direct marketing takes no override
	b in objectable_bases
	objection(p) == "override"
	data.policy.purposes[p].direct_marketing
} else := [true, "objection_overridden"] if {
	b in objectable_bases
	objection(p) == "override"
} else := [true, concat("", ["legal_basis:", b])]

# The last event under objection:<purpose>.
objection(p) := subject.consents[concat("", ["objection:", p])].action

# 6. consent. A minor in a guardian's care needs the guardian's own grant
# (consent is never a statutory basis).
consent_verdict(p) := [false, "guardian_consent_required"] if {
	not subject.consents[p]
	guardian_minor
} else := [false, "no_consent"] if {
	not subject.consents[p]
} else := [false, "withdrawn"] if {
	not granted(p)
} else := [false, "reconsent_required"] if {
	subject.consents[p].version_seq < data.policy.purposes[p].epoch
} else := [false, "guardian_consent_required"] if {
	guardian_minor
	not subject.consents[p].by_guardian
} else := [true, "consent"]

# 7. an act, once the purpose is allowed. act_key is the ledger key of the
# act's separate consent; undefined when the query names no act, or a kind
# check does not know.
act_key := "disclosure" if {
	input.act.kind == "disclosure"
} else := concat(":", [input.act.kind, input.act.id]) if {
	input.act.kind in {"recipient", "transfer"}
}

act_verdict(p, b, v) := [false, "not_declared"] if {
	# the policy does not name the act
	not data.policy.acts[act_key]
} else := [false, "not_declared"] if {
	# or names it for other purposes (null: for any)
	declared := data.policy.acts[act_key].purposes
	declared != null
	not p in declared
} else := v if {
	# an act without a separate consent of its own follows its purpose
	not data.policy.acts[act_key].separate
} else := [false, "separate_consent_required"] if {
	not granted(act_key)
} else := [false, "reconsent_required"] if {
	subject.consents[act_key].version_seq < data.policy.acts[act_key].epoch
} else := [false, "age_unknown"] if {
	# the act's own consent is a consent, whatever the purpose rests on
	minor_status == "ask"
} else := [false, "minor_not_served"] if {
	minor_status == "minor"
	stance == "adults_only"
} else := [false, "guardian_consent_required"] if {
	guardian_minor
	not subject.consents[act_key].by_guardian
} else := [true, "separate_consent"]
