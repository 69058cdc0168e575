package dsr

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/propagate"
	"github.com/custos-privacy/custos/internal/store"
)

// ActionRecipientAck is the audit action of a notice's acknowledgement.
const ActionRecipientAck = "request.recipient_ack"

// errAckNotFound answers every token that does not open a notice, forged,
// of another organisation or of a notice since removed, alike.
var errAckNotFound = fault.New(fault.NotFound, "acknowledgement_not_found", "no such notice, or the link is not valid")

// Acknowledgement is a notice as its recipient sees it through the link
// it carries: which request and action, whether and when it was
// acknowledged. Nothing about the person.
type Acknowledgement struct {
	Request        string     `json:"request"`
	Recipient      string     `json:"recipient"`
	Action         string     `json:"action"`
	State          string     `json:"state"` // pending, sent, acknowledged, dead
	Acknowledged   bool       `json:"acknowledged"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	// ByRecipient is false when staff recorded the acknowledgement.
	ByRecipient bool `json:"by_recipient,omitempty"`
}

// Acknowledge records that a recipient confirmed it acted on its notice,
// as a member of staff tells it. A notice already acknowledged stays as
// it was.
func (s *Service) Acknowledge(ctx context.Context, a consent.Actor, id, recipient string) (View, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return View{}, err
	}
	detail, _ := json.Marshal(map[string]string{"recipient": recipient})
	err = s.st.AckRecipientTask(ctx, id, recipient, a.ID, s.now(), s.entry(a, ActionRecipientAck, r, string(detail)))
	if errors.Is(err, store.ErrNotFound) {
		return View{}, fault.New(fault.NotFound, "recipient_task_not_found", "this request has no notice for that recipient")
	}
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, r, true)
}

// AcknowledgeByToken records the recipient's own acknowledgement of the
// notice token was made for (see propagate.AckToken): the token is the
// credential. Only the first acknowledgement is recorded and audited, with
// the recipient as actor and the request, never the person, as object;
// repeating it answers the same. place is where the call came from.
func (s *Service) AcknowledgeByToken(ctx context.Context, place, token string) (Acknowledgement, error) {
	t, err := s.taskByToken(ctx, token)
	if err != nil {
		return Acknowledgement{}, err
	}
	if t.State != "acknowledged" {
		who := audit.Actor{ID: recipientActor(t.Recipient), Role: "recipient", Place: place}
		detail := map[string]string{"request": t.RequestID, "task": t.ID, "recipient": t.Recipient, "via": "link"}
		entry := audit.NewEntry(s.now(), who, ActionRecipientAck, "request:"+t.RequestID, "rights_request", audit.OutcomeOK, detail)
		if err := s.st.AckRecipientTaskByID(ctx, t.ID, who.ID, s.now(), entry); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return Acknowledgement{}, errAckNotFound
			}
			return Acknowledgement{}, err
		}
		if t, err = s.st.RecipientTask(ctx, t.ID); err != nil {
			return Acknowledgement{}, err
		}
	}
	return acknowledgement(t), nil
}

// AcknowledgementStatus shows the notice token was made for without
// recording anything: a link opened (or fetched ahead by a mail scanner)
// acknowledges nothing.
func (s *Service) AcknowledgementStatus(ctx context.Context, token string) (Acknowledgement, error) {
	t, err := s.taskByToken(ctx, token)
	if err != nil {
		return Acknowledgement{}, err
	}
	return acknowledgement(t), nil
}

// AckToken is the acknowledgement token of a notice task, which its notice
// carries (propagate.AckToken with this service's key); staff can hand it
// to a recipient told by hand. "" without a key.
func (s *Service) AckToken(taskID string) string {
	if len(s.opt.AckKey) == 0 {
		return ""
	}
	return propagate.AckToken(s.opt.AckKey, taskID)
}

// AckLink is what staff hand a recipient they tell by hand (an SDK
// provider without an endpoint or a notice email) so that it can
// acknowledge its notice itself: the token is the credential.
type AckLink struct {
	Recipient string `json:"recipient"`
	Task      string `json:"task"`
	Token     string `json:"ack_token"`
	Path      string `json:"ack_path"`
	// URL is the full link where the server knows where it is reached
	// from outside (--public-url); "" otherwise.
	URL string `json:"ack_url,omitempty"`
}

// ActionAckLinkRead is the audit action of showing staff a recipient's
// acknowledgement link: the link is a credential.
const ActionAckLinkRead = "request.ack_link_read"

// AckLinkFor gives staff the acknowledgement link of the request's notice
// to recipient, and audits that it was shown.
func (s *Service) AckLinkFor(ctx context.Context, a consent.Actor, id, recipient string) (AckLink, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return AckLink{}, err
	}
	if len(s.opt.AckKey) == 0 {
		return AckLink{}, fault.New(fault.Conflict, "no_ack_key", "this server has no acknowledgement key: recipients are acknowledged by staff only")
	}
	tasks, err := s.st.RecipientTasks(ctx, id)
	if err != nil {
		return AckLink{}, err
	}
	i := slices.IndexFunc(tasks, func(t store.RecipientTask) bool { return t.Recipient == recipient })
	if i < 0 {
		return AckLink{}, fault.New(fault.NotFound, "recipient_task_not_found", "this request has no notice for that recipient")
	}
	tok := propagate.AckToken(s.opt.AckKey, tasks[i].ID)
	out := AckLink{Recipient: recipient, Task: tasks[i].ID, Token: tok, Path: propagate.AckPath + tok}
	if s.opt.PublicURL != "" {
		out.URL = strings.TrimSuffix(s.opt.PublicURL, "/") + out.Path
	}
	detail, _ := json.Marshal(map[string]string{"recipient": recipient, "task": tasks[i].ID})
	if err := s.st.AppendAudit(ctx, s.entry(a, ActionAckLinkRead, r, string(detail))); err != nil {
		return AckLink{}, err
	}
	return out, nil
}

func (s *Service) taskByToken(ctx context.Context, token string) (store.RecipientTask, error) {
	id, ok := propagate.CheckAckTokenUnder(s.opt.AckKey, s.opt.PriorAckKeys, token)
	if !ok {
		return store.RecipientTask{}, errAckNotFound
	}
	t, err := s.st.RecipientTask(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.RecipientTask{}, errAckNotFound
	}
	return t, err
}

func recipientActor(id string) string { return "recipient:" + id }

func acknowledgement(t store.RecipientTask) Acknowledgement {
	a := Acknowledgement{Request: t.RequestID, Recipient: t.Recipient, Action: t.Action, State: t.State, Acknowledged: t.State == "acknowledged"}
	if !t.AckedAt.IsZero() {
		at := t.AckedAt.UTC()
		a.AcknowledgedAt = &at
		a.ByRecipient = strings.HasPrefix(t.AckedBy, "recipient:")
	}
	return a
}
