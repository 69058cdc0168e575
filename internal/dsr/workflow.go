package dsr

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/ratelimit"
	"github.com/custos-privacy/custos/internal/store"
)

var (
	errNotFound   = fault.New(fault.NotFound, "request_not_found", "no such request")
	errBadCode    = fault.New(fault.Invalid, "invalid_code", "the code is wrong or has expired; ask for a new request if it keeps failing")
	errTooManyTry = fault.New(fault.TooMany, "too_many_attempts", "too many wrong codes; the request was cancelled, submit a new one")
)

func (s *Service) load(ctx context.Context, id string) (*store.Request, error) {
	r, err := s.st.Request(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// move changes state, records the event, audits and notifies, in one transaction.
func (s *Service) move(ctx context.Context, a consent.Actor, r *store.Request, to, note, template string, data map[string]string, also ...store.TxFn) error {
	if !canMove(r.State, to) {
		return fault.New(fault.Conflict, "invalid_transition", "a request that is %s cannot become %s", r.State, to)
	}
	from := r.State
	s.clock(r, to)
	r.State, r.UpdatedAt = to, s.now()
	if template != "" && r.SubjectID != "" {
		also = append(also, s.notifyFn(ctx, r, template, data)...)
	}
	ev := store.RequestEvent{RequestID: r.ID, At: r.UpdatedAt, Actor: a.ID, From: from, To: to, Note: note}
	detail, _ := json.Marshal(map[string]string{"from": from, "to": to})
	err := s.st.UpdateRequest(ctx, r, ev, also, s.entry(a, "request."+to, r, string(detail)))
	if errors.Is(err, store.ErrStale) {
		return fault.New(fault.Conflict, "request_changed", "the request changed meanwhile; reload it")
	}
	return err
}

// clock applies the manifest's rule for time spent waiting on the subject:
// pause (the due date moves by the days waited), restart (the period starts
// again when the wait ends) or run (nothing changes).
func (s *Service) clock(r *store.Request, to string) {
	waiting := to == StateAwaitingVerification || to == StateAwaitingSubject || to == StateAwaitingFee
	switch {
	case waiting && r.PausedSince.IsZero():
		r.PausedSince = s.now()
	case !waiting && !r.PausedSince.IsZero():
		rule := s.clockRule(r)
		start, end := calendar.FromTime(r.PausedSince), calendar.FromTime(s.now())
		days := calendar.DaysUntil(start, end)
		r.PausedSince = time.Time{}
		switch rule {
		case "pause":
			if days > 0 {
				r.PausedDays += days
				s.recompute(r)
			}
		case "restart":
			r.ReceivedDate = end.String()
			r.PausedDays = 0
			s.recompute(r)
		}
	}
}

// clockRule is what the policy states waiting on the subject does to r's
// deadline (pause, restart, run). A policy that states no rule promises
// its period from receipt, and the clock runs.
func (s *Service) clockRule(r *store.Request) string {
	m, err := s.policy()
	if err != nil {
		return "run"
	}
	if d, ok := deadlineOf(m, s.Calendar(), r.Kind, r.Jurisdiction, viaOf(r), s.receivedDate(r)); ok && d.Clock != "" {
		return d.Clock
	}
	return "run"
}

func (s *Service) receivedDate(r *store.Request) calendar.Date {
	d, err := calendar.ParseDate(r.ReceivedDate)
	if err != nil {
		return calendar.FromTime(r.ReceivedAt)
	}
	return d
}

// recompute derives the due date from receipt, the rule, pauses and any
// extension, on the calendar in force.
func (s *Service) recompute(r *store.Request) error {
	m, err := s.policy()
	if err != nil {
		return err
	}
	cal := s.Calendar()
	received := s.receivedDate(r)
	d, ok := deadlineOf(m, cal, r.Kind, r.Jurisdiction, viaOf(r), received)
	if !ok {
		return nil
	}
	rule := calendar.Rule{Count: d.Count, Unit: d.Unit}
	due, err := dueBy(cal, received, d)
	if err != nil {
		return err
	}
	date := due.Date
	provisional := due.Provisional
	if r.PausedDays > 0 {
		if d.Unit == calendar.WorkingDays && d.Count > 0 {
			// Working days lost to a pause are recounted from a receipt
			// moved by the days paused, so the due date stays a working day.
			if due, err = cal.DueAfterPause(received, rule, r.PausedDays); err != nil {
				return err
			}
			date, provisional = due.Date, due.Provisional
		} else {
			date = cal.Shift(date, r.PausedDays)
		}
	}
	if r.Extended && d.Extension != nil {
		ext, err := cal.Extend(date, calendar.Rule{Count: d.Extension.Count, Unit: d.Extension.Unit})
		if err != nil {
			return err
		}
		date, provisional = ext.Date, provisional || ext.Provisional
	}
	r.DueDate, r.DueProvisional, r.CalendarVersion, r.Deadline = date.String(), provisional, cal.Version(), describe(d)
	return nil
}

// notifyFn queues a message to the subject about their request.
func (s *Service) notifyFn(ctx context.Context, r *store.Request, template string, data map[string]string) []store.TxFn {
	// A guardian or relative who asked hears about the request, not the
	// minor or the deceased person it concerns.
	to := r.SubjectID
	var f Flags
	json.Unmarshal([]byte(r.Flags), &f)
	if f.Requester != "" && f.Requester != r.SubjectID {
		to = f.Requester
	}
	ch, addr, ok := s.contact(ctx, to)
	if !ok {
		return nil
	}
	all := map[string]string{"request": r.ID, "type": r.Kind, "state": r.State, "due_date": r.DueDate}
	if r.DueProvisional {
		// A provisional date is never announced as firm.
		if due, err := calendar.ParseDate(r.DueDate); err == nil {
			all["due_note"] = DueNote(r.Language, unpublishedYears(s.Calendar(), s.receivedDate(r), due))
		}
	}
	for k, v := range data {
		all[k] = v
	}
	d, err := notify.NewDelivery(ctx, s.opt.Keys, ch, addr, template, r.Language, all)
	if err != nil {
		s.log.Error("cannot queue notification", "request", r.ID, "template", template, "err", err)
		return nil
	}
	d.Subject, d.Request = to, r.ID
	return []store.TxFn{s.st.OutboxFn(d)}
}

// Verify checks a one-time code, for the holder of the request's access
// token (see Authorize). Without the token the request answers as unknown
// and no attempt is counted: knowing a request's id must not be enough to
// use up its attempts and so cancel it. Each attempt is counted durably
// before the comparison, which takes constant time; after the last
// allowed attempt the request is cancelled.
func (s *Service) Verify(ctx context.Context, a consent.Actor, id, token, code string) (View, error) {
	if err := s.Authorize(ctx, id, token); err != nil {
		return View{}, err
	}
	r, err := s.load(ctx, id)
	if err != nil {
		return View{}, err
	}
	if r.State != StateAwaitingVerification {
		return View{}, fault.New(fault.Conflict, "not_awaiting_verification", "this request is not waiting for a code")
	}
	if !s.limits.Allow("verify:"+ratelimit.Client(a.Place), 10*s.opt.MaxAttempts, s.now()) {
		return View{}, errRateLimited
	}
	attempts, err := s.st.CountOTPAttempt(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return View{}, errBadCode
	}
	if err != nil {
		return View{}, err
	}
	otp, err := s.st.OTP(ctx, id)
	if err != nil {
		return View{}, err
	}
	// A code row names the identity claimed, on file or not ("operator"
	// for an operator's code). One naming none dates from before unknown
	// identities were recorded, and means no code was sent.
	good := hmac.Equal(otp.CodeHash, s.codeHash(id, code)) && len(otp.IdentityHash) > 0
	if attempts > s.opt.MaxAttempts {
		if r.State == StateAwaitingVerification {
			s.move(ctx, a, r, StateCancelled, NoteTooManyCodes, "", nil, s.st.DeleteOTPFn(id))
		}
		return View{}, errTooManyTry
	}
	if !good || s.now().After(otp.ExpiresAt) {
		return View{}, errBadCode
	}
	hs, err := s.holders(ctx, id, otp.Linked)
	if err != nil {
		return View{}, err
	}
	if r.SubjectID == "" {
		sid, err := s.st.SubjectByIdentity(ctx, otp.IdentityHash)
		switch {
		case err == nil:
			r.SubjectID = sid
		case len(hs) == 0:
			// An identity nobody holds was sent no code: a code guessed
			// right for it is as wrong as any other.
			return View{}, errBadCode
		}
	}
	if r.SubjectID == "" {
		// Only linked organisations hold the person's data: the request
		// is theirs.
		routes, tasks := s.forward(ctx, a, r, hs)
		s.setRoutes(r, routes)
		r.Explanation = forwardedExplanation(r.Language, routes)
		if err := s.move(ctx, a, r, StateForwarded, NoteForwarded, "", nil, append(tasks, s.st.DeleteOTPFn(id))...); err != nil {
			return View{}, err
		}
		return s.view(ctx, r, false)
	}
	m, err := s.policy()
	if err != nil {
		return View{}, err
	}
	if dup, err := s.dedupe(ctx, a, r, m, true); err != nil || dup != nil {
		if err != nil {
			return View{}, err
		}
		return s.view(ctx, dup, false)
	}
	routes, tasks := s.forward(ctx, a, r, hs)
	s.setRoutes(r, routes)
	if err := s.move(ctx, a, r, StateVerified, NoteVerifiedByCode, "request_verified", nil, append(tasks, s.st.DeleteOTPFn(id))...); err != nil {
		return View{}, err
	}
	return s.view(ctx, r, false)
}

// viaOf is the channel a request came through, "" when it did not say.
func viaOf(r *store.Request) string {
	var f Flags
	json.Unmarshal([]byte(r.Flags), &f)
	return f.Via
}

// setRoutes records on the request where it was passed.
func (s *Service) setRoutes(r *store.Request, routes []Route) {
	if len(routes) == 0 {
		return
	}
	var f Flags
	json.Unmarshal([]byte(r.Flags), &f)
	f.Routes = routes
	b, _ := json.Marshal(f)
	r.Flags = string(b)
}

// OperatorVerify records an operator's verification of identity.
func (s *Service) OperatorVerify(ctx context.Context, a consent.Actor, id, evidence string) (View, error) {
	if evidence == "" {
		return View{}, fault.New(fault.Invalid, "evidence_required", "record how the identity was verified").At("evidence")
	}
	r, err := s.load(ctx, id)
	if err != nil {
		return View{}, err
	}
	if r.SubjectID == "" {
		return View{}, fault.New(fault.Invalid, "no_subject", "the request is not matched to a subject; it can only be verified by code")
	}
	if r.State != StateAwaitingVerification && r.State != StateReceived {
		return View{}, fault.New(fault.Conflict, "invalid_transition", "a request that is %s cannot be verified", r.State)
	}
	var f Flags
	json.Unmarshal([]byte(r.Flags), &f)
	f.Evidence = evidence
	b, _ := json.Marshal(f)
	r.Flags = string(b)
	m, err := s.policy()
	if err != nil {
		return View{}, err
	}
	if dup, err := s.dedupe(ctx, a, r, m, true); err != nil || dup != nil {
		if err != nil {
			return View{}, err
		}
		return s.view(ctx, dup, true)
	}
	if err := s.move(ctx, a, r, StateVerified, NoteVerifiedByOperator, "request_verified", nil, s.st.DeleteOTPFn(id)); err != nil {
		return View{}, err
	}
	return s.view(ctx, r, true)
}

// dedupe merges a request into an open one of the same kind and
// jurisdiction for the same subject, and flags repeated requests under the
// manifest's fee policy, counting those of the same jurisdiction. It returns the open request when r was merged
// into it. A request under another jurisdiction is not a duplicate: it
// is owed under another law, by its own deadline, with its own grounds.
func (s *Service) dedupe(ctx context.Context, a consent.Actor, r *store.Request, m *manifest.Manifest, stored bool) (*store.Request, error) {
	open, err := s.st.Requests(ctx, store.RequestFilter{SubjectID: r.SubjectID, Kind: r.Kind, States: []string{StateVerified, StateInProgress, StateAwaitingSubject, StateExtended}})
	if err != nil {
		return nil, err
	}
	for i := range open {
		if open[i].ID == r.ID || open[i].Jurisdiction != r.Jurisdiction {
			continue
		}
		r.DuplicateOf = open[i].ID
		note := NoteMerged + open[i].ID
		if stored {
			if err := s.move(ctx, a, r, StateCancelled, note, "", nil, s.st.DeleteOTPFn(r.ID)); err != nil {
				return nil, err
			}
		} else {
			r.State = StateCancelled
			ev := store.RequestEvent{RequestID: r.ID, At: s.now(), Actor: a.ID, To: StateCancelled, Note: note}
			if err := s.st.CreateRequest(ctx, *r, ev, nil, s.entry(a, "request.merge", r, "")); err != nil {
				return nil, err
			}
		}
		return &open[i], nil
	}
	if fees := m.Rights.Fees; fees != nil && fees.RepeatedCount > 0 && fees.RepeatedWindow != nil {
		since := s.now()
		switch fees.RepeatedWindow.Unit {
		case "days":
			since = since.AddDate(0, 0, -fees.RepeatedWindow.Count)
		case "months":
			since = since.AddDate(0, -fees.RepeatedWindow.Count, 0)
		case "years":
			since = since.AddDate(-fees.RepeatedWindow.Count, 0, 0)
		}
		prior, err := s.st.Requests(ctx, store.RequestFilter{SubjectID: r.SubjectID, Kind: r.Kind, Since: since, Limit: 1000})
		if err != nil {
			return nil, err
		}
		// Each law counts the requests made under it.
		n := 0
		for _, p := range prior {
			if p.ID != r.ID && p.DuplicateOf == "" && p.Jurisdiction == r.Jurisdiction {
				n++
			}
		}
		if n >= fees.RepeatedCount {
			var f Flags
			json.Unmarshal([]byte(r.Flags), &f)
			f.Repeated, f.FeePolicy = true, fees.Policy
			b, _ := json.Marshal(f)
			r.Flags = string(b)
		}
	}
	return nil, nil
}

// Approve starts work on a verified request.
func (s *Service) Approve(ctx context.Context, a consent.Actor, id string) (View, error) {
	return s.simple(ctx, a, id, StateInProgress, NoteWorkStarted, "request_in_progress")
}

// AwaitSubject asks the subject for something; the clock follows the manifest's rule.
func (s *Service) AwaitSubject(ctx context.Context, a consent.Actor, id, reason string) (View, error) {
	if reason == "" {
		return View{}, fault.New(fault.Invalid, "reason_required", "say what the subject must provide").At("reason")
	}
	return s.simple(ctx, a, id, StateAwaitingSubject, reason, "request_awaiting_subject")
}

// Resume continues after the subject answered.
func (s *Service) Resume(ctx context.Context, a consent.Actor, id string) (View, error) {
	return s.simple(ctx, a, id, StateInProgress, NoteSubjectAnswered, "request_in_progress")
}

func (s *Service) simple(ctx context.Context, a consent.Actor, id, to, note, template string) (View, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return View{}, err
	}
	if err := s.move(ctx, a, r, to, note, template, map[string]string{"reason": note}); err != nil {
		return View{}, err
	}
	return s.view(ctx, r, true)
}

// Extend extends the deadline once, as far as the manifest allows, with a
// reason the subject is told; where the manifest requires notice within
// the first period, it must happen before the original due date.
func (s *Service) Extend(ctx context.Context, a consent.Actor, id, reason string) (View, error) {
	if reason == "" {
		return View{}, fault.New(fault.Invalid, "reason_required", "an extension needs a reason the subject is told").At("reason")
	}
	r, err := s.load(ctx, id)
	if err != nil {
		return View{}, err
	}
	m, err := s.policy()
	if err != nil {
		return View{}, err
	}
	d, ok := deadlineOf(m, s.Calendar(), r.Kind, r.Jurisdiction, viaOf(r), s.receivedDate(r))
	if !ok || d.Extension == nil {
		return View{}, fault.New(fault.Invalid, "extension_not_allowed", "the policy allows no extension for this request")
	}
	if r.Extended {
		return View{}, fault.New(fault.Conflict, "already_extended", "the deadline was already extended")
	}
	due, _ := calendar.ParseDate(r.DueDate)
	if d.Extension.NoticeWithinFirstPeriod && due.Before(calendar.FromTime(s.now())) {
		return View{}, fault.New(fault.Invalid, "extension_too_late", "the extension had to be announced before %s", r.DueDate)
	}
	r.Extended = true
	if err := s.recompute(r); err != nil {
		return View{}, err
	}
	if err := s.move(ctx, a, r, StateExtended, reason, "request_extended", map[string]string{"reason": reason}); err != nil {
		return View{}, err
	}
	return s.view(ctx, r, true)
}

// Refuse refuses a request on a ground the policy states or the law of
// the request's jurisdiction gives (manifest.RefusalGroundsFor), with an
// explanation; the subject is told both, the ground in its words.
func (s *Service) Refuse(ctx context.Context, a consent.Actor, id, ground, explanation string) (View, error) {
	m, err := s.policy()
	if err != nil {
		return View{}, err
	}
	r, err := s.load(ctx, id)
	if err != nil {
		return View{}, err
	}
	words, ok := m.RefusalGround(r.Kind, r.Jurisdiction, ground)
	if !ok {
		return View{}, fault.New(fault.Invalid, "invalid_ground", "the ground is neither one the policy states nor one the law of the request's jurisdiction gives").At("ground").Allowing(groundIDs(m, r.Kind, r.Jurisdiction))
	}
	if explanation == "" {
		return View{}, fault.New(fault.Invalid, "explanation_required", "a refusal is explained to the subject").At("explanation")
	}
	r.RefusalGround, r.Explanation = ground, explanation
	data := map[string]string{"reason": explanation, "ground": ground, "ground_text": strings.TrimRight(words.In(r.Language), "。.")}
	if err := s.move(ctx, a, r, StateRefused, ground, "request_refused", data); err != nil {
		return View{}, err
	}
	return s.view(ctx, r, true)
}

// Withdraw is the subject taking the request back (also undoing an account
// cancellation inside its cooling-off period).
func (s *Service) Withdraw(ctx context.Context, a consent.Actor, id string) (View, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return View{}, err
	}
	if !r.EffectiveAt.IsZero() && !s.now().Before(r.EffectiveAt) {
		return View{}, fault.New(fault.Conflict, "cancellation_effective", "the account cancellation already took effect")
	}
	if err := s.move(ctx, a, r, StateWithdrawn, NoteWithdrawn, "request_cancelled", map[string]string{"reason": told(r.Language, "您撤回了请求。", "You withdrew it.")}); err != nil {
		return View{}, err
	}
	return s.view(ctx, r, false)
}

// Get returns a request for operators, with its history.
func (s *Service) Get(ctx context.Context, id string) (View, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, r, true)
}

// Authorize checks a requester's access token for a public request. A
// wrong token and an unknown request give the same error.
func (s *Service) Authorize(ctx context.Context, id, token string) error {
	r, err := s.load(ctx, id)
	if err != nil {
		return errNotFound
	}
	if len(r.AccessHash) == 0 || token == "" || !hmac.Equal(r.AccessHash, tokenHash(token)) {
		return errNotFound
	}
	return nil
}

// Status returns what the requester may see: no subject id, no evidence.
func (s *Service) Status(ctx context.Context, id string) (View, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return View{}, err
	}
	v, err := s.view(ctx, r, true)
	// Where the request went, and where it came from, are the requester's
	// to know, as is a fee asked of them; the processor's own tasks are not.
	routes := v.Flags.Routes
	for i := range routes {
		routes[i].Assistance = ""
	}
	v.SubjectID, v.Flags = "", Flags{Routes: routes, From: v.Flags.From, Fee: v.Flags.Fee}
	for i := range v.History {
		v.History[i].Actor = ""
	}
	return v, err
}

// List lists requests: open ones by default, soonest due first.
func (s *Service) List(ctx context.Context, f Filter) ([]View, error) {
	vs, _, err := s.list(ctx, f)
	return vs, err
}

// list returns the views of the requests f selects and the rows they
// come from.
func (s *Service) list(ctx context.Context, f Filter) ([]View, []store.Request, error) {
	if len(f.States) == 0 {
		f.States = OpenStates
	}
	sf, err := f.storeFilter()
	if err != nil {
		return nil, nil, err
	}
	rs, err := s.st.Requests(ctx, sf)
	if err != nil {
		return nil, nil, err
	}
	out := make([]View, len(rs))
	for i := range rs {
		out[i], _ = s.view(ctx, &rs[i], false)
	}
	return out, rs, nil
}

func (s *Service) view(ctx context.Context, r *store.Request, history bool) (View, error) {
	v := View{ID: r.ID, Type: r.Kind, Jurisdiction: r.Jurisdiction, State: r.State, SubjectID: r.SubjectID, Channel: r.Channel,
		ReceivedAt: r.ReceivedAt, DueDate: r.DueDate, DueProvisional: r.DueProvisional, Deadline: r.Deadline, CalendarVersion: r.CalendarVersion,
		Extended: r.Extended, ClockPaused: !r.PausedSince.IsZero() && s.clockRule(r) != "run", DuplicateOf: r.DuplicateOf, RefusalGround: r.RefusalGround, Explanation: r.Explanation}
	json.Unmarshal([]byte(r.Flags), &v.Flags)
	if due, err := calendar.ParseDate(r.DueDate); err == nil {
		v.DaysLeft = calendar.DaysUntil(calendar.FromTime(s.now()), due)
	} else {
		v.DaysLeft = math.MinInt32
	}
	if !r.EffectiveAt.IsZero() {
		t := r.EffectiveAt
		v.EffectiveAt = &t
	}
	if history {
		tasks, err := s.st.RecipientTasks(ctx, r.ID)
		if err != nil {
			return View{}, err
		}
		m, _ := s.policy()
		for _, t := range tasks {
			rs := RecipientState{Recipient: t.Recipient, Name: NoticeRecipientName(m, t.Recipient, r.Language), Action: t.Action, Method: t.Method,
				Categories: t.Categories, State: t.State, Progress: progress(t.State)}
			if a := acknowledgement(t); a.AcknowledgedAt != nil {
				rs.AcknowledgedAt, rs.AcknowledgedBy = a.AcknowledgedAt, "staff"
				if a.ByRecipient {
					rs.AcknowledgedBy = "recipient"
				}
			}
			v.Recipients = append(v.Recipients, rs)
		}
		if v.Transmissions, err = s.transmissions(ctx, r.ID); err != nil {
			return View{}, err
		}
		v.Propagation = propagation(v.Recipients)
		evs, err := s.st.RequestEvents(ctx, r.ID)
		if err != nil {
			return View{}, err
		}
		for _, e := range evs {
			v.History = append(v.History, HistoryItem{At: e.At, From: e.From, To: e.To, Actor: e.Actor, Note: e.Note})
		}
		certs, err := s.st.Certificates(ctx, store.CertificateFilter{Request: r.ID})
		if err != nil {
			return View{}, err
		}
		for i := len(certs) - 1; i >= 0; i-- {
			v.Certificates = append(v.Certificates, certs[i].ID)
		}
	}
	return v, nil
}
