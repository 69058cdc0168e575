package approval_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/approval"
	"github.com/custos-privacy/custos/internal/store"
)

var destroy12 = approval.Input{Kind: approval.KindDestruction, Subjects: []string{"u-1", "u-2"}}

// TestSecondOperator: only a second operator decides. The requester,
// an account whose password the requester set (directly or through a
// chain of accounts), an account that set the requester's password and
// an auditor are refused, the approval stays pending, and each refusal
// by the store is audited with its reason.
func TestSecondOperator(t *testing.T) {
	backends(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		tests := []struct {
			name       string
			requester  string
			decider    string
			approve    bool
			want       string   // fault code, "" for a decision taken
			audited    []string // the approval's audit entries after the attempt
			finalState string
		}{
			{"the requester", "own", "own", true, "self_approval",
				[]string{"approval.request/ok", "approval.approve/denied:self_approval"}, approval.StatePending},
			{"the requester rejecting", "own", "own", false, "self_approval",
				[]string{"approval.request/ok", "approval.reject/denied:self_approval"}, approval.StatePending},
			{"password set by the requester", "admin", "puppet", true, "password_set_by_requester",
				[]string{"approval.request/ok", "approval.approve/denied:password_set_by_requester"}, approval.StatePending},
			{"password set through a chain", "admin", "chain", true, "password_set_by_requester",
				[]string{"approval.request/ok", "approval.approve/denied:password_set_by_requester"}, approval.StatePending},
			{"set the requester's password", "made", "admin", true, "password_set_by_requester",
				[]string{"approval.request/ok", "approval.approve/denied:password_set_by_requester"}, approval.StatePending},
			{"an auditor", "own", "audit", true, "role_forbidden",
				[]string{"approval.request/ok"}, approval.StatePending},
			{"a second operator approves", "admin", "own", true, "",
				[]string{"approval.request/ok", "approval.approve/ok"}, approval.StateApproved},
			{"a second operator rejects", "puppet", "other", false, "",
				[]string{"approval.request/ok", "approval.reject/ok"}, approval.StateRejected},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a := e.ask(tt.requester, approval.Input{Kind: approval.KindExport, Scope: approval.ScopeSubjects, Subjects: []string{"u-1"}})
				got, err := e.svc.Decide(e.ctx, e.ops[tt.decider], a.ID, tt.approve, "checked")
				if code(err) != tt.want {
					t.Fatalf("decision: %q, want %q", code(err), tt.want)
				}
				if diff := cmp.Diff(tt.audited, e.audited(a.ID)); diff != "" {
					t.Errorf("audit trail (-want +got):\n%s", diff)
				}
				now := e.get(a.ID)
				if now.State != tt.finalState {
					t.Errorf("state %s, want %s", now.State, tt.finalState)
				}
				if tt.want == "" && (got.DecidedBy != tt.decider || got.RequestedBy != tt.requester || got.Note != "checked") {
					t.Errorf("decided approval = %+v", got)
				}
			})
		}
		t.Run("decided twice", func(t *testing.T) {
			a := e.ask("own", approval.Input{Kind: approval.KindExport, Scope: approval.ScopeSubjects, Subjects: []string{"u-1"}})
			if _, err := e.svc.Decide(e.ctx, e.ops["other"], a.ID, false, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Decide(e.ctx, e.ops["admin"], a.ID, true, ""); code(err) != "approval_state" {
				t.Errorf("second decision: %q, want approval_state", code(err))
			}
		})
		t.Run("unknown approval", func(t *testing.T) {
			if _, err := e.svc.Decide(e.ctx, e.ops["other"], "ap_nope", true, ""); code(err) != "approval_not_found" {
				t.Errorf("decision on nothing: %q", code(err))
			}
		})
	})
}

// TestRequest: what may be asked for, by whom; the audit trail records
// the request's size, never the subject ids, and a refusal never repeats
// a value that may be personal data.
func TestRequest(t *testing.T) {
	backends(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		today := start.In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
		tomorrow := start.In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 1).Format(time.DateOnly)
		many := make([]string, approval.MaxBatch+1)
		for i := range many {
			many[i] = "u-" + strings.Repeat("x", i%5+1)
		}
		tests := []struct {
			name  string
			user  string
			in    approval.Input
			want  string // fault code, "" for a pending approval
			scope string
		}{
			{"subjects export", "own", approval.Input{Kind: approval.KindExport, Scope: approval.ScopeSubjects, Subjects: []string{"u-1", "u-2"}, Reason: "audit"}, "", approval.ScopeSubjects},
			{"ledger export", "own", approval.Input{Kind: approval.KindExport, Scope: approval.ScopeLedger, From: "2026-01-01", To: today, Reason: "audit"}, "", approval.ScopeLedger},
			{"a destruction is of subjects", "own", approval.Input{Kind: approval.KindDestruction, Scope: approval.ScopeLedger, Subjects: []string{"u-1"}, Reason: "r"}, "", approval.ScopeSubjects},
			{"no reason", "own", approval.Input{Kind: approval.KindExport, Scope: approval.ScopeSubjects, Subjects: []string{"u-1"}, Reason: "  "}, "reason_required", ""},
			{"unknown kind", "own", approval.Input{Kind: "batch_copy", Scope: approval.ScopeSubjects, Subjects: []string{"u-1"}, Reason: "r"}, "invalid_kind", ""},
			{"unknown scope", "own", approval.Input{Kind: approval.KindExport, Scope: "everything", Reason: "r"}, "invalid_scope", ""},
			{"no subjects", "own", approval.Input{Kind: approval.KindDestruction, Reason: "r"}, "invalid_subjects", ""},
			{"too many subjects", "own", approval.Input{Kind: approval.KindDestruction, Subjects: many, Reason: "r"}, "invalid_subjects", ""},
			{"an email for a subject id", "own", approval.Input{Kind: approval.KindDestruction, Subjects: []string{"u-1", "li.na@example.com"}, Reason: "r"}, "invalid_subject", ""},
			{"a period ending tomorrow", "own", approval.Input{Kind: approval.KindExport, Scope: approval.ScopeLedger, From: today, To: tomorrow, Reason: "r"}, "future_period", ""},
			{"a period backwards", "own", approval.Input{Kind: approval.KindExport, Scope: approval.ScopeLedger, From: today, To: "2026-01-01", Reason: "r"}, "invalid_period", ""},
			{"a period not in dates", "own", approval.Input{Kind: approval.KindExport, Scope: approval.ScopeLedger, From: "last week", To: today, Reason: "r"}, "invalid_period", ""},
			{"an auditor", "audit", approval.Input{Kind: approval.KindExport, Scope: approval.ScopeSubjects, Subjects: []string{"u-1"}, Reason: "r"}, "role_forbidden", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a, err := e.svc.Request(e.ctx, e.ops[tt.user], tt.in)
				if code(err) != tt.want {
					t.Fatalf("request: %q, want %q", code(err), tt.want)
				}
				if err != nil {
					if strings.Contains(err.Error(), "li.na") {
						t.Errorf("the refusal repeats personal data: %v", err)
					}
					return
				}
				if a.State != approval.StatePending || a.Params.Scope != tt.scope || a.RequestedBy != tt.user || a.RequesterID != e.ops[tt.user].ID {
					t.Errorf("approval = %+v", a)
				}
				entries, _ := e.st.AuditEntries(e.ctx, store.AuditFilter{Limit: 100000})
				for _, en := range entries {
					if en.Object == "approval:"+a.ID && strings.Contains(en.Detail, "u-1") {
						t.Errorf("the audit entry names subjects: %s", en.Detail)
					}
				}
			})
		}
		list, err := e.svc.List(e.ctx, 0)
		if err != nil || len(list) != 3 {
			t.Fatalf("list: %d approvals, %v; want the 3 accepted", len(list), err)
		}
		if n, err := e.svc.Pending(e.ctx); err != nil || n != 3 {
			t.Errorf("Pending = %d, %v; want 3", n, err)
		}
	})
}

// TestExportExpiry: an approved export may be downloaded until
// ExportValidity after its approval, not from then on; the list says so.
func TestExportExpiry(t *testing.T) {
	backends(t, func(t *testing.T, st *store.Store) {
		tests := []struct {
			name    string
			after   time.Duration
			want    string
			expired bool
		}{
			{"the day it is approved", time.Minute, "", false},
			{"a second before the end", approval.ExportValidity - time.Second, "", false},
			{"at the end", approval.ExportValidity, "approval_expired", true},
			{"a month later", 30 * 24 * time.Hour, "approval_expired", true},
		}
		e := newEnv(t, st)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.clock.Set(start)
				a := e.ask("own", approval.Input{Kind: approval.KindExport, Scope: approval.ScopeSubjects, Subjects: []string{"u-1"}})
				if _, err := e.svc.Decide(e.ctx, e.ops["other"], a.ID, true, ""); err != nil {
					t.Fatal(err)
				}
				e.clock.Advance(tt.after)
				if got := e.get(a.ID); got.Expired != tt.expired {
					t.Errorf("Expired = %v, want %v", got.Expired, tt.expired)
				}
				_, err := e.svc.Download(e.ctx, e.ops["own"], a.ID)
				if code(err) != tt.want {
					t.Errorf("download: %q, want %q", code(err), tt.want)
				}
			})
		}
	})
}
