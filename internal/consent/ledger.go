package consent

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/custos-privacy/custos/internal/ids"
	"regexp"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/receipt"
	"github.com/custos-privacy/custos/internal/store"
)

// Methods by which consent is given or withdrawn.
var Methods = []string{"banner", "app_dialog", "api", "paper", "guardian", "privacy_center"}

// Browser signals.
const (
	SignalGPC = "gpc"
	SignalDNT = "dnt"
)

// ConsentInput records consent decisions for one subject.
type ConsentInput struct {
	// Grant and Withdraw list purpose ids.
	Grant    []string `json:"grant,omitempty"`
	Withdraw []string `json:"withdraw,omitempty"`
	Method   string   `json:"method"`
	Language string   `json:"language"`
	// NoticeHash is the hex SHA-256 of the exact notice text shown.
	NoticeHash string `json:"notice_hash"`
	// Separate says the grant was asked as a separate consent, on its own.
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

// ConsentEvent is a ledger event as the API shows it.
type ConsentEvent struct {
	ID            string          `json:"id"`
	Seq           int64           `json:"seq"`
	Purpose       string          `json:"purpose"`
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
	if err := ValidateSubjectID(subjectID); err != nil {
		return nil, err
	}
	ver, m, pol, err := s.Policy()
	if err != nil {
		return nil, err
	}
	events, err := s.plan(ctx, subjectID, in, ver, m, pol)
	if err != nil {
		if fe, ok := fault.As(err); ok && fe.Kind != fault.Internal {
			detail, _ := json.Marshal(map[string]string{"code": fe.Code})
			// A refused write is a decision too; record it, keep the refusal.
			if aerr := s.st.AppendAudit(ctx, s.entry(a, ActionConsentRejected, "subject:"+subjectID, strings.Join(append(in.Grant, in.Withdraw...), ","), audit.OutcomeDenied, string(detail))); aerr != nil {
				return nil, aerr
			}
		}
		return nil, err
	}
	entries := make([]audit.Entry, len(events))
	for i, e := range events {
		e.Actor = a.ID
		events[i].Actor = a.ID
		action := ActionConsentGrant
		if e.Action == store.ActionWithdraw {
			action = ActionConsentWithdraw
		}
		detail, _ := json.Marshal(map[string]any{"event": e.ID, "method": e.Method, "separate": e.Separate, "signal": e.Signal, "version": ver.Version})
		entries[i] = s.entry(a, action, "subject:"+subjectID, e.Purpose, audit.OutcomeOK, string(detail))
		events[i].At = entries[i].At
	}
	err = s.st.AppendConsents(ctx, events, entries)
	if errors.Is(err, store.ErrConflict) {
		return nil, errSubjectNotFound // the only reference an event has is its subject
	}
	if err != nil {
		return nil, err
	}
	out := make([]ConsentEvent, len(events))
	for i, e := range events {
		out[i] = eventView(e, ver.Version)
	}
	return out, nil
}

func invalid(code, field, format string, args ...any) error {
	return fault.New(fault.Invalid, code, format, args...).At(field)
}

// plan turns a request into ledger events, enforcing the manifest's rules.
func (s *Service) plan(ctx context.Context, subjectID string, in ConsentInput, ver store.PolicyVersion, m *manifest.Manifest, pol *check.Policy) ([]store.ConsentEvent, error) {
	if !slices.Contains(Methods, in.Method) {
		return nil, invalid("invalid_method", "method", "method must be one of %s", strings.Join(Methods, ", "))
	}
	if in.Language != "zh-CN" && in.Language != "en" {
		return nil, invalid("invalid_language", "language", "language must be zh-CN or en")
	}
	if len(in.Evidence) > 0 {
		var obj map[string]any
		if len(in.Evidence) > 2048 || json.Unmarshal(in.Evidence, &obj) != nil {
			return nil, invalid("invalid_evidence", "evidence", "evidence must be a JSON object of at most 2 KiB")
		}
	}
	// Browser opt-out signals withdraw the purposes the manifest marks as
	// sale, sharing or targeted advertising, whatever the request asked.
	var signal string
	for _, sig := range in.Signals {
		if honours(m, sig) {
			signal = sig
			break
		}
	}
	grant := slices.Clone(in.Grant)
	withdraw := slices.Clone(in.Withdraw)
	if signal != "" {
		for _, r := range pol.Rules() {
			if r.Signals {
				grant = slices.DeleteFunc(grant, func(p string) bool { return p == r.ID })
				if !slices.Contains(withdraw, r.ID) {
					withdraw = append(withdraw, r.ID)
				}
			}
		}
		slices.Sort(withdraw)
	}
	if len(grant) == 0 && len(withdraw) == 0 {
		return nil, invalid("nothing_to_record", "grant", "give at least one purpose to grant or withdraw")
	}
	if len(grant) > 0 && !noticeHashRE.MatchString(in.NoticeHash) {
		return nil, invalid("notice_hash_required", "notice_hash", "a grant needs notice_hash: the lowercase hex SHA-256 of the exact notice text shown")
	}
	seen := map[string]bool{}
	for _, list := range [][]string{grant, withdraw} {
		for _, p := range list {
			if seen[p] {
				return nil, invalid("duplicate_purpose", "grant", "purpose %q appears more than once", p)
			}
			seen[p] = true
			r, ok := pol.Rule(p)
			if !ok {
				return nil, invalid("unknown_purpose", "grant", "purpose %q is not in policy version %s", p, ver.Version)
			}
			if !r.Consent {
				return nil, invalid("consent_not_applicable", "grant", "purpose %q rests on %s, not consent; recording consent for it would mislead", p, r.Basis)
			}
		}
	}
	for _, p := range grant {
		if r, _ := pol.Rule(p); r.Separate && !in.Separate {
			return nil, invalid("separate_consent_required", "separate", "purpose %q needs a separate consent (sensitive information, provision to another processor or a cross-border transfer): ask for it on its own and set separate", p)
		}
	}
	sub, err := s.snapshot(ctx, subjectID, pol)
	if err != nil {
		return nil, err
	}
	if sub == nil {
		return nil, errSubjectNotFound
	}
	guardian := ""
	if in.Method == "guardian" || in.GuardianID != "" {
		if in.GuardianID == "" || in.GuardianID != sub.GuardianID {
			return nil, invalid("guardian_not_linked", "guardian_id", "the guardian given is not the subject's registered guardian")
		}
		guardian = in.GuardianID
	}
	minor := s.now().Before(sub.MinorUntil)
	if guardian != "" && !minor {
		// Guardianship ends with minority: a former guardian's word is not
		// the subject's consent, and an adult's choices are their own.
		return nil, invalid("guardian_not_applicable", "guardian_id", "the subject is not a minor (or their age is not known): only they can decide")
	}
	if minor && len(grant) > 0 && guardian == "" {
		return nil, invalid("guardian_consent_required", "method", "the subject is under %d: consent must be given by their guardian (method guardian with guardian_id)", pol.GuardianAge)
	}
	var events []store.ConsentEvent
	add := func(p, action, sig string) {
		e := store.ConsentEvent{ID: ids.New("ce_"), SubjectID: subjectID, Purpose: p, Action: action, VersionSeq: ver.Seq,
			Method: in.Method, Language: in.Language, NoticeHash: in.NoticeHash, GuardianID: guardian, Signal: sig, Evidence: "{}"}
		if action == store.ActionGrant {
			e.Separate = in.Separate
		}
		if len(in.Evidence) > 0 {
			e.Evidence = string(in.Evidence)
		}
		events = append(events, e)
	}
	for _, p := range grant {
		add(p, store.ActionGrant, "")
	}
	for _, p := range withdraw {
		sig := ""
		if r, _ := pol.Rule(p); signal != "" && r.Signals {
			sig = signal
		}
		add(p, store.ActionWithdraw, sig)
	}
	return events, nil
}

// honours reports whether the manifest acts on a browser signal. GPC is
// honoured unless the manifest says it is ignored; DNT only when the
// manifest says it is honoured.
func honours(m *manifest.Manifest, signal string) bool {
	switch signal {
	case SignalGPC:
		return m.Cookies == nil || m.Cookies.GPC != "ignore"
	case SignalDNT:
		return m.Cookies != nil && m.Cookies.DNT == "honour"
	}
	return false
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
	_, m, _, err := s.Policy()
	if err != nil {
		return "", err
	}
	// The receipt describes the policy the event was recorded under.
	if pm, err := s.manifestAt(ctx, e.VersionSeq); err == nil {
		m = pm
	}
	r := receipt.Build(m, receipt.Event{ID: e.ID, SubjectID: e.SubjectID, Purposes: []string{e.Purpose}, Action: e.Action, At: e.At,
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

func eventView(e store.ConsentEvent, version string) ConsentEvent {
	v := ConsentEvent{ID: e.ID, Seq: e.Seq, Purpose: e.Purpose, Action: e.Action, PolicyVersion: version, Method: e.Method,
		Language: e.Language, NoticeHash: e.NoticeHash, Separate: e.Separate, GuardianID: e.GuardianID, Signal: e.Signal,
		At: e.At.UTC().Format("2006-01-02T15:04:05.000000Z")}
	if e.Evidence != "" && e.Evidence != "{}" {
		v.Evidence = json.RawMessage(e.Evidence)
	}
	return v
}
