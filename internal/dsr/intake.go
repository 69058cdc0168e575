package dsr

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/egress"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/ids"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/ratelimit"
	"github.com/custos-privacy/custos/internal/store"
)

// Input is a new request.
type Input struct {
	Type         string `json:"type"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
	Language     string `json:"language"`
	// Identity is, for a public request, an identity already on file (email
	// or phone) to which the one-time code is sent. Nothing more is asked
	// than registration collected.
	Identity *consent.IdentityInput `json:"identity,omitempty"`
	// SubjectID names the subject, for requests taken by an operator.
	SubjectID string `json:"subject_id,omitempty"`
	// Verification, for operator requests: "operator" (identity checked by
	// the operator, with Evidence recorded) or "otp" (a code is sent).
	Verification string `json:"verification,omitempty"`
	Evidence     string `json:"evidence,omitempty"`
	// RequesterID is who asks when it is not the subject: a guardian for a
	// minor, or a close relative for a deceased person.
	RequesterID string `json:"requester_id,omitempty"`
	// Details are the request's particulars: purposes to withdraw or object
	// to, corrected values, a third party for portability, the relative's
	// evidence. Kept sealed.
	Details json.RawMessage `json:"details,omitempty"`
	// Via is the channel the request came through, where the policy's
	// terms depend on it: one of its contact channel ids, or
	// self_service for the product's own account cancellation.
	Via string `json:"via,omitempty"`
}

// Details are the particulars the service itself reads.
type Details struct {
	Purposes []string `json:"purposes,omitempty"`
	// TransmitTo names a third party a portability export is to be sent to.
	TransmitTo *ThirdParty       `json:"transmit_to,omitempty"`
	Correction map[string]string `json:"correction,omitempty"`
	Relation   string            `json:"relation,omitempty"`
	Note       string            `json:"note,omitempty"`
}

// ThirdParty is where a subject asks their data to be transmitted.
type ThirdParty struct {
	Name     string `json:"name"`
	Endpoint string `json:"endpoint,omitempty"` // https URL that accepts the export
}

// View is a request as callers see it.
type View struct {
	ID              string    `json:"id"`
	Type            string    `json:"type"`
	Jurisdiction    string    `json:"jurisdiction"`
	State           string    `json:"state"`
	SubjectID       string    `json:"subject_id,omitempty"`
	Channel         string    `json:"channel"`
	ReceivedAt      time.Time `json:"received_at"`
	DueDate         string    `json:"due_date"`
	DueProvisional  bool      `json:"due_provisional"`
	DaysLeft        int       `json:"days_left"`
	Deadline        string    `json:"deadline"`
	CalendarVersion string    `json:"calendar_version"`
	Extended        bool      `json:"extended"`
	// ClockPaused: the request waits on the subject and the policy says
	// waiting stops its clock (rights.deadlines[].clock pause or restart).
	ClockPaused   bool          `json:"clock_paused"`
	Flags         Flags         `json:"flags"`
	DuplicateOf   string        `json:"duplicate_of,omitempty"`
	RefusalGround string        `json:"refusal_ground,omitempty"`
	Explanation   string        `json:"explanation,omitempty"`
	EffectiveAt   *time.Time    `json:"effective_at,omitempty"`
	History       []HistoryItem `json:"history,omitempty"`
	// Download is the link to an export bundle, shown once on completion.
	Download string `json:"download,omitempty"`
	// Recipients are the recipients told of a deletion, correction or
	// restriction, with the state of each notice.
	Recipients []RecipientState `json:"recipients,omitempty"`
	// Transmissions are the portability exports sent to the third party
	// the person named, with the state of each.
	Transmissions []TransmissionState `json:"transmissions,omitempty"`
	// Propagation counts the notices by progress; absent without any.
	Propagation *Propagation `json:"propagation,omitempty"`
	// Certificates are the ids of the signed erasure certificates of what
	// the request erased in the organisation's databases, oldest first
	// (GET /v1/certificates/{certificate_id}).
	Certificates []string `json:"certificates,omitempty"`
}

// Notice progress, as RecipientState.Progress says it.
const (
	ProgressPending      = "pending"      // not yet handed over; attempts go on
	ProgressSent         = "sent"         // handed over, not yet acknowledged
	ProgressAcknowledged = "acknowledged" // the recipient confirmed it acted
	ProgressGivenUp      = "given_up"     // attempts ended without handing it over
)

// Propagation is how far a request's notices to recipients have got.
// Done is true once every notice is acknowledged or given up: until then
// the request's effects are still reaching recipients.
type Propagation struct {
	Pending      int  `json:"pending"`
	Sent         int  `json:"sent"`
	Acknowledged int  `json:"acknowledged"`
	GivenUp      int  `json:"given_up"`
	Done         bool `json:"done"`
}

// RecipientState is one recipient's notice.
type RecipientState struct {
	Recipient string `json:"recipient"`
	// Name is the recipient's name in the manifest (an SDK's provider),
	// in the request's language.
	Name       string   `json:"name"`
	Action     string   `json:"action"`
	Method     string   `json:"method"`
	Categories []string `json:"categories"`
	State      string   `json:"state"`
	// Progress is State as the subject and staff read it: pending, sent,
	// acknowledged or given_up.
	Progress string `json:"progress"`
	// AcknowledgedAt and AcknowledgedBy ("recipient", through the link its
	// notice carries, or "staff") say how the notice was acknowledged.
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
}

// Flags are observations about a request.
type Flags struct {
	Repeated  bool   `json:"repeated,omitempty"`
	FeePolicy string `json:"fee_policy,omitempty"`
	// Fee is the fee asked for the request, if any (fees.go).
	Fee       *Fee   `json:"fee,omitempty"`
	Evidence  string `json:"evidence,omitempty"`
	Requester string `json:"requester,omitempty"`
	// Via is the channel the request came through (Input.Via).
	Via string `json:"via,omitempty"`
	// From is where a request passed here was received; Routes where a
	// request received here was passed (links.go).
	From   *Origin `json:"from,omitempty"`
	Routes []Route `json:"routes,omitempty"`
}

// HistoryItem is one transition.
type HistoryItem struct {
	At    time.Time `json:"at"`
	From  string    `json:"from"`
	To    string    `json:"to"`
	Actor string    `json:"actor"`
	Note  string    `json:"note,omitempty"`
}

// Accepted is what a public intake answers, whether or not the identity is
// on file: the same words either way, so the answer reveals nothing.
type Accepted struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// AccessToken lets the requester follow or withdraw the request; it is
	// shown only here and stored as a hash.
	AccessToken string `json:"access_token"`
	Message     string `json:"message"`
}

var acceptedMessage = map[string]string{
	"en":    "If this identity is on file, a one-time code has been sent to it. Enter it to verify the request.",
	"zh-CN": "如果该身份信息与我们的记录相符，验证码已发送至该地址或号码。请输入验证码以核验请求。",
}

var errRateLimited = fault.New(fault.TooMany, "rate_limited", "too many requests; try again later")

func (s *Service) policy() (*manifest.Manifest, error) {
	_, m, _, err := s.consent.Policy()
	return m, err
}

func (s *Service) validateInput(m *manifest.Manifest, in *Input) error {
	if !slices.Contains(consent.Languages, in.Language) {
		return fault.New(fault.Invalid, "invalid_language", "language is missing or unsupported").At("language").Allowing(consent.Languages)
	}
	if in.Jurisdiction == "" {
		if js := jurisdictions(m); len(js) > 0 {
			in.Jurisdiction = js[0]
		}
	} else if !slices.Contains(jurisdictions(m), in.Jurisdiction) {
		if len(m.Jurisdiction) == 0 {
			return fault.New(fault.Invalid, "unknown_jurisdiction", "the policy in force declares no jurisdictions: leave jurisdiction empty").At("jurisdiction")
		}
		return fault.New(fault.Invalid, "unknown_jurisdiction", "jurisdiction %q is not in the policy in force", in.Jurisdiction).At("jurisdiction").Allowing(jurisdictions(m))
	}
	if !offered(m, in.Type, in.Jurisdiction) {
		return fault.New(fault.Invalid, "right_not_offered", "the policy does not offer %q in this jurisdiction", in.Type).At("type").Allowing(offeredRights(m, in.Jurisdiction))
	}
	if in.Via != "" && !slices.Contains(channels(m), in.Via) {
		return fault.New(fault.Invalid, "invalid_via", "via is not a channel of the policy in force").At("via").Allowing(channels(m))
	}
	if len(in.Details) > 8192 {
		return fault.New(fault.Invalid, "invalid_details", "details are at most 8 KiB").At("details")
	}
	if len(in.Details) > 0 {
		var d Details
		if json.Unmarshal(in.Details, &d) != nil {
			return fault.New(fault.Invalid, "invalid_details", "details must be a JSON object").At("details")
		}
		if d.TransmitTo != nil && d.TransmitTo.Endpoint != "" {
			if in.Type != "portability" {
				return fault.New(fault.Invalid, "invalid_details", "only a portability request is transmitted to a third party").At("details.transmit_to")
			}
			if egress.CheckURL(d.TransmitTo.Endpoint) != nil || len(d.TransmitTo.Endpoint) > 2048 {
				return fault.New(fault.Invalid, "invalid_endpoint", "the endpoint is an https URL without user information, at most 2048 characters").At("details.transmit_to.endpoint")
			}
		}
		if in.Type == "correction" {
			if err := s.checkCorrection(m, d); err != nil {
				return err
			}
		}
	}
	if in.Type == "deceased" && (in.RequesterID == "" || in.Evidence == "") {
		return fault.New(fault.Invalid, "evidence_required", "a close relative's request names the relative (requester_id) and the evidence of death and relation").At("evidence")
	}
	return nil
}

// newRequest computes the due date at receipt.
func (s *Service) newRequest(ctx context.Context, m *manifest.Manifest, in Input, channel string) (store.Request, error) {
	now := s.now()
	cal := s.Calendar()
	received := calendar.FromTime(now)
	d, ok := deadlineOf(m, cal, in.Type, in.Jurisdiction, in.Via, received)
	if !ok {
		return store.Request{}, fault.New(fault.Invalid, "no_deadline", "the policy sets no reply deadline for %q", in.Type)
	}
	due, err := dueBy(cal, received, d)
	if err != nil {
		return store.Request{}, err
	}
	var sealed []byte
	id := ids.New("rq_")
	if len(in.Details) > 0 {
		if sealed, err = s.opt.Keys.Seal(ctx, keystore.Request(id), in.Details, keystore.RequestAD(id)); err != nil {
			return store.Request{}, err
		}
	}
	flags, _ := json.Marshal(Flags{Evidence: in.Evidence, Requester: in.RequesterID, Via: in.Via})
	return store.Request{ID: id, Kind: in.Type, Jurisdiction: in.Jurisdiction, State: StateReceived, Channel: channel, Language: in.Language,
		Details: sealed, ReceivedAt: now, ReceivedDate: received.String(), DueDate: due.Date.String(), DueProvisional: due.Provisional,
		CalendarVersion: due.CalendarVersion, Deadline: describe(d), Flags: string(flags), UpdatedAt: now, Version: 1}, nil
}

// SubmitPublic takes a request from the public. The requester proves who
// they are with a code sent to an identity already on file; the answer is
// the same whether or not that identity exists, in its words and in the
// time it takes.
func (s *Service) SubmitPublic(ctx context.Context, a consent.Actor, in Input) (Accepted, error) {
	m, err := s.policy()
	if err != nil {
		return Accepted{}, err
	}
	if err := s.validateInput(m, &in); err != nil {
		return Accepted{}, err
	}
	if in.Identity == nil || in.Identity.Kind != "email" && in.Identity.Kind != "phone" {
		return Accepted{}, fault.New(fault.Invalid, "identity_required", "give the email address or phone number you registered with").At("identity")
	}
	norm, err := identity.Normalize(in.Identity.Kind, in.Identity.Value)
	if err != nil {
		return Accepted{}, fault.New(fault.Invalid, "invalid_identity", "not a valid %s", in.Identity.Kind).At("identity")
	}
	// Said for the kind of identity, whoever it is: it tells nothing of
	// whether the identity is on file.
	if ch := channelOf(in.Identity.Kind); !s.Delivers(ch) {
		return Accepted{}, undeliverable(ch)
	}
	hash := s.opt.Hasher.Hash(in.Identity.Kind, norm)
	now := s.now()
	// Limits count the claimed identity whether or not it exists, so being
	// limited says nothing about it either.
	if !s.limits.Allow("addr:"+ratelimit.Client(a.Place), s.opt.PerAddress, now) || !s.limits.Allow("id:"+string(hash), s.opt.PerIdentity, now) {
		return Accepted{}, errRateLimited
	}
	r, err := s.newRequest(ctx, m, in, "public")
	if err != nil {
		return Accepted{}, err
	}
	r.State = StateAwaitingVerification
	r.PausedSince = now // waiting on the subject from the start
	token := newToken()
	r.AccessHash = tokenHash(token)
	// The request and its code are recorded the same way whether or not
	// the identity is on file; whether a code goes out is settled behind
	// the answer (QueueCode), so that the time taken does not tell either.
	// Verify finds the subject from the identity hash kept here, and
	// refuses a code for an identity nobody holds.
	code := newCode()
	sealedLinks, linked, err := s.linkedHashes(ctx, r.ID, in.Identity.Kind, norm)
	if err != nil {
		return Accepted{}, err
	}
	otp := store.OTP{RequestID: r.ID, IdentityHash: hash, CodeHash: s.codeHash(r.ID, code), Linked: sealedLinks, ExpiresAt: now.Add(s.opt.CodeTTL), CreatedAt: now}
	ev := store.RequestEvent{RequestID: r.ID, At: now, Actor: a.ID, From: "", To: StateAwaitingVerification, Note: NoteReceived}
	if err := s.st.CreateRequest(ctx, r, ev, []store.TxFn{s.st.PutOTPFn(otp)}, s.entry(a, "request.receive", &r, "")); err != nil {
		return Accepted{}, err
	}
	s.queueCode(codeJob{kind: in.Identity.Kind, hash: hash, code: code, lang: in.Language, ttl: s.opt.CodeTTL,
		vars: map[string]string{"request": r.ID}, linked: linked})
	return Accepted{ID: r.ID, State: r.State, AccessToken: token, Message: acceptedMessage[in.Language]}, nil
}

func channelOf(kind string) string {
	if kind == "phone" {
		return "sms"
	}
	return "email"
}

// address opens the kept value of the subject's identity with this hash.
func (s *Service) address(ctx context.Context, subjectID, kind string, hash []byte) (string, bool) {
	sub, err := s.st.Subject(ctx, subjectID)
	if err != nil {
		return "", false
	}
	for _, idn := range sub.Identities {
		if idn.Kind == kind && hmac.Equal(idn.Hash, hash) && len(idn.Sealed) > 0 {
			raw, err := s.consent.OpenIdentity(ctx, subjectID, kind, idn.Sealed)
			if err != nil {
				return "", false
			}
			return string(raw), true
		}
	}
	return "", false
}

// contact finds an address to notify a subject at: a kept email, else a kept phone.
func (s *Service) contact(ctx context.Context, subjectID string) (channel, addr string, ok bool) {
	kind, value, ok := s.keptIdentity(ctx, subjectID)
	return channelOf(kind), value, ok
}

// keptIdentity is the subject's first email, else phone, whose value is
// kept (sealed): its kind and value.
func (s *Service) keptIdentity(ctx context.Context, subjectID string) (kind, value string, ok bool) {
	sub, err := s.st.Subject(ctx, subjectID)
	if err != nil {
		return "", "", false
	}
	for _, kind := range []string{"email", "phone"} {
		for _, idn := range sub.Identities {
			if idn.Kind == kind && len(idn.Sealed) > 0 {
				if raw, err := s.consent.OpenIdentity(ctx, subjectID, kind, idn.Sealed); err == nil {
					return kind, string(raw), true
				}
			}
		}
	}
	return "", "", false
}

// subjectLinks is, for a request an operator takes about a subject of
// this organisation, what linkedHashes is for a public one: the subject's
// kept identity hashed under each linked organisation's key, sealed, so
// that the request reaches the affiliates and controllers holding the
// same person. nil without links. Without an email or phone kept, the
// linked organisations cannot be asked: unreached names them, for the
// operator to reach by other means.
func (s *Service) subjectLinks(ctx context.Context, requestID, subjectID string) (sealed []byte, unreached []string, err error) {
	links := s.linked().links
	if len(links) == 0 {
		return nil, nil, nil
	}
	kind, value, ok := s.keptIdentity(ctx, subjectID)
	var norm string
	if ok {
		norm, err = identity.Normalize(kind, value)
	}
	if !ok || err != nil {
		for _, l := range links {
			unreached = append(unreached, l.ID)
		}
		return nil, unreached, nil
	}
	sealed, _, err = s.linkedHashes(ctx, requestID, kind, norm)
	return sealed, nil, err
}

// codeDelivery prepares the message carrying a one-time code to the
// identity of this kind and keyed hash, when it is on file with its value
// kept (ok false otherwise: no code can be sent, and nobody is told). The
// delivery names the subject; vars add to the template's code and
// minutes. Its cost depends on the answer: only the code queue calls it.
func (s *Service) codeDelivery(ctx context.Context, kind string, hash []byte, code, lang string, ttl time.Duration, vars map[string]string) (notify.Delivery, bool, error) {
	if ch := channelOf(kind); !s.Delivers(ch) {
		return notify.Delivery{}, false, undeliverable(ch)
	}
	subjectID, err := s.st.SubjectByIdentity(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return notify.Delivery{}, false, nil
	}
	if err != nil {
		return notify.Delivery{}, false, err
	}
	addr, ok := s.address(ctx, subjectID, kind, hash)
	if !ok {
		return notify.Delivery{}, false, nil
	}
	v := map[string]string{"code": code, "minutes": fmt.Sprint(int(ttl.Minutes()))}
	maps.Copy(v, vars)
	d, err := notify.NewDelivery(ctx, s.opt.Keys, channelOf(kind), addr, "otp", lang, v)
	if err != nil {
		return notify.Delivery{}, false, err
	}
	d.Subject = subjectID
	return d, true, nil
}

// NewCode is a random six-digit one-time code.
func NewCode() string { return newCode() }

func newCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	return fmt.Sprintf("%06d", n.Int64())
}

// SubmitOperator takes a request on a subject's behalf (by phone, letter,
// in person). The operator either records how they verified the identity,
// or has a code sent.
func (s *Service) SubmitOperator(ctx context.Context, a consent.Actor, in Input) (View, error) {
	m, err := s.policy()
	if err != nil {
		return View{}, err
	}
	if err := s.validateInput(m, &in); err != nil {
		return View{}, err
	}
	if err := consent.ValidateSubjectID(in.SubjectID); err != nil {
		return View{}, err
	}
	sub, err := s.st.Subject(ctx, in.SubjectID)
	if errors.Is(err, store.ErrNotFound) {
		return View{}, fault.New(fault.NotFound, "subject_not_found", "no such subject")
	} else if err != nil {
		return View{}, err
	}
	if err := s.checkRequester(ctx, sub, in); err != nil {
		return View{}, err
	}
	r, err := s.newRequest(ctx, m, in, "operator")
	if err != nil {
		return View{}, err
	}
	r.SubjectID = in.SubjectID
	now := s.now()
	var also []store.TxFn
	note := ""
	linked, unreached, err := s.subjectLinks(ctx, r.ID, in.SubjectID)
	if err != nil {
		return View{}, err
	}
	switch in.Verification {
	case "operator":
		if in.Evidence == "" {
			return View{}, fault.New(fault.Invalid, "evidence_required", "record how the identity was verified (evidence)").At("evidence")
		}
		r.State, note = StateVerified, NoteVerifiedByOperator
	case "otp":
		ch, addr, ok := s.contact(ctx, in.SubjectID)
		if !ok {
			return View{}, fault.New(fault.Invalid, "no_contact", "no email or phone is kept for this subject; verify by other means")
		}
		if !s.Delivers(ch) {
			return View{}, undeliverable(ch)
		}
		code := newCode()
		r.State, r.PausedSince, note = StateAwaitingVerification, now, NoteCodeSent
		also = append(also, s.st.PutOTPFn(store.OTP{RequestID: r.ID, IdentityHash: []byte("operator"), CodeHash: s.codeHash(r.ID, code), Linked: linked, ExpiresAt: now.Add(s.opt.CodeTTL), CreatedAt: now}))
		d, err := notify.NewDelivery(ctx, s.opt.Keys, ch, addr, "otp", in.Language, map[string]string{"code": code, "minutes": fmt.Sprint(int(s.opt.CodeTTL.Minutes())), "request": r.ID})
		if err != nil {
			return View{}, err
		}
		d.Subject, d.Request = in.SubjectID, r.ID
		also = append(also, s.st.OutboxFn(d))
	default:
		return View{}, fault.New(fault.Invalid, "invalid_verification", "verification is missing or unknown").At("verification").Allowing([]string{"operator", "otp"})
	}
	if r.State == StateVerified {
		if dup, err := s.dedupe(ctx, a, &r, m, false); err != nil || dup != nil {
			if err != nil {
				return View{}, err
			}
			return s.view(ctx, dup, true)
		}
		hs, err := s.holders(ctx, r.ID, linked)
		if err != nil {
			return View{}, err
		}
		routes, tasks := s.forward(ctx, a, &r, hs)
		s.setRoutes(&r, routes)
		also = append(also, tasks...)
		also = append(also, s.notifyFn(ctx, &r, "request_received", nil)...)
	}
	if len(unreached) > 0 {
		also = append(also, s.st.RequestEventFn(store.RequestEvent{RequestID: r.ID, At: now, Actor: a.ID, From: r.State, To: r.State,
			Note: NoteNotPassedOn + strings.Join(unreached, ", ")}))
	}
	ev := store.RequestEvent{RequestID: r.ID, At: now, Actor: a.ID, From: "", To: r.State, Note: note}
	if err := s.st.CreateRequest(ctx, r, ev, also, s.entry(a, "request.receive", &r, "")); err != nil {
		return View{}, err
	}
	return s.view(ctx, &r, true)
}

// checkRequester accepts a requester other than the subject only where the
// law gives them standing: the registered guardian of a minor, or (with
// evidence) a close relative of a deceased person. sub is the subject the
// request is about.
func (s *Service) checkRequester(ctx context.Context, sub store.Subject, in Input) error {
	if in.RequesterID == "" || in.RequesterID == in.SubjectID {
		return nil
	}
	if in.Type == "deceased" {
		// PIPL art. 49: relatives act "unless the deceased arranged otherwise".
		if sub.Arrangement == "refuse_relatives" {
			return fault.New(fault.Invalid, "deceased_arrangement", "the person arranged during their lifetime that close relatives may not exercise these rights").At("requester_id")
		}
		if err := consent.ValidateSubjectID(in.RequesterID); err != nil {
			if fe, ok := fault.As(err); ok {
				return fe.At("requester_id")
			}
			return err
		}
		return nil
	}
	mi, err := s.consent.Minor(ctx, in.SubjectID)
	if err != nil {
		return err
	}
	minor := mi.Minor && mi.AgeKnown
	if !minor || sub.GuardianID == "" || sub.GuardianID != in.RequesterID {
		return fault.New(fault.Invalid, "requester_not_entitled", "only the subject, the registered guardian of a minor, or a close relative of a deceased person may make this request").At("requester_id")
	}
	return nil
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// OpenErasure opens a deletion request the organisation owes without being
// asked: the subject's information was collected in breach of a promise
// (a minor's, without a guardian's consent). The request is verified by
// the system and waits in the operator's queue; an open one is not
// duplicated.
func (s *Service) OpenErasure(ctx context.Context, a consent.Actor, subjectID, lang, reason string) error {
	_, err := s.SubmitOperator(ctx, a, Input{Type: "deletion", SubjectID: subjectID, Language: lang, Verification: "operator", Evidence: reason})
	return err
}
