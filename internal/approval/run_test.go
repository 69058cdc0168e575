package approval_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/approval"
	"github.com/custos-privacy/custos/internal/store"
)

// TestDownloadOnce: only the requester downloads an approved export, and
// only once; the download is audited with its size, and the document
// holds the subjects found and names those missing.
func TestDownloadOnce(t *testing.T) {
	backends(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		a := e.ask("own", approval.Input{Kind: approval.KindExport, Scope: approval.ScopeSubjects, Subjects: []string{"u-1", "u-9", "u-2"}})
		if _, err := e.svc.Download(e.ctx, e.ops["own"], a.ID); code(err) != "approval_state" {
			t.Errorf("download before approval: %q, want approval_state", code(err))
		}
		if _, err := e.svc.Decide(e.ctx, e.ops["other"], a.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		for _, user := range []string{"other", "admin"} {
			if _, err := e.svc.Download(e.ctx, e.ops[user], a.ID); code(err) != "not_requester" {
				t.Errorf("download by %s: %q, want not_requester", user, code(err))
			}
		}
		if _, err := e.svc.Download(e.ctx, e.ops["audit"], a.ID); code(err) != "role_forbidden" {
			t.Errorf("download by an auditor: %q, want role_forbidden", code(err))
		}
		x, err := e.svc.Download(e.ctx, e.ops["own"], a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Download(e.ctx, e.ops["own"], a.ID); code(err) != "approval_state" {
			t.Errorf("second download: %q, want approval_state", code(err))
		}
		var buf bytes.Buffer
		if err := x.Write(e.ctx, &buf); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Approval string
			Scope    string
			Subjects []struct {
				Subject struct {
					ID string `json:"subject_id"`
				}
				Consents []struct{ ID string }
			}
			Missing []string
		}
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("not one JSON document: %v\n%s", err, buf.String())
		}
		var found []string
		for _, s := range doc.Subjects {
			found = append(found, s.Subject.ID+"/"+s.Consents[0].ID)
		}
		if doc.Approval != a.ID || doc.Scope != "subjects" || x.Records != 3 || x.Filename != "custos-export-"+a.ID+".json" {
			t.Errorf("export %s of %s, %d records, file %s", doc.Approval, doc.Scope, x.Records, x.Filename)
		}
		if diff := cmp.Diff([]string{"u-1/ev_u-1", "u-2/ev_u-2"}, found); diff != "" {
			t.Errorf("subjects (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"u-9"}, doc.Missing); diff != "" {
			t.Errorf("missing (-want +got):\n%s", diff)
		}
		if got := e.get(a.ID); got.State != approval.StateExecuted || got.Records != 3 {
			t.Errorf("after the download: %s, %d records", got.State, got.Records)
		}
		want := []string{"approval.request/ok", "approval.approve/ok", "approval.download/ok"}
		if diff := cmp.Diff(want, e.audited(a.ID)); diff != "" {
			t.Errorf("audit trail (-want +got):\n%s", diff)
		}
	})
}

// TestLedgerExport: a ledger export holds the period's events counted
// when the download was counted, both days included, and no event
// recorded after that, even within the period.
func TestLedgerExport(t *testing.T) {
	backends(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		if err := st.CreateSubject(e.ctx, store.Subject{ID: "u-1"}); err != nil {
			t.Fatal(err)
		}
		ev := func(id string, at time.Time) store.ConsentEvent {
			return store.ConsentEvent{ID: id, SubjectID: "u-1", Purpose: "analytics", Action: store.ActionGrant, VersionSeq: 1,
				Method: "api", Language: "en", NoticeHash: "abc", Evidence: "{}", Actor: "test", At: at}
		}
		china := time.FixedZone("CST", 8*3600)
		day := func(d int, hour int) time.Time { return time.Date(2026, 10, d, hour, 0, 0, 0, china) }
		events := []store.ConsentEvent{ev("e_before", day(9, 23)), ev("e_first", day(10, 0)), ev("e_last", day(12, 23)), ev("e_after", day(13, 0))}
		if err := st.AppendConsents(e.ctx, events, nil); err != nil {
			t.Fatal(err)
		}
		a := e.ask("own", approval.Input{Kind: approval.KindExport, Scope: approval.ScopeLedger, From: "2026-10-10", To: "2026-10-12"})
		if _, err := e.svc.Decide(e.ctx, e.ops["other"], a.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		x, err := e.svc.Download(e.ctx, e.ops["own"], a.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Recorded after the count, backdated into the period.
		if err := st.AppendConsents(e.ctx, []store.ConsentEvent{ev("e_late", day(11, 12))}, nil); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := x.Write(e.ctx, &buf); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Records  int64
			From, To string
			Events   []struct{ ID string }
		}
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("not one JSON document: %v\n%s", err, buf.String())
		}
		var got []string
		for _, ev := range doc.Events {
			got = append(got, ev.ID)
		}
		if diff := cmp.Diff([]string{"e_first", "e_last"}, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if doc.Records != 2 || x.Records != 2 || doc.From != "2026-10-10" || doc.To != "2026-10-12" {
			t.Errorf("header: %d records (%d announced), %s to %s", doc.Records, x.Records, doc.From, doc.To)
		}
	})
}

// lossyStore loses the database connection once, when a destruction's
// run records its progress for the nth time.
type lossyStore struct {
	*store.Store
	mu    sync.Mutex
	n     int
	calls int
}

var errLost = errors.New("database connection lost")

func (l *lossyStore) RecordApprovalProgress(ctx context.Context, id, result string) error {
	l.mu.Lock()
	l.calls++
	lose := l.calls == l.n
	l.mu.Unlock()
	if lose {
		return errLost
	}
	return l.Store.RecordApprovalProgress(ctx, id, result)
}

// outcomes lists a destruction's outcomes as subject/request/error.
func outcomes(a approval.Approval) []string {
	var out []string
	for _, o := range a.Outcomes {
		out = append(out, o.Subject+"/"+o.Request+"/"+o.Error)
	}
	return out
}

// TestDestructionResume: an approved destruction runs at once through
// deletion requests; a legal hold is recorded and the run goes on; a run
// that stops half-way leaves the approval approved with what it did, and
// is resumed from where it stopped, then marked executed, once.
func TestDestructionResume(t *testing.T) {
	backends(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.reqs.held["u-3"] = true
		lossy := &lossyStore{Store: st, n: 2}
		svc := e.service(lossy)
		a := e.ask("own", approval.Input{Kind: approval.KindDestruction, Subjects: []string{"u-1", "u-2", "u-3", "u-4"}})
		got, err := svc.Decide(e.ctx, e.ops["other"], a.ID, true, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != approval.StateApproved || got.Running || got.Done() != 1 {
			t.Fatalf("after the stopped run: %s, running %v, %d done", got.State, got.Running, got.Done())
		}
		if _, err := svc.Resume(e.ctx, e.ops["audit"], a.ID); code(err) != "role_forbidden" {
			t.Errorf("resume by an auditor: %q", code(err))
		}
		got, err = svc.Resume(e.ctx, e.ops["admin"], a.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"u-1/rq_u-1/", "u-2/rq_u-2/", "u-3/rq_u-3/legal_hold", "u-4/rq_u-4/"}
		if diff := cmp.Diff(want, outcomes(got)); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if got.State != approval.StateExecuted {
			t.Errorf("after resuming: %s, want executed", got.State)
		}
		// u-2 was erased when the run stopped, before its progress was
		// kept: the resumed run asks again, and finds nothing more.
		if diff := cmp.Diff([]string{"u-1", "u-2", "u-2", "u-4"}, e.reqs.done()); diff != "" {
			t.Errorf("deletions (-want +got):\n%s", diff)
		}
		if _, err := svc.Resume(e.ctx, e.ops["admin"], a.ID); code(err) != "approval_state" {
			t.Errorf("resume of an executed destruction: %q, want approval_state", code(err))
		}
		wantAudit := []string{"approval.request/ok", "approval.approve/ok", "approval.execute/ok"}
		if diff := cmp.Diff(wantAudit, e.audited(a.ID)); diff != "" {
			t.Errorf("audit trail (-want +got):\n%s", diff)
		}
	})
}

// TestDestructionLease: while a run holds a destruction (one that died
// without releasing it, here) nobody resumes it; once the lease has
// passed, anyone who may act does.
func TestDestructionLease(t *testing.T) {
	backends(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		a := e.ask("own", destroy12)
		if err := st.DecideApproval(e.ctx, a.ID, "op_other", true, "", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := st.ClaimApproval(e.ctx, a.ID, e.clock.Now(), e.clock.Now().Add(approval.RunTimeout+time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got := e.get(a.ID); !got.Running {
			t.Error("the list does not show the run in progress")
		}
		if _, err := e.svc.Resume(e.ctx, e.ops["own"], a.ID); code(err) != "approval_state" {
			t.Errorf("resume while a run holds it: %q, want approval_state", code(err))
		}
		e.clock.Advance(approval.RunTimeout + time.Minute)
		got, err := e.svc.Resume(e.ctx, e.ops["own"], a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != approval.StateExecuted || got.Done() != 2 || got.Running {
			t.Errorf("after the lease passed: %s, %d done, running %v", got.State, got.Done(), got.Running)
		}
	})
}

// TestDestructionNeedsRequests: without rights requests a destruction is
// not approved (it could not run), and an export still is.
func TestDestructionNeedsRequests(t *testing.T) {
	backends(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		var none *requestsService // a disabled service, as the server hands it over
		svc := approval.New(st, approval.Options{Requests: none, Now: e.clock.Now})
		d := e.ask("own", destroy12)
		if _, err := svc.Decide(e.ctx, e.ops["other"], d.ID, true, ""); code(err) != "requests_disabled" {
			t.Errorf("approve a destruction: %q, want requests_disabled", code(err))
		}
		if got := e.get(d.ID); got.State != approval.StatePending {
			t.Errorf("the destruction is %s, want still pending", got.State)
		}
		if _, err := svc.Decide(e.ctx, e.ops["other"], d.ID, false, ""); err != nil {
			t.Errorf("reject a destruction: %v", err)
		}
		x := e.ask("own", approval.Input{Kind: approval.KindExport, Scope: approval.ScopeSubjects, Subjects: []string{"u-1"}})
		if _, err := svc.Decide(e.ctx, e.ops["other"], x.ID, true, ""); err != nil {
			t.Errorf("approve an export: %v", err)
		}
		if _, err := svc.Download(e.ctx, e.ops["own"], x.ID); code(err) != "subjects_unavailable" {
			t.Errorf("download without subjects: %q, want subjects_unavailable", code(err))
		}
		if got := e.get(x.ID); got.State != approval.StateApproved {
			t.Errorf("a refused download used the export up: %s", got.State)
		}
	})
}

// requestsService stands for *dsr.Service when rights requests are
// disabled: a nil pointer.
type requestsService = requests
