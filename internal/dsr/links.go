package dsr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/ids"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/policy"
	"github.com/custos-privacy/custos/internal/store"
)

// A request made at one organisation's privacy center may concern data
// other organisations control. Two links say which:
//
//   - affiliates of a group share the identity people sign in with (one
//     deepin ID across UnionTech and its affiliates), each the controller of
//     what it collects;
//   - an organisation processing for another under an entrustment holds
//     data the other (an enterprise customer) controls.
//
// The requester claims an identity; the code goes to it wherever it is on
// file. Once the code proves it, the request is passed to every linked
// organisation that holds the identity, where it joins that
// organisation's queue on its own deadline, counted from when the
// requester applied here, under its own rules. The request here goes on if
// this organisation holds the person's data too, and otherwise ends as
// forwarded, telling the requester who controls their data and where each
// request went. A processor keeps an assistance task, due by the
// entrustment's deadline, for each request it passed to a controller.
//
// Nothing of this is shown before the code is proved: the answer to a
// request is the same whether the identity is on file here, elsewhere or
// nowhere.

// StateForwarded ends a request that concerned only data other
// organisations control: it went to each of them.
const StateForwarded = "forwarded"

// Party is an organisation as a request's routing names it.
type Party struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Hosts are where its privacy center answers.
	Hosts []string `json:"hosts,omitempty"`
}

// Link is another organisation a request made here may concern.
type Link struct {
	Party
	// Entrustment is set when this organisation processes data for the
	// linked one under that entrustment (the linked one is a controller);
	// it is "" for an affiliate.
	Entrustment string
	// Assist is the processor's deadline to assist the controller, counted
	// from the request's receipt here (entrustments only).
	Assist calendar.Rule
	// Service is the linked organisation's rights service.
	Service *Service
}

// Role is how a linked organisation relates to this one: "affiliate" or
// "controller".
func (l Link) Role() string {
	if l.Entrustment != "" {
		return "controller"
	}
	return "affiliate"
}

// Route is where a request went: another organisation's queue.
type Route struct {
	Party
	Role    string `json:"role"`
	Request string `json:"request"`
	DueDate string `json:"due_date"`
	// Assistance is this organisation's task to assist the controller.
	Assistance string `json:"assistance,omitempty"`
	// Error says why it could not go (the right not offered there).
	Error string `json:"error,omitempty"`
}

// Origin is where a forwarded request was received.
type Origin struct {
	Party
	Request string `json:"request"`
}

// linkSet is a service's own party and the organisations linked to it.
type linkSet struct {
	self  Party
	links []Link
}

// SetLinks gives the service its own party and the organisations linked
// to it: the server calls it when every organisation's service is built,
// and again whenever the registry changes. It may be called while the
// service is in use: a request reads the set once, whole, at each step.
func (s *Service) SetLinks(self Party, links []Link) {
	s.linkSet.Store(&linkSet{self: self, links: slices.Clone(links)})
}

// linked is the service's current link set (empty before SetLinks).
func (s *Service) linked() *linkSet {
	if l := s.linkSet.Load(); l != nil {
		return l
	}
	return &linkSet{}
}

// linkedHashes are the claimed identity's keyed hashes under each linked
// organisation's identity key, sealed for the request's code row. It costs
// the same whoever the identity is.
func (s *Service) linkedHashes(ctx context.Context, requestID, kind, norm string) ([]byte, map[string][]byte, error) {
	links := s.linked().links
	if len(links) == 0 {
		return nil, nil, nil
	}
	hashes := map[string][]byte{}
	for _, l := range links {
		hashes[l.ID] = l.Service.opt.Hasher.Hash(kind, norm)
	}
	plain, _ := json.Marshal(hashes)
	sealed, err := s.opt.Keys.Seal(ctx, keystore.Request(requestID), plain, linkedAD(requestID))
	if err != nil {
		return nil, nil, err
	}
	return sealed, hashes, nil
}

func linkedAD(requestID string) []byte { return []byte("linked:" + requestID) }

// holders are the linked organisations holding the identity a code
// proved, with their subject, in the order of the links.
func (s *Service) holders(ctx context.Context, requestID string, sealed []byte) ([]holder, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	plain, err := s.opt.Keys.Open(ctx, keystore.Request(requestID), sealed, linkedAD(requestID))
	if err != nil {
		return nil, err
	}
	var hashes map[string][]byte
	if err := json.Unmarshal(plain, &hashes); err != nil {
		return nil, err
	}
	var out []holder
	for _, l := range s.linked().links {
		h, ok := hashes[l.ID]
		if !ok {
			continue
		}
		sid, err := l.Service.st.SubjectByIdentity(ctx, h)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, holder{link: l, subject: sid})
	}
	return out, nil
}

type holder struct {
	link    Link
	subject string
}

// codeElsewhere sends the code through the first linked organisation that
// holds the identity, when this one does not: the message goes out as
// that organisation's, to the address it keeps. ok is false when none
// does.
func (s *Service) codeElsewhere(ctx context.Context, j codeJob) (bool, error) {
	for _, l := range s.linked().links {
		h, found := j.linked[l.ID]
		if !found {
			continue
		}
		d, ok, err := l.Service.codeDelivery(ctx, j.kind, h, j.code, j.lang, j.ttl, j.vars)
		if err != nil {
			return false, err
		}
		if ok {
			return true, l.Service.st.Outbox().Enqueue(ctx, d)
		}
	}
	return false, nil
}

// forward passes a request whose code was just proved to every holder,
// and returns where it went and the assistance tasks this organisation
// owes controllers.
func (s *Service) forward(ctx context.Context, a consent.Actor, r *store.Request, hs []holder) ([]Route, []store.TxFn) {
	var routes []Route
	var tasks []store.TxFn
	var details json.RawMessage
	self := s.linked().self
	if len(r.Details) > 0 {
		if plain, err := s.opt.Keys.Open(ctx, keystore.Request(r.ID), r.Details, keystore.RequestAD(r.ID)); err == nil {
			details = plain
		}
	}
	for _, h := range hs {
		route := Route{Party: h.link.Party, Role: h.link.Role()}
		in := Forwarded{From: Origin{Party: self, Request: r.ID}, Type: r.Kind, Jurisdiction: r.Jurisdiction, Language: r.Language,
			ReceivedAt: r.ReceivedAt, PausedSince: r.PausedSince, SubjectID: h.subject, Details: details}
		v, err := h.link.Service.Receive(ctx, a, in)
		if err != nil {
			var f *fault.Error
			if !errors.As(err, &f) {
				s.log.Error("request not passed on", "request", r.ID, "org", h.link.ID, "err", err)
				route.Error = "unavailable"
			} else {
				route.Error = f.Code
			}
			routes = append(routes, route)
			continue
		}
		route.Request, route.DueDate = v.ID, v.DueDate
		if h.link.Entrustment != "" {
			task := store.AssistanceTask{ID: ids.New("as_"), Entrustment: h.link.Entrustment, Controller: h.link.ID, ControllerRequest: v.ID,
				RequestID: r.ID, Kind: r.Kind, State: store.AssistanceOpen, CreatedAt: s.now()}
			due, err := s.Calendar().DueDate(s.receivedDate(r), h.link.Assist)
			if err != nil {
				due.Date = calendar.FromTime(s.now())
			}
			task.DueDate = due.Date.String()
			route.Assistance = task.ID
			tasks = append(tasks, s.st.AssistanceTaskFn(task))
		}
		routes = append(routes, route)
	}
	return routes, tasks
}

// Forwarded is a request another organisation received and passed here:
// its code was proved there, for an identity this organisation holds.
type Forwarded struct {
	From         Origin
	Type         string
	Jurisdiction string
	Language     string
	ReceivedAt   time.Time
	// PausedSince is when the wait for the code began there.
	PausedSince time.Time
	SubjectID   string
	Details     json.RawMessage
}

// NoteForwardedIn starts the history of a request passed from another
// organisation; it is followed by the organisation and its request id.
const NoteForwardedIn = "received at another organisation: "

// Receive takes a request another organisation passed here. It joins the
// queue as verified, on this organisation's deadline for the right,
// counted from when the requester applied there, with this
// organisation's rule for the time spent waiting for the code. A request
// of the same kind already open for the subject takes it in, as here.
func (s *Service) Receive(ctx context.Context, a consent.Actor, in Forwarded) (View, error) {
	m, err := s.policy()
	if err != nil {
		return View{}, err
	}
	if !slices.Contains(jurisdictions(m), in.Jurisdiction) {
		in.Jurisdiction = ""
	}
	input := Input{Type: in.Type, Jurisdiction: in.Jurisdiction, Language: in.Language, Details: in.Details}
	if err := s.validateInput(m, &input); err != nil {
		return View{}, err
	}
	r, err := s.newRequest(ctx, m, input, "forwarded")
	if err != nil {
		return View{}, err
	}
	r.SubjectID = in.SubjectID
	r.ReceivedAt, r.ReceivedDate = in.ReceivedAt, calendar.FromTime(in.ReceivedAt).String()
	r.State, r.PausedSince = StateAwaitingVerification, in.PausedSince
	var f Flags
	json.Unmarshal([]byte(r.Flags), &f)
	from := in.From
	f.From = &from
	b, _ := json.Marshal(f)
	r.Flags = string(b)
	if err := s.recompute(&r); err != nil {
		return View{}, err
	}
	note := fmt.Sprintf("%s%s (%s)", NoteForwardedIn, in.From.ID, in.From.Request)
	ev := store.RequestEvent{RequestID: r.ID, At: s.now(), Actor: a.ID, To: StateAwaitingVerification, Note: note}
	detail, _ := json.Marshal(map[string]string{"from_org": in.From.ID, "from_request": in.From.Request})
	if err := s.st.CreateRequest(ctx, r, ev, nil, s.entry(a, "request.receive", &r, string(detail))); err != nil {
		return View{}, err
	}
	if dup, err := s.dedupe(ctx, a, &r, m, true); err != nil || dup != nil {
		if err != nil {
			return View{}, err
		}
		return s.view(ctx, dup, false)
	}
	if err := s.move(ctx, a, &r, StateVerified, NoteVerifiedByCode+" at "+in.From.ID, "request_verified", nil); err != nil {
		return View{}, err
	}
	return s.view(ctx, &r, false)
}

// forwardedExplanation tells the requester where their request went.
func forwardedExplanation(lang string, routes []Route) string {
	var names []string
	for _, rt := range routes {
		if rt.Request != "" {
			names = append(names, rt.Name)
		}
	}
	if len(names) == 0 {
		return told(lang, "您的请求涉及的个人信息由其他组织控制，但未能转交，请直接联系该组织。",
			"Your request concerns personal information other organisations control, and could not be passed to them: contact them directly.")
	}
	return told(lang, "您的请求涉及由%s控制的个人信息。我们已将请求转交给该组织，由其作为个人信息处理者答复；各组织的请求编号和答复期限如下。",
		"Your request concerns personal information that %s controls. We have passed it to them, and they will answer it as the controller; their request numbers and due dates follow.",
		policy.Join(lang, names))
}

// Ended is what an organisation did with what it kept for a controller when
// their entrustment ended: the record a certificate of deletion states.
type Ended struct {
	Entrustment string    `json:"entrustment"`
	Controller  string    `json:"controller"`
	Processor   string    `json:"processor"`
	Action      string    `json:"action"` // the controller's instruction: delete or return
	At          time.Time `json:"at"`
	// TasksClosed are the open assistance tasks closed; RequestsErased
	// the requests passed to the controller whose particulars (the
	// claimed identity's hashes, the details given) were erased, their
	// keys destroyed.
	TasksClosed    int `json:"assistance_tasks_closed"`
	RequestsErased int `json:"requests_erased"`
	// Databases are what the processor's own databases held for the
	// controller, collection by collection (the collections its dataset
	// marks held_for), and SweepCertificates the certificates of their
	// deletion; none when the entrustment names no customer key.
	Databases         []EndedRows `json:"databases,omitempty"`
	SweepCertificates []string    `json:"sweep_certificates,omitempty"`
	// Scope says what this covers.
	Scope string `json:"scope"`
}

// EndedRows is one collection of the processor's databases at the end of
// an entrustment: the rows held for the controller, deleted (after they
// were written out when the instruction was to return them), or kept
// whole by a legal hold.
type EndedRows struct {
	Datastore  string `json:"datastore"`
	Collection string `json:"collection"`
	Returned   bool   `json:"returned,omitempty"`
	Deleted    int64  `json:"deleted"`
	Held       int64  `json:"held,omitempty"`
}

// EndScope is what EndEntrustment covers, stated in every certificate.
const EndScope = "The records this Custos deployment keeps for the processor about the controller's data subjects (assistance tasks and the particulars of rights requests passed to the controller) and, collection by collection as listed, the rows the processor's databases described in its dataset held for the controller. Copies in the processor's other systems are outside it."

// EndEntrustment carries out, on this organisation's own records, a
// controller's instruction at the end of an entrustment in which this
// organisation was the processor: its open tasks to assist the controller
// close, and the particulars of the requests it passed to the controller
// alone, which the controller holds in its own queue, are erased by
// destroying their keys (a returned copy is the controller's; the
// processor keeps none either way). It can run again: what is done stays
// done.
func (s *Service) EndEntrustment(ctx context.Context, a consent.Actor, e store.Entrustment) (Ended, error) {
	out := Ended{Entrustment: e.ID, Controller: e.Controller, Processor: e.Processor, Action: e.EndAction, At: s.now().UTC(), Scope: EndScope}
	tasks, err := s.st.AssistanceTasks(ctx, AssistanceOpen)
	if err != nil {
		return Ended{}, err
	}
	for _, t := range tasks {
		if t.Entrustment != e.ID {
			continue
		}
		if _, err := s.FinishAssistance(ctx, a, t.ID, "entrustment ended: the controller instructed "+e.EndAction); err != nil {
			return Ended{}, err
		}
		out.TasksClosed++
	}
	passed, err := s.st.Requests(ctx, store.RequestFilter{States: []string{StateForwarded}, Limit: 1_000_000})
	if err != nil {
		return Ended{}, err
	}
	var owners []string
	for _, r := range passed {
		var f Flags
		json.Unmarshal([]byte(r.Flags), &f)
		onlyHim := len(f.Routes) > 0
		for _, rt := range f.Routes {
			onlyHim = onlyHim && rt.ID == e.Controller && rt.Role == "controller"
		}
		if !onlyHim {
			continue
		}
		if gone, err := s.opt.Keys.Destroyed(ctx, keystore.Request(r.ID)); err == nil && gone {
			continue
		}
		owners = append(owners, keystore.Request(r.ID))
	}
	if len(owners) > 0 {
		if _, err := s.opt.Keys.Destroy(ctx, owners...); err != nil {
			return Ended{}, err
		}
	}
	out.RequestsErased = len(owners)
	detail, _ := json.Marshal(map[string]any{"entrustment": e.ID, "action": e.EndAction, "tasks_closed": out.TasksClosed, "requests_erased": out.RequestsErased})
	if err := s.st.AppendAudit(ctx, audit.NewEntry(s.now(), a, "entrustment.erase", "entrustment:"+e.ID, "", audit.OutcomeOK, string(detail))); err != nil {
		return Ended{}, err
	}
	return out, nil
}

// States of an assistance task.
const (
	AssistanceOpen = store.AssistanceOpen
	AssistanceDone = store.AssistanceDone
)

// Assistance is a processor's task to assist a controller with a rights
// request, as callers see it.
type Assistance struct {
	ID                string     `json:"id"`
	Controller        string     `json:"controller"`         // the controller organisation
	ControllerRequest string     `json:"controller_request"` // the request in its queue
	Request           string     `json:"request"`            // the request as received here
	Entrustment       string     `json:"entrustment"`
	Type              string     `json:"type"`
	DueDate           string     `json:"due_date"`
	DaysLeft          int        `json:"days_left"`
	State             string     `json:"state"` // open or done
	Note              string     `json:"note,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	DoneAt            *time.Time `json:"done_at,omitempty"`
}

func (s *Service) assistance(t store.AssistanceTask) Assistance {
	v := Assistance{ID: t.ID, Controller: t.Controller, ControllerRequest: t.ControllerRequest, Request: t.RequestID, Entrustment: t.Entrustment,
		Type: t.Kind, DueDate: t.DueDate, State: t.State, Note: t.Note, CreatedAt: t.CreatedAt}
	if due, err := calendar.ParseDate(t.DueDate); err == nil {
		v.DaysLeft = calendar.DaysUntil(calendar.FromTime(s.now()), due)
	}
	if !t.DoneAt.IsZero() {
		done := t.DoneAt
		v.DoneAt = &done
	}
	return v
}

// AssistanceTasks lists this organisation's tasks to assist controllers
// in a state (store.AssistanceOpen, store.AssistanceDone, "" for all),
// soonest due first.
func (s *Service) AssistanceTasks(ctx context.Context, state string) ([]Assistance, error) {
	if state != "" && state != store.AssistanceOpen && state != store.AssistanceDone {
		return nil, fault.New(fault.BadRequest, "invalid_state", "an assistance task is open or done").At("state").Allowing([]string{store.AssistanceOpen, store.AssistanceDone})
	}
	ts, err := s.st.AssistanceTasks(ctx, state)
	if err != nil {
		return nil, err
	}
	out := make([]Assistance, 0, len(ts))
	for _, t := range ts {
		out = append(out, s.assistance(t))
	}
	return out, nil
}

// FinishAssistance records this organisation's assistance with a
// controller's request as given, with what was done.
func (s *Service) FinishAssistance(ctx context.Context, a consent.Actor, id, note string) (Assistance, error) {
	note = strings.TrimSpace(note)
	if note == "" || utf8.RuneCountInString(note) > 2000 {
		return Assistance{}, fault.New(fault.Invalid, "note_required", "say in at most 2000 characters what was done to assist the controller").At("note")
	}
	detail, _ := json.Marshal(map[string]string{"task": id})
	t, err := s.st.FinishAssistanceTask(ctx, id, note, s.now(),
		audit.NewEntry(s.now(), a, "request.assist", "assistance:"+id, "rights_request", audit.OutcomeOK, string(detail)))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Assistance{}, fault.New(fault.NotFound, "task_not_found", "no such assistance task")
	case errors.Is(err, store.ErrConflict):
		return Assistance{}, fault.New(fault.Conflict, "task_done", "this assistance task is already done")
	case err != nil:
		return Assistance{}, err
	}
	return s.assistance(t), nil
}
