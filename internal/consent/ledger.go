package consent

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/ids"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/receipt"
	"github.com/custos-privacy/custos/internal/store"
)

// Methods by which consent is given or withdrawn.
var Methods = []string{"banner", "app_dialog", "api", "paper", "guardian", "privacy_center"}

// Browser signals.
const (
	SignalGPC = manifest.SignalGPC
	SignalDNT = manifest.SignalDNT
)

// ConsentInput records consent decisions for one subject.
type ConsentInput struct {
	// Grant and Withdraw list what is consented to: purpose ids, or an act
	// that asks for a separate consent of its own: "recipient:<id>",
	// "transfer:<id>" (a cross-border transfer) or "disclosure" (public
	// disclosure).
	Grant    []string `json:"grant,omitempty"`
	Withdraw []string `json:"withdraw,omitempty"`
	Method   string   `json:"method"`
	Language string   `json:"language"`
	// NoticeHash is the hex SHA-256 of the exact notice text shown.
	NoticeHash string `json:"notice_hash"`
	// Separate says the grant was asked as a separate consent, on its own:
	// it then covers exactly one purpose or act.
	Separate bool `json:"separate,omitempty"`
	// GuardianID is the guardian giving consent for a minor (method guardian).
	GuardianID string `json:"guardian_id,omitempty"`
	// Evidence is a reference to stored evidence (a form id, a scan's
	// document id): a small JSON object that must not carry PI.
	Evidence json.RawMessage `json:"evidence,omitempty"`
	// Signals are browser opt-out signals seen on the request (set by the
	// API from Sec-GPC and DNT headers, not by callers).
	Signals []string `json:"-"`
}

var noticeHashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ConsentEvent is a ledger event as the API shows it. Purpose is set for
// consents and objections; Recipient, Transfer or Disclosure for the
// separate consent to an act; Action accept records the acceptance of
// PolicyVersion.
type ConsentEvent struct {
	ID            string          `json:"id"`
	Seq           int64           `json:"seq"`
	Purpose       string          `json:"purpose,omitempty"`
	Recipient     string          `json:"recipient,omitempty"`
	Transfer      string          `json:"transfer,omitempty"`
	Disclosure    bool            `json:"disclosure,omitempty"`
	Action        string          `json:"action"`
	PolicyVersion string          `json:"policy_version"`
	Method        string          `json:"method"`
	Language      string          `json:"language"`
	NoticeHash    string          `json:"notice_hash"`
	Separate      bool            `json:"separate"`
	GuardianID    string          `json:"guardian_id,omitempty"`
	Signal        string          `json:"signal,omitempty"`
	Evidence      json.RawMessage `json:"evidence,omitempty"`
	At            string          `json:"at"`
}

// Record validates a consent write against the manifest and appends it to
// the ledger. It returns once the events are durable.
func (s *Service) Record(ctx context.Context, a Actor, subjectID string, in ConsentInput) ([]ConsentEvent, error) {
	return s.write(ctx, a, subjectID, strings.Join(append(slices.Clone(in.Grant), in.Withdraw...), ","), func(w *writeCtx) error {
		return w.consents(in)
	})
}

// writeCtx is one ledger write being planned: the policy in force, the
// subject's snapshot under it, and the events so far.
type writeCtx struct {
	ctx      context.Context
	s        *Service
	subject  string
	ver      store.PolicyVersion
	m        *manifest.Manifest
	pol      *check.Policy
	snap     *check.Subject
	minor    check.Minor
	guardian string // the guardian writing for a minor, if one is
	// assume is the snapshot of a subject not created yet (an anonymous
	// visitor's first choice), to validate a write before creating it.
	assume *check.Subject
	meta   store.ConsentEvent
	events []store.ConsentEvent
}

// write plans a ledger write with plan and appends it with its audit
// entries in one transaction. A refused write is audited too, without
// what was asked beyond the keys named in asked.
func (s *Service) write(ctx context.Context, a Actor, subjectID, asked string, plan func(*writeCtx) error) ([]ConsentEvent, error) {
	if err := ValidateSubjectID(subjectID); err != nil {
		return nil, err
	}
	ver, m, pol, err := s.Policy()
	if err != nil {
		return nil, err
	}
	w := &writeCtx{ctx: ctx, s: s, subject: subjectID, ver: ver, m: m, pol: pol}
	if err := plan(w); err != nil {
		return nil, s.refused(ctx, a, subjectID, asked, err)
	}
	events := w.events
	if len(events) == 0 {
		return []ConsentEvent{}, nil
	}
	entries := make([]audit.Entry, len(events))
	for i, e := range events {
		events[i].Actor = a.ID
		detail, _ := json.Marshal(map[string]any{"event": e.ID, "method": e.Method, "separate": e.Separate, "signal": e.Signal, "version": ver.Version})
		entries[i] = s.entry(a, auditAction(e.Action), "subject:"+subjectID, e.Purpose, audit.OutcomeOK, string(detail))
		events[i].At = entries[i].At
	}
	err = s.st.AppendConsents(ctx, events, entries)
	if errors.Is(err, store.ErrConflict) {
		return nil, errSubjectNotFound // the only reference an event has is its subject
	}
	if err != nil {
		return nil, err
	}
	labels := s.versionLabels()
	out := make([]ConsentEvent, len(events))
	for i, e := range events {
		out[i] = eventView(e, labels[e.VersionSeq])
	}
	return out, nil
}

// refused records a refused write in the audit trail, without what was
// asked beyond the keys named in asked: a refusal is a decision too. It
// returns the refusal.
func (s *Service) refused(ctx context.Context, a Actor, subjectID, asked string, err error) error {
	if fe, ok := fault.As(err); ok && fe.Kind != fault.Internal {
		detail, _ := json.Marshal(map[string]string{"code": fe.Code})
		if aerr := s.st.AppendAudit(ctx, s.entry(a, ActionConsentRejected, "subject:"+subjectID, asked, audit.OutcomeDenied, string(detail))); aerr != nil {
			return aerr
		}
	}
	return err
}

func auditAction(action string) string {
	switch action {
	case store.ActionWithdraw:
		return ActionConsentWithdraw
	case store.ActionObject:
		return ActionObject
	case store.ActionLift:
		return ActionLift
	case store.ActionOverride:
		return ActionOverride
	case store.ActionAccept:
		return ActionAccept
	}
	return ActionConsentGrant
}

func invalid(code, field, format string, args ...any) *fault.Error {
	return fault.New(fault.Invalid, code, format, args...).At(field)
}

// load reads the subject's snapshot and the common fields of the events:
// method, language, evidence, and the guardian when one writes for a minor.
func (w *writeCtx) load(method, language, guardianID string, evidence json.RawMessage) error {
	if !slices.Contains(Methods, method) {
		return invalid("invalid_method", "method", "method is missing or unknown").Allowing(Methods)
	}
	if !slices.Contains(Languages, language) {
		return invalid("invalid_language", "language", "language is missing or unsupported").Allowing(Languages)
	}
	if len(evidence) > 0 {
		var obj map[string]any
		if len(evidence) > 2048 || json.Unmarshal(evidence, &obj) != nil {
			return invalid("invalid_evidence", "evidence", "evidence must be a JSON object of at most 2 KiB")
		}
	}
	snap := w.assume
	if snap == nil {
		var err error
		if snap, err = w.s.snapshot(w.ctx, w.subject, w.pol); err != nil {
			return err
		}
	}
	if snap == nil {
		return errSubjectNotFound
	}
	w.snap = snap
	w.minor = w.pol.MinorStatus(snap, w.s.now())
	if method == "guardian" || guardianID != "" {
		if guardianID == "" || guardianID != snap.GuardianID {
			return invalid("guardian_not_linked", "guardian_id", "the guardian given is not the subject's registered guardian")
		}
		if stance, _ := w.pol.Stance(snap.Jurisdiction); w.minor != check.IsMinor || stance != manifest.StanceGuardianConsent {
			// Guardianship ends with minority: a former guardian's word is
			// not the subject's consent, and an adult's choices are their own.
			return invalid("guardian_not_applicable", "guardian_id", "the subject is not a minor in a guardian's care (or their age is not known): only they can decide")
		}
		w.guardian = guardianID
	}
	w.meta = store.ConsentEvent{SubjectID: w.subject, VersionSeq: w.ver.Seq, Method: method, Language: language, GuardianID: w.guardian, Evidence: "{}"}
	if len(evidence) > 0 {
		w.meta.Evidence = string(evidence)
	}
	return nil
}

// add appends an event for key.
func (w *writeCtx) add(key, action, signal string, separate bool) {
	e := w.meta
	e.ID, e.Purpose, e.Action, e.Signal, e.Separate = ids.New("ce_"), key, action, signal, separate
	w.events = append(w.events, e)
}

// mayAgree refuses a grant or an acceptance a minor cannot give alone.
func (w *writeCtx) mayAgree(field string) error {
	if w.minor != check.IsMinor || w.guardian != "" {
		return nil
	}
	stance, age := w.pol.Stance(w.snap.Jurisdiction)
	if stance == manifest.StanceAdultsOnly {
		return invalid("minor_not_served", field, "the service is for people of %d and over; it records no agreement from a younger person", age)
	}
	return invalid("guardian_consent_required", "method", "the subject is under %d: their guardian agrees for them (method guardian with guardian_id)", age)
}

// target checks one entry of a grant or withdrawal, and says whether
// granting it must be a separate consent.
func (w *writeCtx) target(key string) (separate bool, err error) {
	switch kind, _, act := check.ParseKey(key); kind {
	case check.KeyOfObjection, check.KeyOfNothing:
		return false, invalid("unknown_purpose", "grant", "%q is neither a purpose nor recipient:<id>, transfer:<id> or disclosure", key).Allowing(consentKeys(w.pol, w.snap.Jurisdiction))
	case check.KeyOfAct:
		if !w.pol.HasAct(act) {
			return false, invalid("unknown_act", "grant", "%q is not in policy version %s", key, w.ver.Version).Allowing(separateActKeys(w.pol))
		}
		if !w.pol.ActSeparate(act) {
			return false, invalid("consent_not_applicable", "grant", "%q asks for no separate consent: it follows the consent or basis of its purposes", key)
		}
		return true, nil
	}
	r, ok := w.pol.Rule(key)
	if !ok {
		return false, invalid("unknown_purpose", "grant", "purpose %q is not in policy version %s", key, w.ver.Version).Allowing(consentKeys(w.pol, w.snap.Jurisdiction))
	}
	jur := w.snap.Jurisdiction
	if !r.ConsentIn(jur) {
		return false, invalid("consent_not_applicable", "grant", "purpose %q rests on %s here, not consent; recording consent for it would mislead", key, r.BasisIn(jur))
	}
	return r.Separate, nil
}

// consents plans a grant or withdrawal, with the browser signals the
// manifest honours refusing what they cover: a grant of a purpose they
// refuse is recorded as a withdrawal, and every purpose they refuse is
// withdrawn (or, on legitimate interests, objected to), the event naming
// the signal.
func (w *writeCtx) consents(in ConsentInput) error {
	if err := w.load(in.Method, in.Language, in.GuardianID, in.Evidence); err != nil {
		return err
	}
	signal, refused := w.signalled(in.Signals)
	if len(in.Grant) == 0 && len(in.Withdraw) == 0 && len(refused) == 0 {
		return invalid("nothing_to_record", "grant", "give at least one purpose to grant or withdraw")
	}
	var grant, withdraw []string
	for _, k := range in.Grant {
		if refused[k] {
			withdraw = append(withdraw, k)
		} else {
			grant = append(grant, k)
		}
	}
	if len(grant) > 0 && !noticeHashRE.MatchString(in.NoticeHash) {
		return invalid("notice_hash_required", "notice_hash", "a grant needs notice_hash: the lowercase hex SHA-256 of the exact notice text shown")
	}
	if in.Separate && len(grant) > 1 {
		return invalid("separate_grant_multiple", "grant", "a separate consent is given for one purpose or act at a time: record each on its own")
	}
	w.meta.NoticeHash = in.NoticeHash
	separate := map[string]bool{} // every key named, and whether its grant must be separate
	for _, list := range [][]string{in.Grant, in.Withdraw} {
		for _, k := range list {
			if _, dup := separate[k]; dup {
				return invalid("duplicate_purpose", "grant", "%q appears more than once", k)
			}
			sep, err := w.target(k)
			if err != nil {
				return err
			}
			separate[k] = sep
		}
	}
	if len(grant) > 0 {
		if err := w.mayAgree("grant"); err != nil {
			return err
		}
	}
	for _, k := range grant {
		if separate[k] && !in.Separate {
			return invalid("separate_consent_required", "separate", "%q needs a separate consent (sensitive information, provision to another processor, a cross-border transfer or public disclosure): ask for it on its own and set separate", k)
		}
		w.add(k, store.ActionGrant, "", in.Separate)
	}
	withdraw = append(withdraw, in.Withdraw...)
	if signal != "" {
		// What the signal refuses joins what was asked, in key order.
		for k := range refused {
			if !isObjection(k) && !slices.Contains(withdraw, k) {
				withdraw = append(withdraw, k)
			}
		}
		slices.Sort(withdraw)
	}
	for _, k := range withdraw {
		sig := ""
		if refused[k] {
			sig = signal
		}
		w.add(k, store.ActionWithdraw, sig, false)
	}
	for _, k := range slices.Sorted(maps.Keys(refused)) {
		if isObjection(k) {
			w.add(k, store.ActionObject, signal, false)
		}
	}
	return nil
}

func isObjection(key string) bool {
	kind, _, _ := check.ParseKey(key)
	return kind == check.KeyOfObjection
}

// signalled returns the first browser signal the manifest honours, and
// the ledger keys it refuses for this subject: consents to withdraw and,
// for purposes on legitimate interests or a public task, objections.
func (w *writeCtx) signalled(signals []string) (string, map[string]bool) {
	refused := map[string]bool{}
	for _, sig := range signals {
		rule, ok := w.m.SignalRule(sig)
		if !ok || !rule.Honoured() {
			continue
		}
		for _, p := range rule.Refuses {
			r, ok := w.pol.Rule(p)
			switch {
			case !ok:
			case r.ConsentIn(w.snap.Jurisdiction):
				refused[p] = true
			case r.ObjectableIn(w.snap.Jurisdiction):
				refused[check.ObjectionKey(p)] = true
			}
		}
		return sig, refused
	}
	return "", refused
}

// History lists a subject's ledger, oldest first, after a cursor.
func (s *Service) History(ctx context.Context, a Actor, subjectID string, after int64, limit int) ([]ConsentEvent, error) {
	if err := ValidateSubjectID(subjectID); err != nil {
		return nil, err
	}
	if _, err := s.st.Subject(ctx, subjectID); errors.Is(err, store.ErrNotFound) {
		return nil, errSubjectNotFound
	} else if err != nil {
		return nil, err
	}
	evs, err := s.st.ConsentEvents(ctx, subjectID, after, limit)
	if err != nil {
		return nil, err
	}
	labels := s.versionLabels()
	out := make([]ConsentEvent, len(evs))
	for i, e := range evs {
		out[i] = eventView(e, labels[e.VersionSeq])
	}
	if err := s.st.AppendAudit(ctx, s.entry(a, ActionConsentRead, "subject:"+subjectID, "", audit.OutcomeOK, "")); err != nil {
		return nil, err
	}
	return out, nil
}

var errNoReceipt = fault.New(fault.Conflict, "no_receipt", "receipts record consents given or withdrawn; this event is an objection or an acceptance")

// Receipt returns a signed consent receipt for one ledger event.
func (s *Service) Receipt(ctx context.Context, a Actor, subjectID, eventID string) (string, error) {
	if err := ValidateSubjectID(subjectID); err != nil {
		return "", err
	}
	if s.opt.Signer == nil {
		return "", fault.New(fault.Unavailable, "receipts_unavailable", "no receipt signing key is configured")
	}
	e, err := s.st.ConsentEvent(ctx, subjectID, eventID)
	if errors.Is(err, store.ErrNotFound) {
		return "", fault.New(fault.NotFound, "event_not_found", "no such consent event for this subject")
	}
	if err != nil {
		return "", err
	}
	if e.Action != store.ActionGrant && e.Action != store.ActionWithdraw {
		return "", errNoReceipt
	}
	_, m, _, err := s.Policy()
	if err != nil {
		return "", err
	}
	// The receipt describes the policy the event was recorded under.
	if pm, err := s.manifestAt(e.VersionSeq); err == nil {
		m = pm
	}
	r := receipt.Build(m, receipt.Event{ID: e.ID, SubjectID: e.SubjectID, Purposes: keyPurposes(m, e.Purpose), Action: e.Action, At: e.At,
		Method: e.Method, Language: e.Language, PolicyVersion: s.versionLabels()[e.VersionSeq], NoticeHash: e.NoticeHash, Separate: e.Separate}, e.Language)
	tok, err := s.opt.Signer.Sign(r)
	if err != nil {
		return "", err
	}
	if err := s.st.AppendAudit(ctx, s.entry(a, ActionReceipt, "subject:"+subjectID, e.Purpose, audit.OutcomeOK, `{"event":"`+e.ID+`"}`)); err != nil {
		return "", err
	}
	return tok, nil
}

// keyPurposes lists the purposes a consent key covers: the purpose
// itself, or those an act is declared for.
func keyPurposes(m *manifest.Manifest, key string) []string {
	kind, _, act := check.ParseKey(key)
	if kind != check.KeyOfAct {
		return []string{key}
	}
	switch act.Kind {
	case check.ActRecipient:
		if r, ok := m.Recipient(act.ID); ok {
			return r.Purposes
		}
	case check.ActTransfer:
		for _, x := range m.Storage.CrossBorder {
			if x.ID == act.ID {
				return x.Purposes
			}
		}
	}
	return nil
}

func eventView(e store.ConsentEvent, version string) ConsentEvent {
	v := ConsentEvent{ID: e.ID, Seq: e.Seq, Action: e.Action, PolicyVersion: version, Method: e.Method,
		Language: e.Language, NoticeHash: e.NoticeHash, Separate: e.Separate, GuardianID: e.GuardianID, Signal: e.Signal,
		At: e.At.UTC().Format("2006-01-02T15:04:05.000000Z")}
	switch kind, purpose, act := check.ParseKey(e.Purpose); kind {
	case check.KeyOfAcceptance:
	case check.KeyOfAct:
		switch act.Kind {
		case check.ActDisclosure:
			v.Disclosure = true
		case check.ActRecipient:
			v.Recipient = act.ID
		case check.ActTransfer:
			v.Transfer = act.ID
		}
	case check.KeyOfObjection:
		v.Purpose = purpose
	default:
		v.Purpose = e.Purpose
	}
	if e.Evidence != "" && e.Evidence != "{}" {
		v.Evidence = json.RawMessage(e.Evidence)
	}
	return v
}
