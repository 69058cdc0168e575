package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/approval"
	"github.com/custos-privacy/custos/internal/calendar"
)

// approvalRow is one approval in the list, marked when it is the signed-in
// operator's own (they may not decide on it, only download it).
type approvalRow struct {
	approval.Approval
	Mine bool
}

func (c *console) approvals(w http.ResponseWriter, r *http.Request, s *session) error {
	list, err := c.opt.Approvals.List(r.Context(), 200)
	if err != nil {
		return err
	}
	rows := make([]approvalRow, len(list))
	for i, a := range list {
		rows[i] = approvalRow{Approval: a, Mine: a.RequesterID == s.op.ID}
	}
	today := time.Now().In(calendar.China).Format(time.DateOnly)
	return c.render(w, r, s, "approvals", "console.approvals.title", map[string]any{"Rows": rows, "Today": today})
}

// subjectList splits the form's list of subject ids, one a line or
// separated by commas or spaces.
func subjectList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == ' ' || r == '\r' || r == '\t' })
}

func (c *console) requestApproval(w http.ResponseWriter, r *http.Request, s *session) error {
	_, err := c.opt.Approvals.Request(r.Context(), s.by(), approval.Input{
		Kind: r.PostFormValue("kind"), Scope: r.PostFormValue("scope"), Subjects: subjectList(r.PostFormValue("subjects")),
		From: r.PostFormValue("from"), To: r.PostFormValue("to"), Reason: r.PostFormValue("reason"),
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/approvals?done=requested", http.StatusSeeOther)
	return nil
}

// decide approves or rejects; an approved destruction runs at once, on
// the approver's authority, and is carried through whether or not the
// browser waits.
func (c *console) decide(approve bool) func(http.ResponseWriter, *http.Request, *session) error {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		a, err := c.opt.Approvals.Decide(r.Context(), s.by(), r.PathValue("id"), approve, r.PostFormValue("note"))
		if err != nil {
			return err
		}
		done := "rejected"
		switch {
		case !approve:
		case a.Kind != approval.KindDestruction:
			done = "approved"
		case a.State == approval.StateExecuted:
			done = "destroyed"
		default:
			done = "unfinished"
		}
		http.Redirect(w, r, "/console/approvals?done="+done, http.StatusSeeOther)
		return nil
	}
}

// resume carries on an approved destruction whose run stopped before the
// end.
func (c *console) resume(w http.ResponseWriter, r *http.Request, s *session) error {
	a, err := c.opt.Approvals.Resume(r.Context(), s.by(), r.PathValue("id"))
	if err != nil {
		return err
	}
	done := "resumed"
	if a.State != approval.StateExecuted {
		done = "unfinished"
	}
	http.Redirect(w, r, "/console/approvals?done="+done, http.StatusSeeOther)
	return nil
}

// download hands the requester the approved export, once. The download
// is counted before anything is sent; the records are then written as
// they are read.
func (c *console) download(w http.ResponseWriter, r *http.Request, s *session) error {
	e, err := c.opt.Approvals.Download(r.Context(), s.by(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, e.Filename))
	w.Header().Set("Cache-Control", "no-store")
	if err := e.Write(r.Context(), w); err != nil {
		// The headers are sent: the unfinished document tells the client.
		c.log.Error("console: export stopped", "approval", e.Approval, "err", err)
	}
	return nil
}
