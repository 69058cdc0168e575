package approval

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
)

// historyLimit bounds the consent events exported per subject.
const historyLimit = 10000

// Export is an approved export whose one download has been counted:
// what is left is to write it, once.
type Export struct {
	// Approval is the approval's id; Filename is what to save it as.
	Approval, Filename string
	// Records is how many records it holds: subjects asked for (found or
	// missing), or ledger events.
	Records int64

	s        *Service
	by       Operator
	p        Params
	head     map[string]any
	from, to time.Time
	maxSeq   int64
}

// Download hands the requester the approved export, once, within
// ExportValidity of the approval. It is built when written rather than
// kept, so no copy of the data waits on the server: Download counts the
// download (atomically, once, audited as approval.download) and returns
// the export to write; a ledger export is bounded to the events counted,
// so what is written matches what was announced.
func (s *Service) Download(ctx context.Context, by Operator, id string) (*Export, error) {
	if !by.canAct() {
		return nil, ErrRole
	}
	a, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Kind != KindExport || a.RequestedBy != by.ID {
		return nil, ErrNotRequester
	}
	now := s.now()
	if a.Expired(now) {
		return nil, ErrExpired
	}
	if a.State != StateApproved {
		return nil, ErrState
	}
	e := &Export{Approval: a.ID, Filename: "custos-export-" + a.ID + ".json", s: s, by: by}
	json.Unmarshal([]byte(a.Params), &e.p)
	e.head = map[string]any{"approval": a.ID, "generated_at": now.UTC().Format(time.RFC3339), "scope": e.p.Scope}
	switch e.p.Scope {
	case ScopeSubjects:
		if s.subjects == nil {
			return nil, ErrNoSubjects
		}
		e.Records = int64(len(e.p.Subjects))
	case ScopeLedger:
		e.from, _ = time.ParseInLocation(time.DateOnly, e.p.From, calendar.China)
		e.to, _ = time.ParseInLocation(time.DateOnly, e.p.To, calendar.China)
		e.to = e.to.AddDate(0, 0, 1) // To's day is included
		if e.Records, e.maxSeq, err = s.st.LedgerCount(ctx, e.from, e.to); err != nil {
			return nil, err
		}
		e.head["from"], e.head["to"], e.head["records"] = e.p.From, e.p.To, e.Records
	default:
		return nil, ErrState
	}
	result, _ := json.Marshal(map[string]any{"records": e.Records})
	if err := s.st.ExecuteApproval(ctx, a.ID, by.ID, string(result), now,
		s.entry(by, "approval.download", a.ID, map[string]any{"records": e.Records})); err != nil {
		return nil, mapErr(err)
	}
	return e, nil
}

// Write writes the export to w as one JSON document, a record a line:
// the header's fields, then the records ("subjects" with "missing", or
// the ledger's "events"), read as they are written so that a large
// export is never held in memory. An error part-way leaves the document
// unfinished, which tells its reader it is incomplete.
func (e *Export) Write(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	hb, _ := json.Marshal(e.head)
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
	switch e.p.Scope {
	case ScopeSubjects:
		type subjectExport struct {
			Subject  consent.SubjectView    `json:"subject"`
			Consents []consent.ConsentEvent `json:"consents"`
		}
		actor := e.by.actor()
		missing := []string{}
		bw.WriteString(`,"subjects":[`)
		for _, id := range e.p.Subjects {
			v, err := e.s.subjects.Subject(ctx, actor, id, "batch_export")
			if fe, ok := fault.As(err); ok && fe.Kind == fault.NotFound {
				missing = append(missing, id)
				continue
			}
			if err != nil {
				return err
			}
			h, err := e.s.subjects.History(ctx, actor, id, 0, historyLimit)
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
	case ScopeLedger:
		bw.WriteString(`,"events":[`)
		err := e.s.st.StreamLedgerEvents(ctx, e.from, e.to, e.maxSeq, func(ev store.ConsentEvent) error { return item(ev) })
		if err != nil {
			return err
		}
		bw.WriteString(`]`)
	}
	if _, err := bw.WriteString("}\n"); err != nil {
		return err
	}
	return bw.Flush()
}
