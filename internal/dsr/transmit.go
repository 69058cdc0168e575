package dsr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/egress"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/ids"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/propagate"
	"github.com/custos-privacy/custos/internal/store"
)

// A portability request that names a third party's endpoint
// (details.transmit_to.endpoint) sends the person's export there (GDPR
// art. 20(2); PIPL art. 45): on completion the export, as the bundle's
// data.json has it, is sealed under the person's key with the endpoint,
// and the transmission job posts it, signed as Standard Webhooks
// specifies with the deployment's webhook secret, until the receiver
// takes it (2xx) or refuses it (any other status but 408, 429 and 5xx,
// which are retried with backoff, as failures to connect are). The
// endpoint is the person's to give, so egress decides where a post may
// go. A third party named without an endpoint is a task for the
// operator, shown until acknowledged.

// Transmission states.
const (
	TransmissionPending   = "pending"
	TransmissionDelivered = "delivered"
	TransmissionFailed    = "failed"
)

// ActionTransmit is the audit action of an attempt at a transmission: one
// entry per attempt, with the host, never the endpoint's path or query.
const ActionTransmit = "request.transmit"

// ActionTransmitRetry is the audit action of staff sending a failed
// transmission again: the transmissions and their hosts, never the endpoint.
const ActionTransmitRetry = "request.transmit_retry"

// History notes of transmissions; a failure's note is followed by why.
const (
	NoteTransmitted        = "export delivered to the third party named"
	NoteTransmissionFailed = "export not delivered to the third party named: "
	NoteTransmissionRetry  = "transmission to the third party retried"
)

const defaultTransmitAttempts = 10

// TransmitBatch is the most transmissions one pass attempts.
const TransmitBatch = 50

// TransmissionState is a transmission as the request's view shows it.
type TransmissionState struct {
	// Recipient is the name the person gave the third party.
	Recipient string `json:"recipient"`
	// Host is the endpoint's host; the rest of the endpoint is not shown.
	Host     string    `json:"host"`
	State    string    `json:"state"`
	Attempts int       `json:"attempts"`
	Status   int       `json:"status,omitempty"` // the receiver's last HTTP status
	Reason   string    `json:"reason,omitempty"` // why the last attempt failed
	At       time.Time `json:"updated_at"`
}

// sealedTransmission is what a transmission keeps sealed.
type sealedTransmission struct {
	Endpoint string          `json:"endpoint"`
	Export   json.RawMessage `json:"export"`
}

// transmitTo adds to out what completing a portability request with a
// third party entails: a transmission to its endpoint, or else a task for
// the operator.
func (s *Service) transmitTo(ctx context.Context, r *store.Request, to ThirdParty, out *Outcome) error {
	name := to.Name
	if name == "" {
		name = egress.Host(to.Endpoint)
	}
	out.Message += told(r.Language, "我们会将导出文件发送给您指定的接收方（%s）。", " We will send the export to the recipient you named (%s).", name)
	now := s.now()
	if to.Endpoint == "" {
		out.Also = append(out.Also, s.st.RecipientTaskFn(store.RecipientTask{ID: ids.New("rt_"), RequestID: r.ID, Recipient: "third_party:" + name,
			Action: "portability", Method: "manual", Categories: []string{}, State: "pending", NextAt: now, UpdatedAt: now}))
		out.Summary += "; transmission to " + name + " left to the operator (no endpoint)"
		return nil
	}
	raw, err := json.Marshal(sealedTransmission{Endpoint: to.Endpoint, Export: out.data})
	if err != nil {
		return err
	}
	id := ids.New("tm_")
	sealed, err := s.opt.Keys.Seal(ctx, keystore.Subject(r.SubjectID), raw, keystore.TransmissionAD(id))
	if err != nil {
		return err
	}
	host := egress.Host(to.Endpoint)
	out.Also = append(out.Also, s.st.PutTransmissionFn(store.Transmission{ID: id, RequestID: r.ID, SubjectID: r.SubjectID, Recipient: name, Host: host,
		Sealed: sealed, State: TransmissionPending, NextAt: now, CreatedAt: now, UpdatedAt: now}))
	out.Summary += "; transmission " + id + " to " + name + " (" + host + ") queued"
	return nil
}

// TransmitCounts are what a pass of the transmission job did.
type TransmitCounts struct {
	Delivered, Retrying, Failed int
}

// Transmit is the transmission job: one attempt at each transmission due
// now (at most 50). The server runs it every minute and `custos requests
// transmit` once. Two instances may both attempt one transmission; the
// receiver drops the duplicate by its webhook-id, the transmission's id.
func (s *Service) Transmit(ctx context.Context) (TransmitCounts, error) {
	var n TransmitCounts
	if len(s.opt.TransmitSecret) == 0 {
		return n, errors.New("transmissions: no webhook secret to sign them with (CUSTOS_WEBHOOK_SECRET_FILE)")
	}
	key, err := notify.WebhookKey(string(s.opt.TransmitSecret))
	if err != nil {
		return n, fmt.Errorf("transmissions: %w", err)
	}
	due, err := s.st.DueTransmissions(ctx, s.now(), TransmitBatch)
	if err != nil {
		return n, err
	}
	var errs []error
	for _, t := range due {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		state, err := s.transmit(ctx, key, t)
		switch state {
		case TransmissionDelivered:
			n.Delivered++
		case TransmissionFailed:
			n.Failed++
		case TransmissionPending:
			n.Retrying++
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("transmission %s: %w", t.ID, err))
		}
	}
	return n, errors.Join(errs...)
}

// attemptResult is what one attempt came to.
type attemptResult struct {
	status int
	reason string // for operators: no endpoint, no reply body
	told   string // for the person, in the request's language, when it ends the transmission
	final  bool
	ok     bool // the receiver took it
}

// transmit makes one attempt at t and records it.
func (s *Service) transmit(ctx context.Context, key []byte, t store.Transmission) (string, error) {
	r, err := s.load(ctx, t.RequestID)
	if err != nil {
		return "", err
	}
	n := t.Attempts + 1
	res := s.post(ctx, key, t, r.Language)
	state, next := TransmissionDelivered, s.now()
	switch {
	case res.ok:
	case res.final:
		state = TransmissionFailed
	case n >= s.transmitAttempts():
		state = TransmissionFailed
		res.reason = fmt.Sprintf("%s; gave up after %d attempts", res.reason, n)
		res.told = told(r.Language, "我们尝试了 %d 次，均未能送达。", "We tried %d times and could not reach it.", n)
	default:
		state, next = TransmissionPending, s.now().Add(s.transmitBackoff(n))
	}
	mark := store.TransmissionMark{ID: t.ID, State: state, Attempts: n, NextAt: next, LastStatus: res.status, LastError: res.reason, At: s.now()}
	outcome := audit.OutcomeOK
	if !res.ok {
		outcome = audit.OutcomeError
	}
	detail := map[string]any{"request": r.ID, "transmission": t.ID, "host": t.Host, "attempt": n, "state": state}
	if mark.LastStatus != 0 {
		detail["status"] = mark.LastStatus
	}
	if mark.LastError != "" {
		detail["reason"] = mark.LastError
	}
	sys := audit.System("scheduler")
	object := "request:" + r.ID
	if r.SubjectID != "" {
		object = "subject:" + r.SubjectID
	}
	entry := audit.NewEntry(s.now(), sys, ActionTransmit, object, "rights_request", outcome, detail)
	log := s.log.With("request_id", r.ID, "transmission_id", t.ID, "host", t.Host, "attempt", n)
	if state == TransmissionPending {
		if err := s.st.MarkTransmission(ctx, mark, entry); errors.Is(err, store.ErrSettled) {
			log.Debug("transmission settled meanwhile by another attempt")
			return "", nil
		} else if err != nil {
			return "", err
		}
		log.Info("transmission failed, will retry", "status", mark.LastStatus, "reason", mark.LastError, "next_at", next)
		return state, nil
	}
	// A settled transmission is on the request's history, for operators
	// and the person; a failure is also told to the person.
	note := NoteTransmitted
	also := []store.TxFn{s.st.MarkTransmissionFn(mark)}
	if state == TransmissionFailed {
		note = NoteTransmissionFailed + mark.LastError
		if r.SubjectID != "" {
			also = append(also, s.notifyFn(ctx, r, "transmission_failed", map[string]string{"recipient": t.Recipient, "host": t.Host, "reason": res.told})...)
		}
	}
	for try := 0; ; try++ {
		ev := store.RequestEvent{RequestID: r.ID, At: s.now(), Actor: sys.ID, From: r.State, To: r.State, Note: note}
		err = s.st.UpdateRequest(ctx, r, ev, also, entry)
		if !errors.Is(err, store.ErrStale) || try > 0 {
			break
		}
		// The request changed meanwhile (an operator, another instance):
		// once more on what it is now.
		if r, err = s.load(ctx, t.RequestID); err != nil {
			return "", err
		}
	}
	if errors.Is(err, store.ErrSettled) {
		// Another instance's attempt got there first and said so; the
		// receiver drops this post as a duplicate by its webhook-id.
		log.Debug("transmission settled meanwhile by another attempt")
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if state == TransmissionDelivered {
		log.Info("transmission delivered", "status", res.status)
	} else {
		log.Warn("transmission failed", "status", mark.LastStatus, "reason", mark.LastError)
	}
	return state, nil
}

// post opens t and posts its export.
func (s *Service) post(ctx context.Context, key []byte, t store.Transmission, lang string) *attemptResult {
	raw, err := s.opt.Keys.Open(ctx, keystore.Subject(t.SubjectID), t.Sealed, keystore.TransmissionAD(t.ID))
	var st sealedTransmission
	if err == nil {
		err = json.Unmarshal(raw, &st)
	}
	if err != nil {
		return &attemptResult{reason: "the export can no longer be opened", final: true,
			told: told(lang, "导出文件已无法读取。", "The export can no longer be read.")}
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "custos-transmit")
	h.Set("webhook-id", t.ID)
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", notify.SignWebhook(key, t.ID, ts, st.Export))
	rep := s.egress().Post(ctx, st.Endpoint, h, st.Export)
	code := rep.Status
	switch {
	case rep.Err != nil && errors.Is(rep.Err, egress.ErrRefused):
		return &attemptResult{reason: rep.Err.Error(), final: true,
			told: told(lang, "该地址无法使用：我们只通过 https 向公共互联网上的地址发送。", "Its address cannot be used: we send only over https, to addresses on the public internet.")}
	case rep.Err != nil:
		return &attemptResult{reason: "post: " + rep.Err.Error()}
	case code >= 200 && code < 300:
		return &attemptResult{status: code, ok: true}
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return &attemptResult{status: code, reason: fmt.Sprintf("receiver replied %d", code)}
	case code >= 300 && code < 400:
		return &attemptResult{status: code, reason: fmt.Sprintf("receiver replied %d; redirects are not followed", code), final: true,
			told: told(lang, "对方服务将我们转向了其他地址（%d），我们不会发送到您未指定的地址。", "The receiving service sent us elsewhere (%d); we send only to the address you gave.", code)}
	default:
		return &attemptResult{status: code, reason: fmt.Sprintf("receiver replied %d", code), final: true,
			told: told(lang, "对方服务拒绝接收（返回 %d）。", "The receiving service refused it (it answered %d).", code)}
	}
}

func (s *Service) egress() *egress.Client {
	s.egressOnce.Do(func() { s.egressClient = egress.New(s.opt.Egress) })
	return s.egressClient
}

func (s *Service) transmitAttempts() int {
	if s.opt.TransmitAttempts > 0 {
		return s.opt.TransmitAttempts
	}
	return defaultTransmitAttempts
}

func (s *Service) transmitBackoff(attempt int) time.Duration {
	if s.opt.TransmitBackoff != nil {
		return s.opt.TransmitBackoff(attempt)
	}
	return propagate.DefaultBackoff(attempt)
}

// transmissions are a request's transmissions as its view shows them.
func (s *Service) transmissions(ctx context.Context, requestID string) ([]TransmissionState, error) {
	ts, err := s.st.Transmissions(ctx, requestID)
	if err != nil {
		return nil, err
	}
	var out []TransmissionState
	for _, t := range ts {
		out = append(out, TransmissionState{Recipient: t.Recipient, Host: t.Host, State: t.State, Attempts: t.Attempts, Status: t.LastStatus,
			Reason: t.LastError, At: t.UpdatedAt})
	}
	return out, nil
}

var (
	errNoFailedTransmission = fault.New(fault.Conflict, "no_failed_transmission", "this request has no failed transmission to retry")
	errTransmissionGone     = fault.New(fault.Conflict, "transmission_export_gone", "the failed transmission no longer holds its export (the person was erased, or it failed before exports were kept); complete a new request to send it")
)

// RetryTransmission sends again the request's failed transmissions, as
// staff decide once the receiver can take them (it refused, or was down
// past the retries): each is due now, its attempts counted from zero so
// the job's whole schedule applies again, and the request's history and
// the audit trail say so. The export sent is the one sealed at completion.
func (s *Service) RetryTransmission(ctx context.Context, a consent.Actor, id string) (View, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return View{}, err
	}
	ts, err := s.st.Transmissions(ctx, r.ID)
	if err != nil {
		return View{}, err
	}
	now := s.now()
	var also []store.TxFn
	var retried, hosts []string
	gone := false
	for _, t := range ts {
		switch {
		case t.State != TransmissionFailed:
		case t.Sealed == nil:
			gone = true
		default:
			also = append(also, s.st.RetryTransmissionFn(t.ID, now))
			retried, hosts = append(retried, t.ID), append(hosts, t.Host)
		}
	}
	if len(also) == 0 {
		if gone {
			return View{}, errTransmissionGone
		}
		return View{}, errNoFailedTransmission
	}
	detail, _ := json.Marshal(map[string]any{"transmissions": retried, "hosts": hosts})
	ev := store.RequestEvent{RequestID: r.ID, At: now, Actor: a.ID, From: r.State, To: r.State, Note: NoteTransmissionRetry}
	err = s.st.UpdateRequest(ctx, r, ev, also, s.entry(a, ActionTransmitRetry, r, string(detail)))
	switch {
	case errors.Is(err, store.ErrStale):
		return View{}, fault.New(fault.Conflict, "request_changed", "the request changed meanwhile; reload it")
	case errors.Is(err, store.ErrSettled):
		// Retried meanwhile by someone else, or erased.
		return View{}, errNoFailedTransmission
	case err != nil:
		return View{}, err
	}
	s.log.Info("transmission retried", "request_id", r.ID, "transmissions", len(retried))
	return s.view(ctx, r, true)
}

// HasFailedTransmission says whether v has a transmission staff may retry.
func HasFailedTransmission(v View) bool {
	for _, t := range v.Transmissions {
		if t.State == TransmissionFailed {
			return true
		}
	}
	return false
}
