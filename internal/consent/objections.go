package consent

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// ObjectionInput records a subject's objections to purposes on legitimate
// interests or a public task (GDPR art. 21, PIPL art. 44), or lifts them.
type ObjectionInput struct {
	Object   []string `json:"object,omitempty"`
	Lift     []string `json:"lift,omitempty"`
	Method   string   `json:"method"`
	Language string   `json:"language"`
	// GuardianID is the guardian objecting for a minor.
	GuardianID string          `json:"guardian_id,omitempty"`
	Evidence   json.RawMessage `json:"evidence,omitempty"`
}

// Object records objections. Decisions for an objected purpose answer
// objected until the subject lifts the objection or, for purposes other
// than direct marketing, an operator records compelling grounds.
func (s *Service) Object(ctx context.Context, a Actor, subjectID string, in ObjectionInput) ([]ConsentEvent, error) {
	return s.write(ctx, a, subjectID, strings.Join(append(slices.Clone(in.Object), in.Lift...), ","), func(w *writeCtx) error {
		return w.objections(in)
	})
}

func (w *writeCtx) objections(in ObjectionInput) error {
	if len(in.Object) == 0 && len(in.Lift) == 0 {
		return invalid("nothing_to_record", "object", "give at least one purpose to object to or to lift an objection from")
	}
	if err := w.load(in.Method, in.Language, in.GuardianID, in.Evidence); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, list := range [][]string{in.Object, in.Lift} {
		for _, p := range list {
			if seen[p] {
				return invalid("duplicate_purpose", "object", "purpose %q appears more than once", p)
			}
			seen[p] = true
			if err := w.objectable(p); err != nil {
				return err
			}
		}
	}
	for _, p := range in.Object {
		w.add(check.ObjectionKey(p), store.ActionObject, "", false)
	}
	for _, p := range in.Lift {
		w.add(check.ObjectionKey(p), store.ActionLift, "", false)
	}
	return nil
}

// objectable refuses an objection to a purpose that carries no right to
// object for this subject: consent is withdrawn instead, and a contract or
// a legal obligation is not objected to.
func (w *writeCtx) objectable(purpose string) error {
	r, ok := w.pol.Rule(purpose)
	if !ok {
		return invalid("unknown_purpose", "object", "purpose %q is not in policy version %s", purpose, w.ver.Version).
			Allowing(purposesWhere(w.pol, w.snap.Jurisdiction, (*check.Rule).ObjectableIn))
	}
	jur := w.snap.Jurisdiction
	switch basis := r.BasisIn(jur); {
	case basis == "consent":
		return invalid("objection_not_applicable", "object", "purpose %q rests on consent: withdraw the consent instead", purpose)
	case !manifest.ObjectableBasis(basis):
		return invalid("objection_not_applicable", "object", "purpose %q rests on %s, which carries no right to object; only legitimate interests and a public task do", purpose, basis)
	}
	return nil
}

// OverrideInput records an operator's compelling legitimate grounds for
// processing despite an objection (GDPR art. 21(1)).
type OverrideInput struct {
	Grounds string `json:"grounds"`
}

const maxGrounds = 1000

// Override lets processing go on despite a subject's objection to one
// purpose, on grounds the operator records. Direct marketing takes no
// override: an objection to it is absolute (GDPR art. 21(3)).
func (s *Service) Override(ctx context.Context, a Actor, subjectID, purpose string, in OverrideInput) ([]ConsentEvent, error) {
	return s.write(ctx, a, subjectID, purpose, func(w *writeCtx) error {
		grounds := strings.TrimSpace(in.Grounds)
		if grounds == "" || utf8.RuneCountInString(grounds) > maxGrounds {
			return invalid("grounds_required", "grounds", "state the compelling legitimate grounds (1 to %d characters)", maxGrounds)
		}
		evidence, _ := json.Marshal(map[string]string{"grounds": grounds})
		if err := w.load("api", "zh-CN", "", evidence); err != nil {
			return err
		}
		if err := w.objectable(purpose); err != nil {
			return err
		}
		if r, _ := w.pol.Rule(purpose); r.DirectMarketing {
			return fault.New(fault.Conflict, "override_not_allowed", "purpose %q is direct marketing: an objection to it is absolute", purpose)
		}
		if w.snap.Consents[check.ObjectionKey(purpose)].Action != check.ActionObject {
			return fault.New(fault.Conflict, "no_objection", "the subject has no objection to %q in force", purpose)
		}
		w.meta.Language = ""
		w.add(check.ObjectionKey(purpose), store.ActionOverride, "", false)
		return nil
	})
}

// AcceptanceInput records that a subject (or their guardian) accepted a
// policy version: after a material change when the manifest asks for
// express acceptance, and a guardian's consent for a minor's processing on
// bases other than consent.
type AcceptanceInput struct {
	// Version is the label of the version accepted: the one in force or
	// one announced.
	Version    string          `json:"version"`
	Method     string          `json:"method"`
	Language   string          `json:"language"`
	NoticeHash string          `json:"notice_hash"`
	GuardianID string          `json:"guardian_id,omitempty"`
	Evidence   json.RawMessage `json:"evidence,omitempty"`
}

// Accept records an acceptance.
func (s *Service) Accept(ctx context.Context, a Actor, subjectID string, in AcceptanceInput) ([]ConsentEvent, error) {
	return s.write(ctx, a, subjectID, check.KeyPolicy, func(w *writeCtx) error {
		if in.Version == "" {
			return invalid("version_required", "version", "name the policy version accepted")
		}
		var seq int64
		var acceptable []string // the version in force and those announced
		for _, v := range w.s.versionList() {
			if v.Version == in.Version {
				seq = v.Seq
			}
			if v.Seq >= w.ver.Seq {
				acceptable = append(acceptable, v.Version)
			}
		}
		switch {
		case seq == 0:
			return invalid("unknown_version", "version", "policy version %q is not published", in.Version).Allowing(acceptable)
		case seq < w.ver.Seq:
			return fault.New(fault.Invalid, "version_superseded", "policy version %q is no longer in force; accept %s", in.Version, w.ver.Version).At("version")
		}
		if !noticeHashRE.MatchString(in.NoticeHash) {
			return invalid("notice_hash_required", "notice_hash", "an acceptance needs notice_hash: the lowercase hex SHA-256 of the policy text shown")
		}
		if err := w.load(in.Method, in.Language, in.GuardianID, in.Evidence); err != nil {
			return err
		}
		if err := w.mayAgree("version"); err != nil {
			return err
		}
		w.meta.NoticeHash, w.meta.VersionSeq = in.NoticeHash, seq
		w.add(check.KeyPolicy, store.ActionAccept, "", false)
		return nil
	})
}

// versionList is every published version, oldest first.
func (s *Service) versionList() []store.PolicyVersion {
	if cur := s.state(); cur != nil {
		return cur.versions
	}
	return nil
}

// Refusal is what a person's refusal of purposes recorded.
type Refusal struct {
	Withdrawn []string // purposes resting on consent for the person: consent withdrawn
	Objected  []string // purposes on legitimate interests or a public task: objected to
	Neither   []string // purposes on another basis: no right to refuse them
	Events    []ConsentEvent
}

// Refuse records, in one ledger write, that a person no longer wants their
// information processed for purposes: each is withdrawn or objected to
// according to what it rests on for them (their jurisdiction's basis).
// Purposes on other bases are reported, not refused. The rights workflow
// calls it for withdrawal and objection requests.
func (s *Service) Refuse(ctx context.Context, a Actor, subjectID string, purposes []string, language string, evidence json.RawMessage) (Refusal, error) {
	var out Refusal
	evs, err := s.write(ctx, a, subjectID, strings.Join(purposes, ","), func(w *writeCtx) error {
		out = Refusal{}
		if err := w.load("api", language, "", evidence); err != nil {
			return err
		}
		for _, p := range purposes {
			r, ok := w.pol.Rule(p)
			if !ok {
				return invalid("unknown_purpose", "purposes", "purpose %q is not in policy version %s", p, w.ver.Version).Allowing(purposeIDs(w.pol))
			}
			switch jur := w.snap.Jurisdiction; {
			case r.ConsentIn(jur):
				out.Withdrawn = append(out.Withdrawn, p)
				w.add(p, store.ActionWithdraw, "", false)
			case r.ObjectableIn(jur):
				out.Objected = append(out.Objected, p)
				w.add(check.ObjectionKey(p), store.ActionObject, "", false)
			default:
				out.Neither = append(out.Neither, p)
			}
		}
		if len(w.events) == 0 {
			return invalid("objection_not_applicable", "purposes", "none of %s can be refused: they rest on neither consent nor legitimate interests", strings.Join(purposes, ", "))
		}
		return nil
	})
	out.Events = evs
	return out, err
}

// WithdrawAll withdraws every consent a person has in force: to purposes
// resting on consent for them, and to acts with a consent of their own.
// Erasure and account cancellation call it before erasing.
func (s *Service) WithdrawAll(ctx context.Context, a Actor, subjectID, language string, evidence json.RawMessage) ([]ConsentEvent, error) {
	evs, err := s.write(ctx, a, subjectID, "all", func(w *writeCtx) error {
		if err := w.load("api", language, "", evidence); err != nil {
			return err
		}
		var keys []string
		for _, r := range w.pol.Rules() {
			if r.ConsentIn(w.snap.Jurisdiction) {
				keys = append(keys, r.ID)
			}
		}
		for k, c := range w.snap.Consents {
			if kind, _, _ := check.ParseKey(k); kind == check.KeyOfAct && c.Granted() {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range slices.Compact(keys) {
			w.add(k, store.ActionWithdraw, "", false)
		}
		return nil
	})
	return evs, err
}
