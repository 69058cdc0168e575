package consent

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// IdentityInput is an identity given by a caller.
type IdentityInput struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
	// Keep asks for the raw value to be kept, sealed, e.g. to send a
	// verification code later. Otherwise only the keyed hash is stored.
	Keep bool `json:"keep,omitempty"`
}

// SubjectInput registers a subject.
type SubjectInput struct {
	// ID is the application's opaque id for the person; subject_id, as
	// everywhere in the API.
	ID         string          `json:"subject_id"`
	Identities []IdentityInput `json:"identities,omitempty"`
	BirthDate  string          `json:"birth_date,omitempty"`
	AgeBand    string          `json:"age_band,omitempty"`
	GuardianID string          `json:"guardian_id,omitempty"`
	// Jurisdiction is the manifest jurisdiction whose rules apply to the
	// subject (legal bases, minors); empty for the general rules.
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// Language is the language notices reach the subject in: zh-CN or en.
	Language string `json:"language,omitempty"`
}

// IdentityView shows an identity without disclosing it: its kind, and a
// masked form when the value is kept.
type IdentityView struct {
	Kind   string `json:"kind"`
	Masked string `json:"masked,omitempty"`
}

// SubjectView is a subject as the API shows it.
type SubjectView struct {
	ID           string `json:"subject_id"`
	BirthDate    string `json:"birth_date,omitempty"`
	AgeBand      string `json:"age_band,omitempty"`
	GuardianID   string `json:"guardian_id,omitempty"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
	Language     string `json:"language,omitempty"`
	Restricted   bool   `json:"restricted"`
	// Minor is the policy's answer: under the age threshold of the
	// subject's jurisdiction, or of unknown age where the manifest treats
	// that as a minor. AgeStatus is what is known: adult, minor or unknown
	// (no birth date, and no age band that tells).
	Minor     bool   `json:"minor"`
	AgeStatus string `json:"age_status"`
	// Arrangement is what the person arranged for their information after
	// death: "refuse_relatives" bars close relatives' requests.
	Arrangement string         `json:"arrangement,omitempty"`
	Identities  []IdentityView `json:"identities"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

var (
	subjectIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	ageBandRE   = regexp.MustCompile(`^(under_[0-9]{1,2}|[0-9]{1,2}_[0-9]{1,2}|adult)$`)
	mobileRE    = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
)

// ValidateSubjectID checks an application's subject id. Ids are logged and
// appear in the audit trail, so they must not be personal information
// themselves: an email address or phone number is refused.
func ValidateSubjectID(id string) error {
	switch {
	case strings.Contains(id, "@") || mobileRE.MatchString(id) || strings.HasPrefix(id, "+"):
		return fault.New(fault.Invalid, "subject_id_is_pi", "a subject id must be an opaque id, not an email address or phone number; register those as identities").At("subject_id")
	case !subjectIDRE.MatchString(id):
		return fault.New(fault.Invalid, "invalid_subject_id", "a subject id is 1 to 128 letters, digits and . _ : -, starting with a letter or digit").At("subject_id")
	}
	return nil
}

// validatePlace checks a subject's jurisdiction against the manifest in
// force and their language.
func (s *Service) validatePlace(jur, lang string) error {
	if lang != "" && !slices.Contains(Languages, lang) {
		return invalid("invalid_language", "language", "language is unsupported").Allowing(Languages)
	}
	if jur == "" {
		return nil
	}
	_, m, _, err := s.Policy()
	if err != nil {
		return err
	}
	if !slices.Contains(m.JurisdictionIDs(), jur) {
		if len(m.Jurisdiction) == 0 {
			return fault.New(fault.Invalid, "unknown_jurisdiction", "the policy in force declares no jurisdictions: leave jurisdiction empty").At("jurisdiction")
		}
		return invalid("unknown_jurisdiction", "jurisdiction", "jurisdiction %q is not in the policy in force", jur).Allowing(m.JurisdictionIDs())
	}
	return nil
}

func validateBirth(birth, band string, now time.Time) error {
	if birth != "" {
		d, err := time.Parse(time.DateOnly, birth)
		if err != nil || d.After(now) || d.Year() < 1900 {
			return fault.New(fault.Invalid, "invalid_birth_date", "birth_date must be a past date YYYY-MM-DD").At("birth_date")
		}
	}
	if band != "" && !ageBandRE.MatchString(band) {
		return fault.New(fault.Invalid, "invalid_age_band", "age_band must be under_N, N_M or adult").At("age_band")
	}
	return nil
}

func (s *Service) identities(ctx context.Context, subjectID string, in []IdentityInput) ([]store.Identity, error) {
	out := make([]store.Identity, 0, len(in))
	seen := map[string]bool{}
	for i, idn := range in {
		norm, err := identity.Normalize(idn.Kind, idn.Value)
		if err != nil {
			return nil, fault.New(fault.Invalid, "invalid_identity", "identities[%d]: not a valid %s", i, kindName(idn.Kind)).At("identities")
		}
		h := s.opt.Hasher.Hash(idn.Kind, norm)
		if seen[string(h)] {
			continue
		}
		seen[string(h)] = true
		rec := store.Identity{Kind: idn.Kind, Hash: h}
		if idn.Keep {
			if s.opt.Keys == nil {
				return nil, fault.New(fault.Unavailable, "sealing_unavailable", "no data key is configured to keep identity values")
			}
			rec.Sealed, err = s.opt.Keys.Seal(ctx, keystore.Subject(subjectID), []byte(norm), keystore.IdentityAD(subjectID, idn.Kind))
			if err != nil {
				return nil, err
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

func kindName(kind string) string {
	if identity.ValidKind(kind) {
		return kind
	}
	return "identity kind"
}

// OpenIdentity opens an identity value kept (sealed) for a subject. It
// fails once the subject's key is destroyed (keystore.ErrDestroyed).
func (s *Service) OpenIdentity(ctx context.Context, subjectID, kind string, sealed []byte) ([]byte, error) {
	if s.opt.Keys == nil {
		return nil, fault.New(fault.Unavailable, "sealing_unavailable", "no data key is configured to open identity values")
	}
	return s.opt.Keys.Open(ctx, keystore.Subject(subjectID), sealed, keystore.IdentityAD(subjectID, kind))
}

// CreateSubject registers a subject.
func (s *Service) CreateSubject(ctx context.Context, a Actor, in SubjectInput) (SubjectView, error) {
	if err := ValidateSubjectID(in.ID); err != nil {
		return SubjectView{}, err
	}
	if err := validateBirth(in.BirthDate, in.AgeBand, s.now()); err != nil {
		return SubjectView{}, err
	}
	if in.GuardianID == in.ID && in.ID != "" {
		return SubjectView{}, fault.New(fault.Invalid, "invalid_guardian", "a subject cannot be their own guardian").At("guardian_id")
	}
	if err := s.validatePlace(in.Jurisdiction, in.Language); err != nil {
		return SubjectView{}, err
	}
	ids, err := s.identities(ctx, in.ID, in.Identities)
	if err != nil {
		return SubjectView{}, err
	}
	sub := store.Subject{ID: in.ID, BirthDate: in.BirthDate, AgeBand: in.AgeBand, GuardianID: in.GuardianID, Jurisdiction: in.Jurisdiction, Language: in.Language,
		Identities: ids, CreatedAt: s.now()}
	detail, _ := json.Marshal(map[string]any{"identities": len(ids)})
	err = s.st.CreateSubject(ctx, sub, s.entry(a, ActionSubjectCreate, "subject:"+in.ID, "", audit.OutcomeOK, string(detail)))
	if errors.Is(err, store.ErrConflict) {
		// Which of id, identity or guardian collided is not said: telling
		// would reveal whether someone else registered an identity.
		return SubjectView{}, fault.New(fault.Conflict, "subject_conflict", "the subject id or one of the identities is already registered, or the guardian does not exist")
	}
	if err != nil {
		return SubjectView{}, err
	}
	if in.GuardianID == "" {
		// Registered without a guardian: a child among them was collected
		// without one's consent.
		s.discover(ctx, a, in.ID, check.NotMinor)
	}
	return s.view(ctx, in.ID, false)
}

// AddIdentities registers more identities for a subject.
func (s *Service) AddIdentities(ctx context.Context, a Actor, id string, in []IdentityInput) (SubjectView, error) {
	if err := ValidateSubjectID(id); err != nil {
		return SubjectView{}, err
	}
	ids, err := s.identities(ctx, id, in)
	if err != nil {
		return SubjectView{}, err
	}
	detail, _ := json.Marshal(map[string]any{"identities": len(ids)})
	err = s.st.AddIdentities(ctx, id, ids, s.entry(a, ActionIdentityAdd, "subject:"+id, "", audit.OutcomeOK, string(detail)))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return SubjectView{}, errSubjectNotFound
	case errors.Is(err, store.ErrConflict):
		return SubjectView{}, fault.New(fault.Conflict, "identity_conflict", "one of the identities is already registered")
	case err != nil:
		return SubjectView{}, err
	}
	return s.view(ctx, id, false)
}

// ReplaceIdentity puts value in place of the subject's identities of
// kind (email or phone) once the person's record elsewhere was corrected
// to it: their hashes are removed and value's added, so that the next
// request by the new value finds the subject and one by an old value does
// not. The value is kept sealed only if an old one was: correcting an
// identity does not make Custos hold more than it held. A subject without
// an identity of this kind gains none (replaced is false). The audit entry
// names the kind, never a value.
func (s *Service) ReplaceIdentity(ctx context.Context, a Actor, subjectID, kind, value string) (replaced bool, err error) {
	if kind != "email" && kind != "phone" {
		return false, fault.New(fault.Invalid, "invalid_identity", "only an email or a phone identity is replaced").At("kind")
	}
	norm, err := identity.Normalize(kind, value)
	if err != nil {
		return false, fault.New(fault.Invalid, "invalid_identity", "not a valid %s", kind)
	}
	sub, err := s.st.Subject(ctx, subjectID)
	if errors.Is(err, store.ErrNotFound) {
		return false, errSubjectNotFound
	} else if err != nil {
		return false, err
	}
	had, kept := 0, false
	for _, idn := range sub.Identities {
		if idn.Kind == kind {
			had++
			kept = kept || len(idn.Sealed) > 0
		}
	}
	if had == 0 {
		return false, nil
	}
	ids, err := s.identities(ctx, subjectID, []IdentityInput{{Kind: kind, Value: norm, Keep: kept}})
	if err != nil {
		return false, err
	}
	detail, _ := json.Marshal(map[string]any{"kind": kind, "replaced": had, "kept": kept})
	err = s.st.ReplaceIdentities(ctx, subjectID, ids[0], s.entry(a, ActionIdentityReplace, "subject:"+subjectID, "", audit.OutcomeOK, string(detail)))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, errSubjectNotFound
	case errors.Is(err, store.ErrConflict):
		// Whose it is is not said.
		return false, fault.New(fault.Conflict, "identity_conflict", "the corrected %s is registered to another subject", kind)
	case err != nil:
		return false, err
	}
	return true, nil
}

var errSubjectNotFound = fault.New(fault.NotFound, "subject_not_found", "no such subject")

// Subject discloses a subject to an operator; the disclosure is audited
// with its stated purpose.
func (s *Service) Subject(ctx context.Context, a Actor, id, purpose string) (SubjectView, error) {
	if err := ValidateSubjectID(id); err != nil {
		return SubjectView{}, err
	}
	v, err := s.view(ctx, id, true)
	if err != nil {
		return SubjectView{}, err
	}
	if err := s.st.AppendAudit(ctx, s.entry(a, ActionSubjectRead, "subject:"+id, purpose, audit.OutcomeOK, "")); err != nil {
		return SubjectView{}, err
	}
	return v, nil
}

func (s *Service) view(ctx context.Context, id string, unmask bool) (SubjectView, error) {
	sub, err := s.st.Subject(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return SubjectView{}, errSubjectNotFound
	}
	if err != nil {
		return SubjectView{}, err
	}
	v := SubjectView{ID: sub.ID, BirthDate: sub.BirthDate, AgeBand: sub.AgeBand, GuardianID: sub.GuardianID, Jurisdiction: sub.Jurisdiction, Language: sub.Language,
		Restricted: sub.Restricted, Arrangement: sub.Arrangement, CreatedAt: sub.CreatedAt, UpdatedAt: sub.UpdatedAt, Identities: []IdentityView{}}
	if _, _, pol, err := s.Policy(); err == nil {
		v.Minor, v.AgeStatus = s.minorOf(sub, pol)
	}
	for _, idn := range sub.Identities {
		iv := IdentityView{Kind: idn.Kind}
		if unmask && len(idn.Sealed) > 0 && s.opt.Keys != nil {
			if raw, err := s.OpenIdentity(ctx, sub.ID, idn.Kind, idn.Sealed); err == nil {
				iv.Masked = identity.Mask(idn.Kind, string(raw))
			}
		}
		v.Identities = append(v.Identities, iv)
	}
	return v, nil
}

// SubjectPatch changes a subject's age facts or guardian.
type SubjectPatch struct {
	// Arrangement records the person's own arrangement for their
	// information after death: "" or "refuse_relatives".
	Arrangement  *string `json:"arrangement,omitempty"`
	BirthDate    *string `json:"birth_date,omitempty"`
	AgeBand      *string `json:"age_band,omitempty"`
	GuardianID   *string `json:"guardian_id,omitempty"`
	Jurisdiction *string `json:"jurisdiction,omitempty"`
	Language     *string `json:"language,omitempty"`
}

// UpdateSubject applies a patch.
func (s *Service) UpdateSubject(ctx context.Context, a Actor, id string, p SubjectPatch) (SubjectView, error) {
	if err := ValidateSubjectID(id); err != nil {
		return SubjectView{}, err
	}
	var birth, band string
	if p.BirthDate != nil {
		birth = *p.BirthDate
	}
	if p.AgeBand != nil {
		band = *p.AgeBand
	}
	if err := validateBirth(birth, band, s.now()); err != nil {
		return SubjectView{}, err
	}
	if p.GuardianID != nil && *p.GuardianID == id {
		return SubjectView{}, fault.New(fault.Invalid, "invalid_guardian", "a subject cannot be their own guardian").At("guardian_id")
	}
	if p.Arrangement != nil && *p.Arrangement != "" && *p.Arrangement != "refuse_relatives" {
		return SubjectView{}, fault.New(fault.Invalid, "invalid_arrangement", "arrangement is empty or refuse_relatives").At("arrangement")
	}
	var jur, lang string
	if p.Jurisdiction != nil {
		jur = *p.Jurisdiction
	}
	if p.Language != nil {
		lang = *p.Language
	}
	if err := s.validatePlace(jur, lang); err != nil {
		return SubjectView{}, err
	}
	before := check.NotMinor
	if _, pol, ok := s.discovers(); ok {
		if sub, err := s.st.Subject(ctx, id); err == nil {
			before, _ = s.minorStatus(sub, pol)
		}
	}
	err := s.st.UpdateSubject(ctx, id, store.SubjectPatch{BirthDate: p.BirthDate, AgeBand: p.AgeBand, GuardianID: p.GuardianID, Arrangement: p.Arrangement,
		Jurisdiction: p.Jurisdiction, Language: p.Language},
		s.entry(a, ActionSubjectUpdate, "subject:"+id, "", audit.OutcomeOK, ""))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return SubjectView{}, errSubjectNotFound
	case errors.Is(err, store.ErrConflict):
		return SubjectView{}, fault.New(fault.Invalid, "invalid_guardian", "the guardian is not a registered subject").At("guardian_id")
	case err != nil:
		return SubjectView{}, err
	}
	s.discover(ctx, a, id, before)
	return s.view(ctx, id, false)
}

// SetRestricted restricts processing to storage (or lifts it), e.g. while
// accuracy or lawfulness is disputed.
func (s *Service) SetRestricted(ctx context.Context, a Actor, id string, restricted bool, reason string) (SubjectView, error) {
	if err := ValidateSubjectID(id); err != nil {
		return SubjectView{}, err
	}
	action := ActionRestrict
	if !restricted {
		action = ActionUnrestrict
	}
	detail, _ := json.Marshal(map[string]string{"reason": reason})
	err := s.st.UpdateSubject(ctx, id, store.SubjectPatch{Restricted: &restricted}, s.entry(a, action, "subject:"+id, "", audit.OutcomeOK, string(detail)))
	if errors.Is(err, store.ErrNotFound) {
		return SubjectView{}, errSubjectNotFound
	}
	if err != nil {
		return SubjectView{}, err
	}
	return s.view(ctx, id, false)
}

// minorStatus is the policy's answer to "is this subject a minor?" and
// whether their age is known: the one place, with check.Policy.MinorStatus
// under it, that the API, the pages and the rights workflow ask.
func (s *Service) minorStatus(sub store.Subject, pol *check.Policy) (check.Minor, bool) {
	snap := snapshotOf(sub, nil, pol)
	return pol.MinorStatus(snap, s.now()), !snap.AgeUnknown
}

// minorOf is minorStatus as a view shows it.
func (s *Service) minorOf(sub store.Subject, pol *check.Policy) (minor bool, ageStatus string) {
	st, known := s.minorStatus(sub, pol)
	switch {
	case !known:
		ageStatus = "unknown"
	case st == check.IsMinor:
		ageStatus = "minor"
	default:
		ageStatus = "adult"
	}
	return st == check.IsMinor, ageStatus
}

// discover keeps the promise of minors.delete_if_discovered: a subject
// whose age facts now show a minor under the threshold, who was not one
// before and whose guardian has not agreed, had their information
// collected without a guardian's consent. The discovery is audited and
// handed to the rights workflow, which opens an erasure request the
// operator sees in the queue. A failure to open it is logged, not the
// caller's: the subject's change is already recorded.
func (s *Service) discover(ctx context.Context, a Actor, id string, before check.Minor) {
	m, pol, ok := s.discovers()
	if !ok || before == check.IsMinor {
		return
	}
	sub, states, err := s.st.SubjectState(ctx, id)
	if err != nil {
		return
	}
	snap := snapshotOf(sub, states, pol)
	if snap.AgeUnknown || pol.MinorStatus(snap, s.now()) != check.IsMinor {
		return
	}
	if snap.GuardianAccepted() {
		return
	}
	if err := s.st.AppendAudit(ctx, s.entry(a, ActionMinorDiscovered, "subject:"+id, "", audit.OutcomeOK, `{"action":"erasure_requested"}`)); err != nil {
		s.log.Error("minor discovered: cannot audit", "subject", id, "err", err)
		return
	}
	lang := sub.Language
	if lang == "" {
		lang = m.DefaultLanguage()
	}
	if err := s.opt.MinorDiscovered(ctx, id, lang); err != nil {
		s.log.Error("minor discovered: cannot open the erasure request", "subject", id, "err", err)
	}
}

// discovers returns the policy in force when it keeps
// minors.delete_if_discovered here: the manifest asks for it and a
// workflow takes the erasure.
func (s *Service) discovers() (*manifest.Manifest, *check.Policy, bool) {
	_, m, pol, err := s.Policy()
	if err != nil || !m.Minors.DeleteIfFound || s.opt.MinorDiscovered == nil {
		return nil, nil, false
	}
	return m, pol, true
}

// MinorInfo is what the policy in force says of a subject's age.
type MinorInfo struct {
	// Minor: under the age threshold of the subject's jurisdiction, or of
	// unknown age where the manifest treats that as a minor.
	Minor      bool
	AgeKnown   bool
	Stance     string // manifest.StanceAdultsOnly, StanceGuardianConsent or StanceNotDirected
	Threshold  int
	GuardianID string // the registered guardian, if any
}

// Minor answers for one subject under the policy in force; the rights
// workflow asks it before taking a guardian's request.
func (s *Service) Minor(ctx context.Context, subjectID string) (MinorInfo, error) {
	_, _, pol, err := s.Policy()
	if err != nil {
		return MinorInfo{}, err
	}
	sub, err := s.st.Subject(ctx, subjectID)
	if errors.Is(err, store.ErrNotFound) {
		return MinorInfo{}, errSubjectNotFound
	}
	if err != nil {
		return MinorInfo{}, err
	}
	st, known := s.minorStatus(sub, pol)
	stance, threshold := pol.Stance(pol.Jurisdiction(sub.Jurisdiction))
	return MinorInfo{Minor: st == check.IsMinor, AgeKnown: known, Stance: stance, Threshold: threshold, GuardianID: sub.GuardianID}, nil
}
