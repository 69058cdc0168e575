package dsr

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/ids"
	"github.com/custos-privacy/custos/internal/keystore"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// CompleteInput closes a request.
type CompleteInput struct {
	// Explanation is sent to the subject (required for explanations,
	// complaints and other requests answered in words).
	Explanation string `json:"explanation,omitempty"`
	// LegalHold names a manifest legal hold that prevents deletion: the
	// subject's data is then restricted to storage instead, and the
	// subject told why.
	LegalHold string `json:"legal_hold,omitempty"`
	// holds are the legal holds on record that cover the subject's data
	// (package hold), found when an erasure is carried out: like
	// LegalHold, they turn it into a restriction.
	holds []hold.Hold
}

// Held reports whether a legal hold, named by the operator or on record,
// stops the request's erasure: executors then erase nothing.
func (in CompleteInput) Held() bool { return in.LegalHold != "" || len(in.holds) > 0 }

// withHolds adds to in the legal holds on record that stop an erasure of
// the request's subject now.
func (s *Service) withHolds(ctx context.Context, r *store.Request, in CompleteInput) (CompleteInput, error) {
	if r.Kind != "deletion" && r.Kind != "cancel_account" || r.SubjectID == "" {
		return in, nil
	}
	now := s.now()
	hs, err := s.st.LegalHolds(ctx, store.HoldFilter{ActiveAt: now, Subject: r.SubjectID})
	if err != nil {
		return in, err
	}
	all := make([]hold.Hold, len(hs))
	for i, h := range hs {
		all[i] = hold.FromStore(h)
	}
	in.holds = hold.Erasure(all, r.SubjectID, now)
	return in, nil
}

// Executor carries out a request on one system. Custos's own data is the
// first; external databases plug in the same way.
type Executor interface {
	Name() string
	Execute(ctx context.Context, a consent.Actor, r *store.Request, d Details, in CompleteInput) (Outcome, error)
}

// Outcome is what an executor did.
type Outcome struct {
	// Summary says what was done, in English, for operators: the
	// request's history and the audit trail. It may name systems,
	// datastores and ids.
	Summary string
	// Message tells the subject what was done, wholly in the request's
	// language and in the names the policy uses; "" when the operator's
	// explanation says it all. Only Custos's own executor writes one:
	// what other systems did is the operators' business.
	Message string
	Also    []store.TxFn
	// Data is what an executor found for an access request, by system
	// and collection; it goes into the export bundle.
	Data map[string]any
	// Certificate, when an executor erased, is what it changed, to be
	// signed and kept (see erasureCertificate).
	Certificate *certificate.Certificate
	// Corrected is what an executor corrected in the organisation's
	// databases; the audit trail keeps its counts and field names.
	Corrected []execute.Correction
	// Identities are the identities (kind email or phone) a correction
	// rewrote in the organisation's databases, by kind, to their new value
	// in normal form: Complete puts each in place of the subject's
	// identity of that kind in Custos, so that the next request by the new
	// value finds the person.
	Identities map[string]string
	// Restricted is what an executor flagged restricted; Manual the
	// datastores where rows were found that no flag covers.
	Restricted []execute.Restriction
	Manual     []ManualRestriction
	download   string // where an export bundle can be fetched
	data       []byte // the export bundle's data.json
	erased     bool   // the subject's data was erased: scrub the database after
}

// Complete carries out a request with every executor and closes it.
func (s *Service) Complete(ctx context.Context, a consent.Actor, id string, in CompleteInput) (View, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return View{}, err
	}
	if r.State != StateInProgress && r.State != StateExtended {
		return View{}, fault.New(fault.Conflict, "invalid_transition", "only a request in progress can be completed (this one is %s)", r.State)
	}
	var d Details
	if len(r.Details) > 0 {
		raw, err := s.opt.Keys.Open(ctx, keystore.Request(r.ID), r.Details, keystore.RequestAD(r.ID))
		if err != nil {
			return View{}, err
		}
		json.Unmarshal(raw, &d)
	}
	if r.Kind == "cancel_account" {
		if !r.EffectiveAt.IsZero() && s.now().Before(r.EffectiveAt) {
			return View{}, fault.New(fault.Conflict, "cancellation_scheduled", "the cancellation takes effect on %s; it is carried out then", r.EffectiveAt.In(calendarZone).Format(time.DateOnly))
		}
		if r.EffectiveAt.IsZero() {
			at, ok, err := s.cancellationEffective(ctx, r)
			if err != nil {
				return View{}, err
			}
			if ok {
				// A cancellation whose period ran out before the operator
				// acted is carried out now, and dated when it took effect.
				r.EffectiveAt = at
				if s.now().Before(at) {
					return s.schedule(ctx, a, r)
				}
			}
		}
	}
	// Other systems run first: erasing Custos's own data removes the
	// identity values they are searched by.
	var external Outcome
	if in, err = s.withHolds(ctx, r, in); err != nil {
		return View{}, err
	}
	if external, err = s.runExecutors(ctx, a, r, d, in); err != nil {
		return View{}, err
	}
	if err := s.replaceIdentities(ctx, a, r, &external); err != nil {
		return View{}, err
	}
	out, err := (ownData{s: s, found: external.Data}).Execute(ctx, a, r, d, in)
	if err != nil {
		return View{}, err
	}
	if external.Summary != "" {
		out.Summary += external.Summary
	}
	out.Also = append(out.Also, external.Also...)
	tasks, pending, err := s.recipientTasks(ctx, r, d, in)
	if err != nil {
		return View{}, err
	}
	out.Also = append(out.Also, tasks...)
	out.Message = joinTold(r.Language, out.Message, pending)
	r.Explanation = strings.TrimSpace(in.Explanation + "\n" + out.Message)
	data := map[string]string{"reason": r.Explanation}
	if out.download != "" {
		data["download"] = out.download
	}
	if err := s.move(ctx, a, r, StateCompleted, out.Summary, "request_completed", data, out.Also...); err != nil {
		return View{}, err
	}
	if out.erased {
		s.scrub(ctx)
	}
	v, err := s.view(ctx, r, true)
	v.Download = out.download
	return v, err
}

// schedule records when an account cancellation takes effect
// (r.EffectiveAt) and tells the subject, who can withdraw it until then;
// RunDue carries it out.
func (s *Service) schedule(ctx context.Context, a consent.Actor, r *store.Request) (View, error) {
	day := r.EffectiveAt.In(calendarZone).Format(time.DateOnly)
	r.Explanation = told(r.Language, "您的账号将于 %s 注销；在此之前，您可以随时撤回申请。", "Your account will be cancelled on %s; until then you can withdraw the request.", day)
	note := fmt.Sprintf("account cancellation takes effect on %s; it can be withdrawn until then", day)
	ev := store.RequestEvent{RequestID: r.ID, At: s.now(), Actor: a.ID, From: r.State, To: r.State, Note: note}
	also := s.notifyFn(ctx, r, "cancellation_scheduled", map[string]string{"effective": day})
	if err := s.st.UpdateRequest(ctx, r, ev, also, s.entry(a, "request.scheduled", r, "")); err != nil {
		return View{}, err
	}
	return s.view(ctx, r, true)
}

// cancellationEffective is when an account cancellation takes effect
// (ok false when the policy sets no cooling-off period): the period runs
// from the application, as the policies word it ("申请注销后7天生效"), not
// from the day an operator carries it out. The application counts from its
// verification, or from its receipt when it needed none (an operator who
// verified the identity at intake).
func (s *Service) cancellationEffective(ctx context.Context, r *store.Request) (time.Time, bool, error) {
	m, err := s.policy()
	if err != nil {
		return time.Time{}, false, err
	}
	c := m.Rights.Cancellation
	if c == nil || c.CoolingOffDays <= 0 {
		return time.Time{}, false, nil
	}
	applied := r.ReceivedAt
	evs, err := s.st.RequestEvents(ctx, r.ID)
	if err != nil {
		return time.Time{}, false, err
	}
	for _, ev := range evs {
		if ev.To == StateVerified {
			applied = ev.At
			break
		}
	}
	return applied.AddDate(0, 0, c.CoolingOffDays), true, nil
}

// RunDue completes account cancellations whose cooling-off period has
// passed. The scheduler and `custos requests run-due` both call it.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	rs, err := s.st.Requests(ctx, store.RequestFilter{States: []string{StateInProgress, StateExtended}, Kind: "cancel_account", Limit: 10000})
	if err != nil {
		return 0, err
	}
	n := 0
	sys := audit.System("scheduler")
	for i := range rs {
		r := &rs[i]
		if r.EffectiveAt.IsZero() || s.now().Before(r.EffectiveAt) {
			continue
		}
		in, err := s.withHolds(ctx, r, CompleteInput{})
		if err != nil {
			return n, err
		}
		external, err := s.runExecutors(ctx, sys, r, Details{}, in)
		if err != nil {
			return n, err
		}
		done, err := (ownData{s: s}).erase(ctx, sys, r, in)
		if err != nil {
			return n, err
		}
		tasks, pending, err := s.recipientTasks(ctx, r, Details{}, in)
		if err != nil {
			return n, err
		}
		also := append(done.Also, external.Also...)
		also = append(also, tasks...)
		r.Explanation = joinTold(r.Language, done.Message, pending)
		if err := s.move(ctx, sys, r, StateCompleted, done.Summary+external.Summary, "request_completed", map[string]string{"reason": r.Explanation}, also...); err != nil {
			return n, err
		}
		if done.erased {
			s.scrub(ctx)
		}
		n++
	}
	return n, nil
}

// calendarZone is China time, in which dates shown to subjects are given.
var calendarZone = calendar.China

// ownData executes requests on the data Custos itself holds.
type ownData struct {
	s     *Service
	found map[string]any // other systems' findings, for the export bundle
}

func (ownData) Name() string { return "custos" }

func (o ownData) Execute(ctx context.Context, a consent.Actor, r *store.Request, d Details, in CompleteInput) (Outcome, error) {
	s := o.s
	m, err := s.policy()
	if err != nil {
		return Outcome{}, err
	}
	switch r.Kind {
	case "withdraw_consent", "objection":
		if len(d.Purposes) == 0 {
			if r.Kind == "objection" {
				return Outcome{}, fault.New(fault.Invalid, "purposes_required", "an objection names the purposes objected to")
			}
			evs, err := s.consent.WithdrawAll(ctx, a, r.SubjectID, r.Language, requestEvidence(r))
			if err != nil {
				return Outcome{}, err
			}
			return Outcome{Summary: fmt.Sprintf("withdrew every consent (%d)", len(evs)),
				Message: told(r.Language, "我们已撤回您给予的全部同意（%d 项）。", "We have withdrawn every consent you had given (%d).", len(evs))}, nil
		}
		// Each purpose stops as its basis allows for this person: a consent
		// is withdrawn, legitimate interests and public task are objected
		// to, and decisions answer accordingly from now on.
		ref, err := s.consent.Refuse(ctx, a, r.SubjectID, d.Purposes, r.Language, requestEvidence(r))
		if err != nil {
			return Outcome{}, err
		}
		var parts, says []string
		if len(ref.Withdrawn) > 0 {
			parts = append(parts, "withdrew consent for "+strings.Join(ref.Withdrawn, ", "))
			says = append(says, told(r.Language, "我们已撤回您对以下处理的同意：%s。", "We have withdrawn your consent to %s.", purposeNames(m, ref.Withdrawn, r.Language)))
		}
		if len(ref.Objected) > 0 {
			parts = append(parts, "objection recorded for "+strings.Join(ref.Objected, ", "))
			says = append(says, told(r.Language, "我们已记录您对以下处理的反对：%s。", "We have recorded your objection to %s.", purposeNames(m, ref.Objected, r.Language)))
		}
		if len(ref.Neither) > 0 {
			parts = append(parts, "no right to object to "+strings.Join(ref.Neither, ", ")+" (their basis is neither consent nor legitimate interests)")
			says = append(says, told(r.Language, "以下处理既不基于您的同意，也不基于我们的合法利益，因此不能以反对的方式停止：%s。",
				"We cannot stop the following by an objection, since it rests neither on your consent nor on our legitimate interests: %s.", purposeNames(m, ref.Neither, r.Language)))
		}
		out := Outcome{Summary: strings.Join(parts, "; "), Message: strings.Join(says, told(r.Language, "", " "))}
		if in.Explanation != "" {
			out.Summary += ": " + in.Explanation
		}
		return out, nil
	case "restriction":
		if _, err := s.consent.SetRestricted(ctx, a, r.SubjectID, true, "request "+r.ID); err != nil {
			return Outcome{}, err
		}
		return Outcome{Summary: "processing restricted to storage",
			Message: told(r.Language, "除存储外，我们已停止处理您的个人信息。", "We have stopped all processing of your personal information other than storing it.")}, nil
	case "deletion":
		return o.erase(ctx, a, r, in)
	case "cancel_account":
		// Complete has scheduled a cancellation still in its cooling-off
		// period; what reaches here takes effect now.
		return o.erase(ctx, a, r, in)
	case "correction":
		if len(d.Correction) == 0 {
			return Outcome{}, fault.New(fault.Invalid, "correction_required", "a correction request gives the corrected values")
		}
		patch := consent.SubjectPatch{}
		var fields, sealed []string
		for k, v := range d.Correction {
			v := v
			switch k {
			case "birth_date":
				patch.BirthDate = &v
			case "age_band":
				patch.AgeBand = &v
			default:
				if _, ok := m.VaultField(k); ok && s.opt.Vault != nil {
					sealed = append(sealed, k)
					continue
				}
				if s.correctedElsewhere(k, v) {
					continue // the organisation's databases, by an executor
				}
				fields = append(fields, k)
				continue
			}
		}
		if patch.BirthDate != nil || patch.AgeBand != nil {
			if _, err := s.consent.UpdateSubject(ctx, a, r.SubjectID, patch); err != nil {
				return Outcome{}, err
			}
		}
		// A vault field is corrected as any write to it is: normalised,
		// sealed under the person's key and audited. A value that is not
		// of the field's kind fails the completion without being quoted,
		// and the operator asks the person again.
		slices.Sort(sealed)
		for _, k := range sealed {
			if _, err := s.opt.Vault.Put(ctx, a, r.SubjectID, k, d.Correction[k]); err != nil {
				return Outcome{}, err
			}
		}
		out := Outcome{Summary: "corrected", Message: told(r.Language, "我们已按您的要求更正您的个人信息。", "We have corrected your personal information as you asked.")}
		if len(sealed) > 0 {
			out.Summary += "; vault fields corrected: " + strings.Join(sealed, ", ")
		}
		if len(fields) > 0 {
			slices.Sort(fields)
			out.Summary += "; fields held outside Custos passed to the operator: " + strings.Join(fields, ", ")
			out.Message = told(r.Language, "我们已更正我们在此持有的个人信息，其余更正已交由工作人员处理。",
				"We have corrected the personal information we hold here; our staff are making the other corrections.")
		}
		return out, nil
	case "explain_automated_decision", "explain_rules", "complaint", "deceased", "access", "copy", "portability":
		if in.Explanation == "" && r.Kind != "access" && r.Kind != "copy" && r.Kind != "portability" {
			return Outcome{}, fault.New(fault.Invalid, "explanation_required", "this request is answered in words: give the explanation")
		}
		if r.Kind == "access" || r.Kind == "copy" || r.Kind == "portability" {
			out, err := o.export(ctx, a, r)
			if err == nil && r.Kind == "portability" && d.TransmitTo != nil && (d.TransmitTo.Name != "" || d.TransmitTo.Endpoint != "") {
				err = o.s.transmitTo(ctx, r, *d.TransmitTo, &out)
			}
			return out, err
		}
		switch r.Kind {
		case "explain_automated_decision":
			answer, explained := automatedAnswer(m, r.Language, d.Purposes)
			if len(explained) > 0 {
				return Outcome{Summary: "answered; automated decisions explained as the policy declares them: " + strings.Join(explained, ", "), Message: answer}, nil
			}
		case "complaint":
			return Outcome{Summary: "answered", Message: escalation(m, r.Language)}, nil
		}
		return Outcome{Summary: "answered"}, nil
	}
	return Outcome{}, fault.New(fault.Invalid, "unsupported", "requests of type %q are not executable yet", r.Kind)
}

// requestEvidence is the ledger evidence of a change a request made.
func requestEvidence(r *store.Request) json.RawMessage {
	return json.RawMessage(`{"request":"` + r.ID + `"}`)
}

// erase removes what Custos holds about the subject: identities, age,
// guardian link and request particulars, and destroys the keys they and the
// subject's messages and bundles were sealed under, so that backups hold
// nothing readable either; consents are withdrawn first. The
// ledger and the trail keep only the opaque subject id, as proof that the
// request was honoured. A legal hold blocks erasure: processing is then
// restricted to storage and the subject told why, in the hold's words.
func (o ownData) erase(ctx context.Context, a consent.Actor, r *store.Request, in CompleteInput) (Outcome, error) {
	s := o.s
	m, err := s.policy()
	if err != nil {
		return Outcome{}, err
	}
	if in.Held() {
		return o.restrict(ctx, a, r, m, in)
	}
	if _, err := s.consent.WithdrawAll(ctx, a, r.SubjectID, r.Language, requestEvidence(r)); err != nil {
		return Outcome{}, err
	}
	return Outcome{Also: []store.TxFn{s.st.EraseSubjectFn(r.SubjectID, s.opt.Keys.Destroy)}, erased: true,
		Summary: "personal information erased; the consent ledger keeps the opaque id as proof",
		Message: told(r.Language, "我们已删除您的个人信息。同意记录中只保留一个无法识别您身份的编号，用于证明我们已按您的要求处理。",
			"We have erased your personal information. Our consent records keep only a number that cannot identify you, as proof that we did what you asked.")}, nil
}

// restrict answers an erasure that a legal hold stops: the subject's
// data is restricted to storage instead, and the subject told why. The
// hold the operator names, or failing that the first hold on record with
// a basis in the policy, gives the reason in the policy's words; a hold
// on record without one is told as a legal hold, no more. The authority's
// reference and the hold's reason are never told: they may identify a
// case, and the reason is written for operators.
func (o ownData) restrict(ctx context.Context, a consent.Actor, r *store.Request, m *manifest.Manifest, in CompleteInput) (Outcome, error) {
	s := o.s
	basis := in.LegalHold
	if basis != "" && !slices.ContainsFunc(m.LegalHolds, func(h manifest.Ref) bool { return h.ID == basis }) {
		return Outcome{}, fault.New(fault.Invalid, "invalid_legal_hold", "legal_hold is not one of the policy's legal holds").At("legal_hold").Allowing(legalHoldIDs(m))
	}
	var records []string
	for _, h := range in.holds {
		records = append(records, h.ID)
		if basis == "" && slices.ContainsFunc(m.LegalHolds, func(ref manifest.Ref) bool { return ref.ID == h.Basis }) {
			basis = h.Basis
		}
	}
	note, summary := "legal hold "+basis, "not deleted because of legal hold "+basis
	if basis == "" {
		note, summary = "legal hold "+strings.Join(records, ", "), "not deleted because of a legal hold"
	}
	if len(records) > 0 {
		summary += " (held by " + strings.Join(records, ", ") + ")"
	}
	summary += "; processing is restricted to storage until it ends"
	if _, err := s.consent.SetRestricted(ctx, a, r.SubjectID, true, note); err != nil {
		return Outcome{}, err
	}
	if basis == "" {
		return Outcome{Summary: summary,
			Message: told(r.Language, "我们暂时不能删除您的个人信息，原因是：这些信息受法律保全约束，依法须予保存。在此之前，除存储外我们不会处理这些信息。",
				"We cannot delete your personal information yet, because of the following: a legal hold requires us to keep it. Until then we do nothing with it but store it.")}, nil
	}
	i := slices.IndexFunc(m.LegalHolds, func(h manifest.Ref) bool { return h.ID == basis })
	why := strings.TrimRight(manifest.ResolveRef(m.LegalHolds[i], manifest.BuiltinVocabulary().LegalHolds).In(r.Language), "。.")
	return Outcome{Summary: summary,
		Message: told(r.Language, "我们暂时不能删除您的个人信息，原因是：%s。在此之前，除存储外我们不会处理这些信息。",
			"We cannot delete your personal information yet, because of the following: %s. Until then we do nothing with it but store it.", why)}, nil
}

// scrub leaves no trace of erased rows in the database's files (see
// store.Store.Scrub). The erasure has landed already; a failure is logged.
func (s *Service) scrub(ctx context.Context) {
	if err := s.st.Scrub(ctx); err != nil {
		s.log.Warn("erased rows may linger in the write-ahead log until the next checkpoint", "err", err)
	}
}

// recipientTasks makes, for a deletion, cancellation, correction or
// restriction, a task for every party NoticeRecipients says received the
// subject's data, with how it is to be told: its webhook, else its notice
// address, else by hand. Each task is tracked on the request until the
// recipient acknowledges it.
//
// A correction is told only to the parties that received a category it
// changes, naming those categories (never the values); one whose
// corrected keys name no known category is told to all, with their
// categories, as nothing narrows it.
//
// told is what the subject is told of them: that these recipients, by
// their names in the manifest, are still being told. "" without any.
func (s *Service) recipientTasks(ctx context.Context, r *store.Request, d Details, in CompleteInput) (fns []store.TxFn, told string, err error) {
	action := map[string]string{"deletion": "deletion", "cancel_account": "deletion", "correction": "correction", "restriction": "restriction"}[r.Kind]
	if action == "" {
		return nil, "", nil
	}
	if in.Held() {
		action = "restriction"
	}
	m, err := s.policy()
	if err != nil {
		return nil, "", nil
	}
	granted, err := s.granted(ctx, r.SubjectID)
	if err != nil {
		return nil, "", err
	}
	var out []store.TxFn
	var names []string
	var corrected []string
	if action == "correction" {
		corrected = correctedCategories(m, d)
	}
	for _, rc := range NoticeRecipients(m, r.Jurisdiction, granted) {
		cats := rc.Categories
		if len(corrected) > 0 {
			if cats = overlap(rc.Categories, corrected); len(cats) == 0 {
				continue
			}
		}
		if name := rc.Name.In(r.Language); !slices.Contains(names, name) {
			names = append(names, name)
		}
		method := "manual"
		switch {
		case rc.Endpoint != "":
			method = "webhook"
		case rc.Email != "":
			method = "email"
		}
		out = append(out, s.st.RecipientTaskFn(store.RecipientTask{ID: ids.New("rt_"), RequestID: r.ID, Recipient: rc.ID, Action: action, Method: method,
			Categories: cats, State: "pending", NextAt: s.now(), UpdatedAt: s.now()}))
	}
	return out, recipientsPending(r.Language, names), nil
}

// granted is the set of ledger keys subject ever granted.
func (s *Service) granted(ctx context.Context, subject string) (map[string]bool, error) {
	const page = 1000
	var all []store.ConsentEvent
	for after := int64(0); ; {
		evs, err := s.st.ConsentEvents(ctx, subject, after, page)
		if err != nil {
			return nil, fmt.Errorf("recipients: read the consent ledger: %w", err)
		}
		all = append(all, evs...)
		if len(evs) < page {
			return grantedKeys(all), nil
		}
		after = evs[len(evs)-1].Seq
	}
}

// replaceIdentities puts the identities a correction rewrote in the
// organisation's databases in place of the subject's own in Custos, within
// the completion: the databases are written already, so the request by
// the new value that follows must find the person there and here alike.
// The summary names the kinds, never the values.
func (s *Service) replaceIdentities(ctx context.Context, a consent.Actor, r *store.Request, out *Outcome) error {
	kinds := slices.Sorted(maps.Keys(out.Identities))
	for _, kind := range kinds {
		replaced, err := s.consent.ReplaceIdentity(ctx, a, r.SubjectID, kind, out.Identities[kind])
		if err != nil {
			return fmt.Errorf("replace the corrected %s identity: %w", kind, err)
		}
		if replaced {
			out.Summary += "; Custos's " + kind + " identity of the subject replaced by the corrected one"
		} else {
			out.Summary += "; Custos holds no " + kind + " identity of the subject: none added"
		}
	}
	return nil
}

// runExecutors carries the request out on every system beyond Custos's own data.
func (s *Service) runExecutors(ctx context.Context, a consent.Actor, r *store.Request, d Details, in CompleteInput) (Outcome, error) {
	var out Outcome
	for _, ex := range s.opt.Executors {
		more, err := ex.Execute(ctx, a, r, d, in)
		if err != nil {
			return Outcome{}, fmt.Errorf("%s: %w", ex.Name(), err)
		}
		if more.Certificate != nil {
			id, err := s.issue(ctx, a, r, *more.Certificate)
			if err != nil {
				return Outcome{}, fmt.Errorf("%s: %w", ex.Name(), err)
			}
			if id != "" {
				more.Summary += "; certificate " + id
			}
		}
		if len(more.Corrected) > 0 {
			// The databases are written already: the trail says so now,
			// whatever becomes of the request's own update.
			detail, _ := json.Marshal(correctionAudit(more.Corrected))
			if err := s.st.AppendAudit(ctx, s.entry(a, "request.corrected", r, string(detail))); err != nil {
				return Outcome{}, fmt.Errorf("%s: %w", ex.Name(), err)
			}
		}
		if len(more.Restricted) > 0 {
			if err := s.auditRestriction(ctx, a, r.SubjectID, true, more.Restricted); err != nil {
				return Outcome{}, fmt.Errorf("%s: %w", ex.Name(), err)
			}
		}
		more.Also = append(more.Also, s.manualRestrictionTasks(r, more.Manual)...)
		for kind, v := range more.Identities {
			if out.Identities == nil {
				out.Identities = map[string]string{}
			}
			out.Identities[kind] = v
		}
		if more.Summary != "" {
			out.Summary += "; " + ex.Name() + ": " + more.Summary
		}
		out.Also = append(out.Also, more.Also...)
		if len(more.Data) > 0 {
			if out.Data == nil {
				out.Data = map[string]any{}
			}
			out.Data[ex.Name()] = more.Data
		}
	}
	return out, nil
}
