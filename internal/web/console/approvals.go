package console

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/ids"
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

// destroyTimeout bounds a destruction's run; it is also the lease the
// run holds, after which a stopped run may be resumed.
const destroyTimeout = 30 * time.Minute

type approvalRow struct {
	store.Approval
	P                      params
	RequestedBy, DecidedBy string // usernames
	Mine                   bool
	Expired                bool // an approved export past its download window
	Done                   int  // subjects a destruction has dealt with
	Running                bool // a destruction's run holds the lease
}

// outcome is what a destruction did for one subject.
type outcome struct {
	Subject string `json:"subject"`
	Request string `json:"request,omitempty"`
	Error   string `json:"error,omitempty"`
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
	now := time.Now()
	rows := make([]approvalRow, len(list))
	for i, a := range list {
		rows[i] = approvalRow{Approval: a, RequestedBy: names[a.RequestedBy], DecidedBy: names[a.DecidedBy], Mine: a.RequestedBy == s.op.ID,
			Expired: a.Expired(now), Running: now.Before(a.LeaseUntil)}
		json.Unmarshal([]byte(a.Params), &rows[i].P)
		if a.Kind == store.ApprovalBatchDestruction {
			var done []outcome
			json.Unmarshal([]byte(a.Result), &done)
			rows[i].Done = len(done)
		}
	}
	return c.render(w, r, s, "approvals", "console.approvals.title", map[string]any{"Rows": rows, "Today": now.In(calendar.China).Format("2006-01-02")})
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
		from, err1 := time.ParseInLocation("2006-01-02", r.PostFormValue("from"), calendar.China)
		to, err2 := time.ParseInLocation("2006-01-02", r.PostFormValue("to"), calendar.China)
		if err1 != nil || err2 != nil || to.Before(from) {
			return invalid("invalid_period", "give the period as two dates, the first not after the second")
		}
		if today := time.Now().In(calendar.China).Format("2006-01-02"); to.Format("2006-01-02") > today {
			return invalid("future_period", "the period cannot end after today (%s)", today)
		}
		p.From, p.To = from.Format("2006-01-02"), to.Format("2006-01-02")
	default:
		return invalid("invalid_scope", "choose the subjects or the consent ledger for a period")
	}
	b, _ := json.Marshal(p)
	a := store.Approval{ID: ids.New("ap_"), Kind: kind, Params: string(b), Reason: reason, RequestedBy: s.op.ID, CreatedAt: time.Now()}
	detail := map[string]any{"kind": kind, "scope": p.Scope, "subjects": len(p.Subjects), "from": p.From, "to": p.To}
	if err := c.opt.Store.CreateApproval(r.Context(), a, c.entry(s, "approval.request", "approval:"+a.ID, detail)); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/approvals?done=requested", http.StatusSeeOther)
	return nil
}

// decide approves or rejects; an approved destruction runs at once, on
// the approver's authority. Once the decision is taken the run no longer
// depends on the browser's connection: it has its own deadline, records
// its progress, and what it did not finish can be resumed.
func (c *console) decide(approve bool) func(http.ResponseWriter, *http.Request, *session) error {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		id := r.PathValue("id")
		// A decision sent is carried through, decision and run alike,
		// whether or not the browser waits for the answer.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
		defer cancel()
		action, done := "approval.reject", "rejected"
		if approve {
			action, done = "approval.approve", "approved"
		}
		err := c.opt.Store.DecideApproval(ctx, id, s.op.ID, approve, r.PostFormValue("note"), time.Now(), c.entry(s, action, "approval:"+id, nil))
		if errors.Is(err, store.ErrSelfApproval) || errors.Is(err, store.ErrPasswordSetByRequester) {
			reason := "self_approval"
			if errors.Is(err, store.ErrPasswordSetByRequester) {
				reason = "password_set_by_requester"
			}
			e := c.entry(s, action, "approval:"+id, map[string]any{"reason": reason})
			e.Outcome = audit.OutcomeDenied
			if aerr := c.opt.Store.AppendAudit(ctx, e); aerr != nil {
				c.log.Error("console: audit refused decision", "approval", id, "err", aerr)
			}
		}
		if err != nil {
			return err
		}
		a, err := c.opt.Store.Approval(ctx, id)
		if err != nil {
			return err
		}
		if approve && a.Kind == store.ApprovalBatchDestruction {
			finished, err := c.runDestruction(ctx, s, a)
			if err != nil {
				return err
			}
			done = "destroyed"
			if !finished {
				done = "unfinished"
			}
		}
		http.Redirect(w, r, "/console/approvals?done="+done, http.StatusSeeOther)
		return nil
	}
}

// resume carries on an approved destruction whose run stopped before the
// end, from the first subject not yet dealt with.
func (c *console) resume(w http.ResponseWriter, r *http.Request, s *session) error {
	a, err := c.opt.Store.Approval(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if a.Kind != store.ApprovalBatchDestruction || a.State != store.ApprovalApproved {
		return store.ErrApprovalState
	}
	finished, err := c.runDestruction(r.Context(), s, a)
	if err != nil {
		return err
	}
	done := "resumed"
	if !finished {
		done = "unfinished"
	}
	http.Redirect(w, r, "/console/approvals?done="+done, http.StatusSeeOther)
	return nil
}

// runDestruction claims the destruction's run and carries it out,
// detached from the request: a dropped connection does not stop it. It
// reports whether the destruction finished; when another run holds it,
// ErrApprovalState.
func (c *console) runDestruction(reqCtx context.Context, s *session, a store.Approval) (bool, error) {
	if c.opt.Requests == nil {
		return false, errNoRequests
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(reqCtx), destroyTimeout)
	defer cancel()
	now := time.Now()
	if err := c.opt.Store.ClaimApproval(ctx, a.ID, now, now.Add(destroyTimeout+time.Minute)); err != nil {
		return false, err
	}
	err := c.destroy(ctx, s, a)
	if err != nil {
		c.log.Error("console: batch destruction stopped", "approval", a.ID, "err", err)
		if rerr := c.opt.Store.ReleaseApproval(context.WithoutCancel(reqCtx), a.ID); rerr != nil {
			c.log.Error("console: release batch destruction", "approval", a.ID, "err", rerr)
		}
		return false, nil
	}
	return true, nil
}

// destroy erases the subjects through deletion requests, verified by the
// two operators' decision, so each erasure follows the usual workflow
// (legal holds, recipients told, history kept). What was done is stored
// after each subject, so a run that stops is resumed where it stopped;
// the approval is marked executed only when every subject is dealt with.
func (c *console) destroy(ctx context.Context, s *session, a store.Approval) error {
	var p params
	json.Unmarshal([]byte(a.Params), &p)
	var out []outcome
	json.Unmarshal([]byte(a.Result), &out)
	done := map[string]bool{}
	for _, o := range out {
		done[o.Subject] = true
	}
	for _, sub := range p.Subjects {
		if done[sub] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
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
			if fe, ok := fault.As(err); ok && fe.Kind != fault.Internal {
				o.Error = fe.Code
			} else if ctx.Err() != nil {
				return err // stopped: this subject is retried on resume
			} else {
				c.log.Error("console: batch destruction", "approval", a.ID, "subject", sub, "err", err)
				o.Error = "internal"
			}
		}
		out = append(out, o)
		done[sub] = true
		b, _ := json.Marshal(out)
		if err := c.opt.Store.RecordApprovalProgress(ctx, a.ID, string(b)); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(out)
	return c.opt.Store.ExecuteApproval(ctx, a.ID, "", string(b), time.Now(), c.entry(s, "approval.execute", "approval:"+a.ID, map[string]any{"subjects": len(p.Subjects)}))
}

// download hands the requester the approved export, once, within
// ExportValidity of the approval. It is built now rather than kept, so
// no copy of the data waits on the server, and written as it is read:
// the download is counted first (atomically, once), then the records
// are streamed.
func (c *console) download(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	a, err := c.opt.Store.Approval(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	if a.Kind != store.ApprovalBatchExport || a.RequestedBy != s.op.ID {
		return fault.New(fault.Forbidden, "not_requester", "only the operator who asked for the export may download it")
	}
	now := time.Now()
	if a.Expired(now) {
		return store.ErrApprovalExpired
	}
	if a.State != store.ApprovalApproved {
		return store.ErrApprovalState
	}
	var p params
	json.Unmarshal([]byte(a.Params), &p)
	head := map[string]any{"approval": a.ID, "generated_at": now.UTC().Format(time.RFC3339), "scope": p.Scope}
	var from, to time.Time
	var maxSeq, count int64
	switch p.Scope {
	case "subjects":
		count = int64(len(p.Subjects))
	case "ledger":
		from, _ = time.ParseInLocation("2006-01-02", p.From, calendar.China)
		to, _ = time.ParseInLocation("2006-01-02", p.To, calendar.China)
		to = to.AddDate(0, 0, 1)
		if count, maxSeq, err = c.opt.Store.LedgerCount(ctx, from, to); err != nil {
			return err
		}
		head["from"], head["to"], head["records"] = p.From, p.To, count
	default:
		return store.ErrApprovalState
	}
	result, _ := json.Marshal(map[string]any{"records": count})
	if err := c.opt.Store.ExecuteApproval(ctx, a.ID, s.op.ID, string(result), now,
		c.entry(s, "approval.download", "approval:"+a.ID, map[string]any{"records": count})); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="custos-export-%s.json"`, a.ID))
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := c.writeExport(ctx, bw, s, p, head, from, to, maxSeq); err != nil {
		// The headers are sent: the truncated document tells the client.
		c.log.Error("console: export stopped", "approval", a.ID, "err", err)
		return nil
	}
	bw.Flush()
	return nil
}

// writeExport writes the export as one JSON document, a record a line:
// the header's fields, then the records ("subjects" with "missing", or
// the ledger's "events").
func (c *console) writeExport(ctx context.Context, bw *bufio.Writer, s *session, p params, head map[string]any, from, to time.Time, maxSeq int64) error {
	hb, _ := json.Marshal(head)
	bw.Write(hb[:len(hb)-1])   // the header's fields, the object left open
	enc := json.NewEncoder(bw) // one record per line
	first := true
	item := func(v any) error {
		if !first {
			bw.WriteString(",")
		}
		first = false
		bw.WriteString("\n")
		return enc.Encode(v)
	}
	switch p.Scope {
	case "subjects":
		type subjectExport struct {
			Subject  consent.SubjectView    `json:"subject"`
			Consents []consent.ConsentEvent `json:"consents"`
		}
		missing := []string{}
		bw.WriteString(`,"subjects":[`)
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
			if err := item(subjectExport{Subject: v, Consents: h}); err != nil {
				return err
			}
		}
		mb, _ := json.Marshal(missing)
		bw.WriteString(`],"missing":`)
		bw.Write(mb)
	case "ledger":
		bw.WriteString(`,"events":[`)
		err := c.opt.Store.StreamLedgerEvents(ctx, from, to, maxSeq, func(e store.ConsentEvent) error { return item(e) })
		if err != nil {
			return err
		}
		bw.WriteString(`]`)
	}
	_, err := bw.WriteString("}\n")
	return err
}
