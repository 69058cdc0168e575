package console

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
)

// params are an approval's parameters: the subjects concerned, or for a
// ledger export the period [From, To) as dates in China time.
type params struct {
	Scope    string   `json:"scope"` // subjects | ledger
	Subjects []string `json:"subjects,omitempty"`
	From     string   `json:"from,omitempty"`
	To       string   `json:"to,omitempty"`
}

// maxBatch bounds how many subjects one approval covers.
const maxBatch = 1000

type approvalRow struct {
	store.Approval
	P                      params
	RequestedBy, DecidedBy string // usernames
	Mine                   bool
}

func (c *console) approvals(w http.ResponseWriter, r *http.Request, s *session) error {
	list, err := c.opt.Store.Approvals(r.Context(), 200)
	if err != nil {
		return err
	}
	ops, err := c.ops.List(r.Context())
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, o := range ops {
		names[o.ID] = o.Username
	}
	rows := make([]approvalRow, len(list))
	for i, a := range list {
		rows[i] = approvalRow{Approval: a, RequestedBy: names[a.RequestedBy], DecidedBy: names[a.DecidedBy], Mine: a.RequestedBy == s.op.ID}
		json.Unmarshal([]byte(a.Params), &rows[i].P)
	}
	return c.render(w, r, s, "approvals", "console.approvals.title", map[string]any{"Rows": rows})
}

func (c *console) entry(s *session, action, object string, detail map[string]any) audit.Entry {
	d := "{}"
	if detail != nil {
		b, _ := json.Marshal(detail)
		d = string(b)
	}
	return audit.Entry{At: time.Now(), Actor: s.actor.ID, Role: s.actor.Role, Place: s.actor.Place, Action: action, Object: object,
		Purpose: "console", Outcome: audit.OutcomeOK, Detail: d}
}

func invalid(code, format string, args ...any) error {
	return fault.New(fault.Invalid, code, format, args...)
}

func (c *console) requestApproval(w http.ResponseWriter, r *http.Request, s *session) error {
	kind, reason := r.PostFormValue("kind"), strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		return invalid("reason_required", "say why the batch is needed")
	}
	p := params{Scope: r.PostFormValue("scope")}
	switch kind {
	case store.ApprovalBatchExport, store.ApprovalBatchDestruction:
	default:
		return invalid("invalid_kind", "choose a batch export or a batch destruction")
	}
	if kind == store.ApprovalBatchDestruction {
		p.Scope = "subjects"
	}
	switch p.Scope {
	case "subjects":
		for _, f := range strings.FieldsFunc(r.PostFormValue("subjects"), func(r rune) bool { return r == '\n' || r == ',' || r == ' ' || r == '\r' || r == '\t' }) {
			if err := consent.ValidateSubjectID(f); err != nil {
				return invalid("invalid_subject", "%q is not a subject id", f)
			}
			p.Subjects = append(p.Subjects, f)
		}
		if len(p.Subjects) == 0 || len(p.Subjects) > maxBatch {
			return invalid("invalid_subjects", "name between 1 and %d subject ids", maxBatch)
		}
	case "ledger":
		from, err1 := time.ParseInLocation("2006-01-02", r.PostFormValue("from"), chinaTime)
		to, err2 := time.ParseInLocation("2006-01-02", r.PostFormValue("to"), chinaTime)
		if err1 != nil || err2 != nil || to.Before(from) {
			return invalid("invalid_period", "give the period as two dates, the first not after the second")
		}
		p.From, p.To = from.Format("2006-01-02"), to.Format("2006-01-02")
	default:
		return invalid("invalid_scope", "choose the subjects or the consent ledger for a period")
	}
	b, _ := json.Marshal(p)
	a := store.Approval{ID: newID("ap_"), Kind: kind, Params: string(b), Reason: reason, RequestedBy: s.op.ID, CreatedAt: time.Now()}
	detail := map[string]any{"kind": kind, "scope": p.Scope, "subjects": len(p.Subjects), "from": p.From, "to": p.To}
	if err := c.opt.Store.CreateApproval(r.Context(), a, c.entry(s, "approval.request", "approval:"+a.ID, detail)); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/approvals?done=requested", http.StatusSeeOther)
	return nil
}

// decide approves or rejects; an approved destruction runs at once, on
// the approver's authority.
func (c *console) decide(approve bool) func(http.ResponseWriter, *http.Request, *session) error {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		id := r.PathValue("id")
		ctx := r.Context()
		action, done := "approval.reject", "rejected"
		if approve {
			action, done = "approval.approve", "approved"
		}
		if err := c.opt.Store.DecideApproval(ctx, id, s.op.ID, approve, r.PostFormValue("note"), time.Now(), c.entry(s, action, "approval:"+id, nil)); err != nil {
			return err
		}
		a, err := c.opt.Store.Approval(ctx, id)
		if err != nil {
			return err
		}
		if approve && a.Kind == store.ApprovalBatchDestruction {
			if err := c.destroy(r, s, a); err != nil {
				return err
			}
			done = "destroyed"
		}
		http.Redirect(w, r, "/console/approvals?done="+done, http.StatusSeeOther)
		return nil
	}
}

// destroy erases the subjects through deletion requests, verified by the
// two operators' decision, so each erasure follows the usual workflow
// (legal holds, recipients told, history kept).
func (c *console) destroy(r *http.Request, s *session, a store.Approval) error {
	if c.opt.Requests == nil {
		return errNoRequests
	}
	var p params
	json.Unmarshal([]byte(a.Params), &p)
	ctx := r.Context()
	type outcome struct {
		Subject string `json:"subject"`
		Request string `json:"request,omitempty"`
		Error   string `json:"error,omitempty"`
	}
	var out []outcome
	for _, sub := range p.Subjects {
		o := outcome{Subject: sub}
		v, err := c.opt.Requests.SubmitOperator(ctx, s.actor, dsr.Input{Type: "deletion", Language: "zh-CN", SubjectID: sub,
			Verification: "operator", Evidence: "batch destruction " + a.ID + " approved by a second operator"})
		if err == nil {
			o.Request = v.ID
			if v.State == dsr.StateVerified {
				_, err = c.opt.Requests.Approve(ctx, s.actor, v.ID)
			}
		}
		if err == nil {
			_, err = c.opt.Requests.Complete(ctx, s.actor, v.ID, dsr.CompleteInput{})
		}
		if err != nil {
			if fe, ok := fault.As(err); ok {
				o.Error = fe.Code
			} else {
				c.log.Error("console: batch destruction", "approval", a.ID, "subject", sub, "err", err)
				o.Error = "internal"
			}
		}
		out = append(out, o)
	}
	b, _ := json.Marshal(out)
	return c.opt.Store.ExecuteApproval(ctx, a.ID, "", string(b), time.Now(), c.entry(s, "approval.execute", "approval:"+a.ID, map[string]any{"subjects": len(p.Subjects)}))
}

// download hands the requester the approved export, once. It is built
// now rather than kept, so no copy of the data waits on the server.
func (c *console) download(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	a, err := c.opt.Store.Approval(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	if a.Kind != store.ApprovalBatchExport || a.RequestedBy != s.op.ID {
		return fault.New(fault.Forbidden, "not_requester", "only the operator who asked for the export may download it")
	}
	if a.State != store.ApprovalApproved {
		return store.ErrApprovalState
	}
	var p params
	json.Unmarshal([]byte(a.Params), &p)
	export := map[string]any{"approval": a.ID, "generated_at": time.Now().UTC().Format(time.RFC3339), "scope": p.Scope}
	count := 0
	switch p.Scope {
	case "subjects":
		type subjectExport struct {
			Subject  consent.SubjectView    `json:"subject"`
			Consents []consent.ConsentEvent `json:"consents"`
		}
		var subs []subjectExport
		var missing []string
		for _, id := range p.Subjects {
			v, err := c.opt.Consent.Subject(ctx, s.actor, id, "batch_export")
			if fe, ok := fault.As(err); ok && fe.Kind == fault.NotFound {
				missing = append(missing, id)
				continue
			}
			if err != nil {
				return err
			}
			h, err := c.opt.Consent.History(ctx, s.actor, id, 0, 10000)
			if err != nil {
				return err
			}
			subs = append(subs, subjectExport{Subject: v, Consents: h})
		}
		export["subjects"], export["missing"], count = subs, missing, len(subs)
	case "ledger":
		from, _ := time.ParseInLocation("2006-01-02", p.From, chinaTime)
		to, _ := time.ParseInLocation("2006-01-02", p.To, chinaTime)
		evs, err := c.opt.Store.LedgerEvents(ctx, from, to.AddDate(0, 0, 1), 1000000)
		if err != nil {
			return err
		}
		export["from"], export["to"], export["events"], count = p.From, p.To, evs, len(evs)
	}
	body, err := json.MarshalIndent(export, "", "  ")
	if err != nil {
		return err
	}
	result, _ := json.Marshal(map[string]any{"records": count, "bytes": len(body)})
	if err := c.opt.Store.ExecuteApproval(ctx, a.ID, s.op.ID, string(result), time.Now(),
		c.entry(s, "approval.download", "approval:"+a.ID, map[string]any{"records": count})); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="custos-export-%s.json"`, a.ID))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body)
	return nil
}

func newID(prefix string) string {
	b := make([]byte, 10)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
