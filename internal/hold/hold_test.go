package hold_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestActive(t *testing.T) {
	now := *at("2026-10-01T12:00:00Z")
	tests := []struct {
		name string
		h    hold.Hold
		want bool
	}{
		{"open", hold.Hold{}, true},
		{"expires later", hold.Hold{Expires: at("2026-10-01T12:00:01Z")}, true},
		{"expires now", hold.Hold{Expires: &now}, false},
		{"expired", hold.Hold{Expires: at("2026-09-01T00:00:00Z")}, false},
		{"lifted", hold.Hold{LiftedAt: at("2026-09-01T00:00:00Z")}, false},
	}
	for _, tt := range tests {
		if got := tt.h.Active(now); got != tt.want {
			t.Errorf("%s: Active = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCoversCategory(t *testing.T) {
	tests := []struct {
		scope, cat string
		want       bool
	}{
		{"", "basic.phone", true},
		{"basic", "basic", true},
		{"basic", "basic.phone", true},
		{"basic.phone", "basic", false},
		{"basic", "basics", false},
		{"basic", "financial.account", false},
	}
	for _, tt := range tests {
		if got := (hold.Scope{Category: tt.scope}).CoversCategory(tt.cat); got != tt.want {
			t.Errorf("Scope{Category: %q}.CoversCategory(%q) = %v, want %v", tt.scope, tt.cat, got, tt.want)
		}
	}
}

func TestScopeKind(t *testing.T) {
	s := hold.Scope{SubjectID: "u-1", Datastore: "crm", Collection: "orders", Category: "basic", To: at("2026-01-01T00:00:00Z")}
	if got := s.Kind(); got != "subject+datastore+collection+category+period" {
		t.Errorf("Kind = %q", got)
	}
	if !(hold.Scope{}).Empty() || s.Empty() {
		t.Error("Empty disagrees with the fields")
	}
}

type env struct {
	ctx   context.Context
	st    *store.Store
	clock *clocktest.Clock
	svc   *hold.Service
}

func newEnv(t *testing.T) *env {
	st := storetest.SQLite(t)
	c := clocktest.New(*at("2026-10-01T12:00:00Z"))
	return &env{ctx: context.Background(), st: st, clock: c, svc: hold.New(st, hold.Options{Now: c.Now})}
}

var (
	op      = hold.Operator{ID: "op_a", Role: "operator", Place: "test"}
	auditor = hold.Operator{ID: "op_c", Role: "auditor", Place: "test"}
)

// TestPlaceChecks: a hold is placed only with a scope that narrows, a
// reason and an authority, a sensible period and expiry; the refusal
// names the field and never repeats what was typed.
func TestPlaceChecks(t *testing.T) {
	e := newEnv(t)
	ok := hold.Input{Scope: hold.Scope{SubjectID: "u-1"}, Reason: "litigation", Authority: "case 1"}
	tests := []struct {
		name  string
		by    hold.Operator
		edit  func(in *hold.Input)
		code  string
		field string
	}{
		{name: "no scope", edit: func(in *hold.Input) { in.Scope = hold.Scope{} }, code: "scope_required", field: "scope"},
		{name: "collection without datastore", edit: func(in *hold.Input) { in.Scope.Collection = "orders" }, code: "invalid_scope", field: "scope.collection"},
		{name: "period backwards", edit: func(in *hold.Input) {
			in.Scope.From, in.Scope.To = at("2026-02-01T00:00:00Z"), at("2026-01-01T00:00:00Z")
		}, code: "invalid_period", field: "scope.to"},
		{name: "subject id is an email", edit: func(in *hold.Input) { in.Scope.SubjectID = "li@example.com" }, code: "subject_id_is_pi", field: "subject_id"},
		{name: "datastore name", edit: func(in *hold.Input) { in.Scope.Datastore = "crm db" }, code: "invalid_name", field: "scope.datastore"},
		{name: "no reason", edit: func(in *hold.Input) { in.Reason = "  " }, code: "reason_required", field: "reason"},
		{name: "reason too long", edit: func(in *hold.Input) { in.Reason = strings.Repeat("x", hold.MaxReason+1) }, code: "invalid_reason", field: "reason"},
		{name: "reason with a control character", edit: func(in *hold.Input) { in.Reason = "a\x00b" }, code: "invalid_reason", field: "reason"},
		{name: "no authority", edit: func(in *hold.Input) { in.Authority = "" }, code: "authority_required", field: "authority"},
		{name: "authority over two lines", edit: func(in *hold.Input) { in.Authority = "case\n1" }, code: "invalid_authority", field: "authority"},
		{name: "expiry passed", edit: func(in *hold.Input) { in.Expires = at("2026-10-01T11:00:00Z") }, code: "invalid_expiry", field: "expires"},
		{name: "auditor", by: auditor, edit: func(*hold.Input) {}, code: "role_forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.edit(&in)
			by := tt.by
			if by.ID == "" {
				by = op
			}
			_, err := e.svc.Place(e.ctx, by, in)
			fe, isFault := fault.As(err)
			if !isFault || fe.Code != tt.code || fe.Field != tt.field {
				t.Fatalf("Place = %v, want %s at %q", err, tt.code, tt.field)
			}
			if strings.Contains(fe.Message, "li@example.com") {
				t.Errorf("the refusal repeats the subject id: %s", fe.Message)
			}
		})
	}
	if hs, err := e.svc.List(e.ctx, true); err != nil || len(hs) != 0 {
		t.Errorf("refused holds were kept: %v, %v", hs, err)
	}
}

// TestPlaceListLift: holds are kept as placed and listed active or all;
// auditors read but cannot ask to lift; a lift asked for is an approval
// and the hold holds until it is decided; every step is audited without
// the subject, the reason or the authority.
func TestPlaceListLift(t *testing.T) {
	e := newEnv(t)
	in := hold.Input{Scope: hold.Scope{SubjectID: "u-1", Category: "basic"}, Reason: " litigation ", Authority: "case 1", Expires: at("2026-11-01T00:00:00Z")}
	h, err := e.svc.Place(e.ctx, op, in)
	if err != nil {
		t.Fatal(err)
	}
	want := hold.Hold{ID: h.ID, Scope: in.Scope, Reason: "litigation", Authority: "case 1", PlacedBy: "op_a", PlacedAt: *at("2026-10-01T12:00:00Z"), Expires: in.Expires}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("placed hold (-want +got):\n%s", diff)
	}
	other, err := e.svc.Place(e.ctx, op, hold.Input{Scope: hold.Scope{Datastore: "crm"}, Reason: "audit", Authority: "tax office", Expires: at("2026-10-02T00:00:00Z")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		list func() ([]hold.Hold, error)
		want []string
	}{
		{"active", func() ([]hold.Hold, error) { return e.svc.List(e.ctx, false) }, []string{other.ID, h.ID}},
		{"for u-1", func() ([]hold.Hold, error) { return e.svc.ForSubject(e.ctx, "u-1", e.clock.Now()) }, []string{other.ID, h.ID}},
		{"for u-2", func() ([]hold.Hold, error) { return e.svc.ForSubject(e.ctx, "u-2", e.clock.Now()) }, []string{other.ID}},
		{"active in a week", func() ([]hold.Hold, error) { return e.svc.Active(e.ctx, e.clock.Now().AddDate(0, 0, 7)) }, []string{h.ID}},
	} {
		hs, err := c.list()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range hs {
			got = append(got, x.ID)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	if _, err := e.svc.RequestLift(e.ctx, auditor, h.ID, "done"); !errors.Is(err, hold.ErrRole) {
		t.Errorf("auditor asks to lift: %v, want ErrRole", err)
	}
	if _, err := e.svc.RequestLift(e.ctx, op, "hl_none", "done"); !errors.Is(err, hold.ErrNotFound) {
		t.Errorf("lift of an unknown hold: %v, want ErrNotFound", err)
	}
	ap, err := e.svc.RequestLift(e.ctx, op, h.ID, "the case was closed")
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.st.Approval(e.ctx, ap)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != hold.KindLift || a.State != store.ApprovalPending || a.RequestedBy != "op_a" || !strings.Contains(a.Params, h.ID) {
		t.Errorf("lift approval = %+v", a)
	}
	if got, _ := e.svc.Get(e.ctx, h.ID); !got.Active(e.clock.Now()) {
		t.Error("asking to lift lifted the hold")
	}
	e.clock.Set(*at("2026-10-03T00:00:00Z"))
	if _, err := e.svc.RequestLift(e.ctx, op, other.ID, "expired"); !errors.Is(err, hold.ErrNotActive) {
		t.Errorf("lift of an expired hold: %v, want ErrNotActive", err)
	}
	es, err := e.st.AuditEntries(e.ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, x := range es {
		if !strings.HasPrefix(x.Object, "hold:") {
			continue
		}
		actions = append(actions, x.Action+" "+x.Object)
		for _, secret := range []string{"u-1", "litigation", "case 1", "tax office", "closed"} {
			if strings.Contains(x.Detail, secret) {
				t.Errorf("audit entry %s carries %q: %s", x.Action, secret, x.Detail)
			}
		}
		if x.Action == "hold.place" && x.Object == "hold:"+h.ID && !strings.Contains(x.Detail, `"scope":"subject+category"`) {
			t.Errorf("hold.place detail = %s", x.Detail)
		}
	}
	wantActions := []string{"hold.place hold:" + h.ID, "hold.place hold:" + other.ID, "hold.lift_request hold:" + h.ID}
	if diff := cmp.Diff(wantActions, actions, sortStrings); diff != "" {
		t.Errorf("audited steps (-want +got):\n%s", diff)
	}
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func TestRetention(t *testing.T) {
	now := *at("2026-10-01T12:00:00Z")
	lifted := at("2026-09-01T00:00:00Z")
	tests := []struct {
		name     string
		holds    []hold.Hold
		subjects []string
		whole    bool
	}{
		{"none", nil, nil, false},
		{"subject holds of the category and above it", []hold.Hold{
			{Scope: hold.Scope{SubjectID: "u-1", Category: "basic"}},
			{Scope: hold.Scope{SubjectID: "u-2"}},
			{Scope: hold.Scope{SubjectID: "u-3", Category: "financial"}},
			{Scope: hold.Scope{SubjectID: "u-4"}, LiftedAt: lifted},
			{Scope: hold.Scope{SubjectID: "u-5", Datastore: "crm"}},
		}, []string{"u-1", "u-2"}, false},
		{"a category hold over everyone", []hold.Hold{{Scope: hold.Scope{Category: "basic.email"}}}, nil, true},
		{"a period hold over everyone", []hold.Hold{{Scope: hold.Scope{From: lifted}}}, nil, true},
		{"an expired hold over everyone", []hold.Hold{{Scope: hold.Scope{Category: "basic"}, Expires: lifted}}, nil, false},
	}
	for _, tt := range tests {
		subjects, whole := hold.Retention(tt.holds, "basic.email", now)
		if diff := cmp.Diff(tt.subjects, subjects); diff != "" || whole != tt.whole {
			t.Errorf("%s: whole %v, want %v; subjects (-want +got):\n%s", tt.name, whole, tt.whole, diff)
		}
	}
}

// TestTrail: what holds keep of the audit trail's entries past a cutoff.
// A hold's period keeps entries from its start on; a hold without a start
// keeps them all; periods starting after the cutoff, datastore holds,
// lifted and expired ones keep none of them.
func TestTrail(t *testing.T) {
	now := *at("2026-10-01T12:00:00Z")
	lifted := at("2026-09-01T00:00:00Z")
	early, late := at("2025-03-01T00:00:00Z"), at("2026-01-01T00:00:00Z")
	cutoff := *at("2026-06-01T00:00:00Z")
	tests := []struct {
		name  string
		holds []hold.Hold
		from  *time.Time
		whole bool
		n     int
	}{
		{"none", nil, nil, false, 0},
		{"a datastore hold covers the organisation's databases only", []hold.Hold{
			{Scope: hold.Scope{Datastore: "crm"}},
			{Scope: hold.Scope{SubjectID: "u-1", Datastore: "crm", Collection: "orders"}},
		}, nil, false, 0},
		{"lifted and expired holds", []hold.Hold{
			{Scope: hold.Scope{SubjectID: "u-1"}, LiftedAt: lifted},
			{Scope: hold.Scope{Category: "basic"}, Expires: lifted},
		}, nil, false, 0},
		{"a hold on a person keeps it whole", []hold.Hold{{Scope: hold.Scope{SubjectID: "u-1"}}}, nil, true, 1},
		{"a category hold keeps it whole", []hold.Hold{{Scope: hold.Scope{Category: "basic"}}}, nil, true, 1},
		{"a period without a start keeps it whole", []hold.Hold{{Scope: hold.Scope{To: late}}}, nil, true, 1},
		{"periods keep from the earliest start", []hold.Hold{
			{Scope: hold.Scope{From: late}},
			{Scope: hold.Scope{SubjectID: "u-1", From: early, To: late}},
			{Scope: hold.Scope{Datastore: "crm"}},
		}, early, false, 2},
		{"a period from after the cutoff keeps none of it", []hold.Hold{
			{Scope: hold.Scope{From: at("2026-07-01T00:00:00Z")}},
			{Scope: hold.Scope{From: late}},
		}, late, false, 1},
		{"a hold without a start outweighs periods", []hold.Hold{
			{Scope: hold.Scope{From: early}},
			{Scope: hold.Scope{SubjectID: "u-2"}},
		}, nil, true, 2},
	}
	for _, tt := range tests {
		from, whole, n := hold.Trail(tt.holds, cutoff, now)
		want := time.Time{}
		if tt.from != nil {
			want = *tt.from
		}
		if !from.Equal(want) || whole != tt.whole || n != tt.n {
			t.Errorf("%s: from %v whole %v n %d; want %v, %v, %d", tt.name, from, whole, n, want, tt.whole, tt.n)
		}
	}
}
