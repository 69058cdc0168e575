package dsr_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/approval"
	"github.com/custos-privacy/custos/internal/hold"
)

// TestLegalHoldsOnRecordStopErasure: a deletion of a subject that an
// active hold on record covers completes as a restriction, erases
// nothing, and tells the person why in their language, in the words of
// the hold's basis (or as a legal hold, without one); never the
// authority's reference nor the operators' reason. Holds that do not
// cover the subject, or no longer hold, leave the erasure alone.
func TestLegalHoldsOnRecordStopErasure(t *testing.T) {
	start := time.Date(2026, 5, 11, 10, 0, 0, 0, time.UTC)
	later := start.Add(time.Hour)
	tests := []struct {
		name   string
		holds  []hold.Input
		expire bool // the clock passes the holds' expiry before the deletion
		held   bool
		want   map[string]string // by language: a phrase the explanation holds
	}{
		{name: "subject hold with a basis", held: true,
			holds: []hold.Input{{Scope: hold.Scope{SubjectID: "st-hold-1"}, Basis: "court_order"}},
			want:  map[string]string{"zh-CN": "原因是：遵守法院判决、裁定或其他法律程序的规定。", "en": "because of the following: to comply with court judgments"}},
		{name: "subject hold without a basis", held: true,
			holds: []hold.Input{{Scope: hold.Scope{SubjectID: "st-hold-1"}}},
			want:  map[string]string{"zh-CN": "这些信息受法律保全约束", "en": "a legal hold requires us to keep it"}},
		{name: "category hold over everyone's data", held: true,
			holds: []hold.Input{{Scope: hold.Scope{Category: "basic"}, Basis: "authority_request"}},
			want:  map[string]string{"zh-CN": "遵守相关政府机关", "en": "to comply with requests from government authorities"}},
		{name: "another subject's hold",
			holds: []hold.Input{{Scope: hold.Scope{SubjectID: "st-other"}, Basis: "court_order"}},
			want:  map[string]string{"zh-CN": "我们已删除您的个人信息。", "en": "We have erased your personal information."}},
		{name: "expired hold", expire: true,
			holds: []hold.Input{{Scope: hold.Scope{SubjectID: "st-hold-1"}, Basis: "court_order", Expires: &later}},
			want:  map[string]string{"zh-CN": "我们已删除您的个人信息。", "en": "We have erased your personal information."}},
	}
	for _, tt := range tests {
		for _, lang := range []string{"zh-CN", "en"} {
			t.Run(tt.name+"/"+lang, func(t *testing.T) {
				e := newEnv(t, starterManifest, start)
				holds := hold.New(e.st, hold.Options{Now: e.clock.Now})
				e.subject("st-hold-1", "held@example.com", "", nil)
				placed := map[string]bool{}
				for _, in := range tt.holds {
					in.Reason, in.Authority = "Wage dispute of the staff member", "(2026) Hu 0115 Min Chu 12345"
					h, err := holds.Place(e.ctx, hold.Operator{ID: "op_a", Role: "operator", Place: "test"}, in)
					if err != nil {
						t.Fatal(err)
					}
					placed[h.ID] = true
				}
				if tt.expire {
					e.clock.Set(later.Add(time.Minute))
				}
				v := e.submitOperator(map[string]any{"type": "deletion", "subject_id": "st-hold-1", "language": lang})
				e.act(v.ID, "approve", nil)
				done := e.act(v.ID, "complete", map[string]string{})
				if done.State != "completed" {
					t.Fatalf("state = %s", done.State)
				}
				if !strings.Contains(done.Explanation, tt.want[lang]) {
					t.Errorf("explanation %q lacks %q", done.Explanation, tt.want[lang])
				}
				for _, secret := range []string{"Hu 0115", "Wage dispute", "hl_"} {
					if strings.Contains(done.Explanation, secret) {
						t.Errorf("the person is told %q: %q", secret, done.Explanation)
					}
				}
				sub, err := e.st.Subject(e.ctx, "st-hold-1")
				if err != nil {
					t.Fatal(err)
				}
				if erased := len(sub.Identities) == 0; erased == tt.held {
					t.Errorf("identities kept: %d; held %v", len(sub.Identities), tt.held)
				}
				if sub.Restricted != tt.held {
					t.Errorf("restricted = %v, want %v", sub.Restricted, tt.held)
				}
				note := lastNote(done)
				if tt.held {
					for id := range placed {
						if !strings.Contains(note, id) {
							t.Errorf("operators' summary %q does not name hold %s", note, id)
						}
					}
				}
			})
		}
	}
}

// TestLiftedHoldLetsErasureThrough: a held subject's deletion completes
// as a restriction; the operator who placed the hold cannot lift it
// alone; once a second operator approves the lift, a new deletion erases.
func TestLiftedHoldLetsErasureThrough(t *testing.T) {
	e := newEnv(t, starterManifest, time.Date(2026, 5, 11, 10, 0, 0, 0, time.UTC))
	holds := hold.New(e.st, hold.Options{Now: e.clock.Now})
	approvals := approval.New(e.st, approval.Options{Now: e.clock.Now})
	first := hold.Operator{ID: "op_a", Role: "operator", Place: "test"}
	e.subject("st-hold-2", "held2@example.com", "", nil)
	h, err := holds.Place(e.ctx, first, hold.Input{Scope: hold.Scope{SubjectID: "st-hold-2"}, Reason: "litigation", Authority: "case 7", Basis: "dispute"})
	if err != nil {
		t.Fatal(err)
	}
	deletion := func() (string, int) {
		t.Helper()
		v := e.submitOperator(map[string]any{"type": "deletion", "subject_id": "st-hold-2", "language": "en"})
		e.act(v.ID, "approve", nil)
		done := e.act(v.ID, "complete", map[string]string{})
		sub, err := e.st.Subject(e.ctx, "st-hold-2")
		if err != nil {
			t.Fatal(err)
		}
		return done.Explanation, len(sub.Identities)
	}
	if told, kept := deletion(); kept == 0 || !strings.Contains(told, "We cannot delete your personal information yet") {
		t.Fatalf("under the hold: told %q, %d identities kept", told, kept)
	}
	ap, err := holds.RequestLift(e.ctx, first, h.ID, "the dispute was settled")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holds.RequestLift(e.ctx, first, h.ID, "again"); err != hold.ErrLiftPending {
		t.Errorf("a second lift request: %v, want ErrLiftPending", err)
	}
	if _, err := approvals.Decide(e.ctx, approval.Operator{ID: "op_a", Role: "operator", Place: "test"}, ap, true, ""); err != approval.ErrSelfApproval {
		t.Errorf("lift approved by its requester: %v, want ErrSelfApproval", err)
	}
	if got, _ := holds.Get(e.ctx, h.ID); !got.Active(e.clock.Now()) {
		t.Fatal("the hold was lifted without a second operator")
	}
	a, err := approvals.Decide(e.ctx, approval.Operator{ID: "op_b", Role: "admin", Place: "test"}, ap, true, "settled")
	if err != nil {
		t.Fatal(err)
	}
	if a.State != approval.StateExecuted || a.Params.Hold != h.ID {
		t.Errorf("lift approval = %+v", a)
	}
	got, err := holds.Get(e.ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Active(e.clock.Now()) || got.LiftedBy != "op_b" || got.LiftedAt == nil {
		t.Errorf("lifted hold = %+v", got)
	}
	if told, kept := deletion(); kept != 0 || !strings.Contains(told, "We have erased your personal information.") {
		t.Errorf("after the lift: told %q, %d identities kept", told, kept)
	}
}

// TestHeldCancellationCarriedOutAsRestriction: an account cancellation
// that the scheduler carries out after its cooling-off period meets a
// hold placed meanwhile, and completes as a restriction too.
func TestHeldCancellationCarriedOutAsRestriction(t *testing.T) {
	e := newEnv(t, starterManifest, time.Date(2026, 5, 11, 10, 0, 0, 0, time.UTC))
	holds := hold.New(e.st, hold.Options{Now: e.clock.Now})
	e.subject("st-hold-3", "held3@example.com", "", nil)
	v := e.submitOperator(map[string]any{"type": "cancel_account", "subject_id": "st-hold-3", "language": "zh-CN"})
	e.act(v.ID, "approve", nil)
	scheduled := e.act(v.ID, "complete", map[string]string{})
	if scheduled.EffectiveAt.IsZero() {
		t.Fatalf("the cancellation was not scheduled: %+v", scheduled)
	}
	if _, err := holds.Place(e.ctx, hold.Operator{ID: "op_a", Role: "admin", Place: "test"},
		hold.Input{Scope: hold.Scope{SubjectID: "st-hold-3"}, Reason: "audit", Authority: "tax office", Basis: "accounting"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(scheduled.EffectiveAt.Add(time.Hour))
	if n, err := e.req.RunDue(e.ctx); err != nil || n != 1 {
		t.Fatalf("RunDue = %d, %v", n, err)
	}
	done := e.get(v.ID)
	if want := "原因是：为履行会计、税务等法定记录保存义务。"; done.State != "completed" || !strings.Contains(done.Explanation, want) {
		t.Errorf("cancellation carried out: %s %q, want completed with %q", done.State, done.Explanation, want)
	}
	sub, err := e.st.Subject(e.ctx, "st-hold-3")
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Identities) == 0 || !sub.Restricted {
		t.Errorf("held subject after the cancellation: %d identities, restricted %v", len(sub.Identities), sub.Restricted)
	}
}
