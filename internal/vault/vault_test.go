package vault_test

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/examples"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/keystore/keystoretest"
	"github.com/custos-privacy/custos/internal/seal"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
	"github.com/custos-privacy/custos/internal/testdb"
	"github.com/custos-privacy/custos/internal/vault"
)

// env is the vault of the starter manifest (field email, category
// basic.email: read in clear by a service for account_registration and
// marketing, by an operator for customer_support) on a real store and key
// store, with the consent service as its decision point.
type env struct {
	st    *store.Store
	keys  *keystore.Store
	svc   *consent.Service
	vault *vault.Service
}

var (
	system   = audit.System("test")
	service  = audit.Actor{ID: "k_service", Role: "service", Place: "10.0.0.7 custos.internal"}
	operator = audit.Actor{ID: "k_operator", Role: "operator", Place: "10.0.0.8 custos.internal"}
	admin    = audit.Actor{ID: "k_admin", Role: "admin", Place: "10.0.0.9 custos.internal"}
)

const noticeHash = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

func newEnv(t *testing.T, dsn string) *env {
	t.Helper()
	return newEnvOf(t, dsn, examples.Starter, time.Now)
}

// newEnvOf is newEnv with the manifest src in force and the vault and the
// decision point on the clock now.
func newEnvOf(t *testing.T, dsn string, src []byte, now func() time.Time) *env {
	t.Helper()
	ctx := t.Context()
	key := make([]byte, 32)
	rand.Read(key)
	st := storetest.Open(t, dsn, store.Options{AuditKey: key})
	ks := keystoretest.New(t, nil)
	if keystore.IsPostgres(dsn) {
		// The keys apart from the data, on the same kind of database.
		raw, err := seal.GenerateKeyset()
		if err != nil {
			t.Fatal(err)
		}
		kek, err := seal.New(raw)
		if err != nil {
			t.Fatal(err)
		}
		if ks, err = keystore.Open(ctx, testdb.Postgres(t), kek, keystore.Options{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ks.Close() })
	}
	h, _ := identity.NewHasher(key)
	svc, err := consent.New(ctx, st, consent.Options{Hasher: h, Keys: ks, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Publish(ctx, system, "starter", src); err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(st, svc, vault.Options{Keys: ks, TokenKey: key, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, keys: ks, svc: svc, vault: v}
}

// subject registers an adult who granted marketing and, if withdrawn,
// withdrew it again.
func (e *env) subject(t *testing.T, id string, withdrawn bool) {
	t.Helper()
	ctx := t.Context()
	if _, err := e.svc.CreateSubject(ctx, system, consent.SubjectInput{ID: id, BirthDate: "1990-01-02"}); err != nil {
		t.Fatal(err)
	}
	in := consent.ConsentInput{Grant: []string{"marketing"}, Method: "api", Language: "en", NoticeHash: noticeHash}
	if _, err := e.svc.Record(ctx, system, id, in); err != nil {
		t.Fatal(err)
	}
	if withdrawn {
		if _, err := e.svc.Record(ctx, system, id, consent.ConsentInput{Withdraw: []string{"marketing"}, Method: "api", Language: "en"}); err != nil {
			t.Fatal(err)
		}
	}
}

// reads lists the vault.read entries of the audit trail.
func (e *env) reads(t *testing.T) []audit.Entry {
	t.Helper()
	return e.entries(t, vault.ActionRead)
}

func code(err error) (int, string) {
	if fe, ok := fault.As(err); ok {
		return fault.Status(fe.Kind), fe.Code
	}
	return 0, ""
}

// TestScenarios: who reads what, for which purpose, on both databases.
func TestScenarios(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ctx := t.Context()
		e.subject(t, "u-1", false)
		e.subject(t, "u-2", true)
		e.subject(t, "u-3", false)
		const given, kept, masked = " Li.Na@Example.com", "li.na@example.com", "l***@example.com"
		w1, err := e.vault.Put(ctx, service, "u-1", "email", given)
		if err != nil {
			t.Fatal(err)
		}
		w2, err := e.vault.Put(ctx, service, "u-2", "email", "LI.NA@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(w1.Token, "vt_") || len(w1.Token) != 35 || w1.Token != w2.Token {
			t.Errorf("tokens %q and %q: want one vt_ token for one address however written", w1.Token, w2.Token)
		}
		if w3, _ := e.vault.Put(ctx, service, "u-3", "email", "someone.else@example.com"); w3.Token == w1.Token {
			t.Errorf("another address has the same token %q", w3.Token)
		}
		allowed := []string{"account_registration", "payments", "customer_support", "marketing"} // in the order the services collect it

		for _, tc := range []struct {
			name             string
			who              audit.Actor
			subject, purpose string
			status           int // 0: the value is read
			code             string
			want             string // what the value reads as
			allowed          []string
		}{
			{name: "the role the manifest names reads in clear", who: service, subject: "u-1", purpose: "account_registration", want: kept},
			{name: "same purpose, another role: masked", who: operator, subject: "u-1", purpose: "account_registration", want: masked},
			{name: "an admin is not every role: masked", who: admin, subject: "u-1", purpose: "account_registration", want: masked},
			{name: "the operator's own purpose: clear", who: operator, subject: "u-1", purpose: "customer_support", want: kept},
			{name: "the service for the operator's purpose: masked", who: service, subject: "u-1", purpose: "customer_support", want: masked},
			{name: "consent granted: clear", who: service, subject: "u-1", purpose: "marketing", want: kept},
			{name: "consent withdrawn: refused", who: service, subject: "u-2", purpose: "marketing", status: 403, code: "not_allowed"},
			{name: "a purpose the category is not collected for", who: service, subject: "u-1", purpose: "analytics", status: 422, code: "purpose_not_allowed", allowed: allowed},
			{name: "no purpose", who: service, subject: "u-1", purpose: "", status: 422, code: "purpose_required", allowed: allowed},
			{name: "unknown subject", who: service, subject: "u-404", purpose: "account_registration", status: 404, code: "subject_not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := e.vault.Get(ctx, tc.who, tc.subject, "email", tc.purpose)
				if tc.status != 0 {
					status, c := code(err)
					fe, _ := fault.As(err)
					if status != tc.status || c != tc.code {
						t.Fatalf("Get = %+v, %v; want %d %s", got, err, tc.status, tc.code)
					}
					if d := cmp.Diff(tc.allowed, fe.Allowed); d != "" {
						t.Errorf("allowed (-want +got):\n%s", d)
					}
					if strings.Contains(err.Error(), "li.na") || got.Value != "" {
						t.Errorf("a refusal carries the value: %v, %+v", err, got)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				want := vault.Value{SubjectID: tc.subject, Field: "email", Value: tc.want, Masked: tc.want != kept, Token: w1.Token, Purpose: tc.purpose, UpdatedAt: got.UpdatedAt}
				if d := cmp.Diff(want, got); d != "" || got.UpdatedAt.IsZero() {
					t.Errorf("Get (-want +got):\n%s", d)
				}
			})
		}
		if _, err := e.vault.Get(ctx, service, "u-1", "mobile_number", "account_registration"); !is(err, 404, "unknown_vault_field") {
			t.Errorf("an undeclared field: %v", err)
		}
		if _, err := e.vault.Put(ctx, service, "u-1", "email", "not an address"); !is(err, 422, "invalid_value") || strings.Contains(err.Error(), "not an address") {
			t.Errorf("Put of a value that is no email address: %v", err)
		}

		// One entry per read that reached a decision: who, role, place,
		// purpose, field and what was shown; never the value.
		type read struct{ Actor, Role, Place, Purpose, Outcome, Detail string }
		var got []read
		for _, en := range e.reads(t) {
			got = append(got, read{en.Actor, en.Role, en.Place, en.Purpose, en.Outcome, en.Detail})
			if en.Object != "subject:u-1" && en.Object != "subject:u-2" || strings.Contains(en.Detail, "li.na") {
				t.Errorf("entry %+v", en)
			}
		}
		want := []read{
			{"k_service", "service", service.Place, "account_registration", "ok", `{"field":"email","shown":"clear"}`},
			{"k_operator", "operator", operator.Place, "account_registration", "ok", `{"field":"email","shown":"masked"}`},
			{"k_admin", "admin", admin.Place, "account_registration", "ok", `{"field":"email","shown":"masked"}`},
			{"k_operator", "operator", operator.Place, "customer_support", "ok", `{"field":"email","shown":"clear"}`},
			{"k_service", "service", service.Place, "customer_support", "ok", `{"field":"email","shown":"masked"}`},
			{"k_service", "service", service.Place, "marketing", "ok", `{"field":"email","shown":"clear"}`},
			{"k_service", "service", service.Place, "marketing", "denied", `{"field":"email","reason":"withdrawn"}`},
			{"k_service", "service", service.Place, "analytics", "denied", `{"field":"email","reason":"purpose_not_allowed"}`},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("vault.read entries (-want +got):\n%s", d)
		}

		// Deleting is audited and leaves nothing to read; deleting again succeeds.
		if err := e.vault.Delete(ctx, operator, "u-3", "email"); err != nil {
			t.Fatal(err)
		}
		if err := e.vault.Delete(ctx, operator, "u-3", "email"); err != nil {
			t.Errorf("a second delete: %v", err)
		}
		if _, err := e.vault.Get(ctx, service, "u-3", "email", "account_registration"); !is(err, 404, "vault_value_not_found") {
			t.Errorf("a deleted value: %v", err)
		}
	})
}

func is(err error, status int, c string) bool {
	s, got := code(err)
	return s == status && got == c
}

// TestErasure: once a subject is erased nothing of their vault is
// readable — not through the vault, not from a copy of the row taken
// before (a backup) — and nothing new is kept for them.
func TestErasure(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ctx := t.Context()
		e.subject(t, "u-1", false)
		e.subject(t, "u-2", false)
		for _, id := range []string{"u-1", "u-2"} {
			if _, err := e.vault.Put(ctx, service, id, "email", id+"@example.com"); err != nil {
				t.Fatal(err)
			}
		}
		backup, err := e.st.VaultValue(ctx, "u-1", "email")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.st.Submit(ctx, &store.Write{Fn: e.st.EraseSubjectFn("u-1", e.keys.Destroy)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.vault.Get(ctx, service, "u-1", "email", "account_registration"); !is(err, 410, "subject_erased") {
			t.Errorf("Get after erasure: %v, want 410 subject_erased", err)
		}
		if _, err := e.vault.Put(ctx, service, "u-1", "email", "again@example.com"); !is(err, 410, "subject_erased") {
			t.Errorf("Put after erasure: %v, want 410 subject_erased", err)
		}
		if pt, err := e.keys.Open(ctx, keystore.Subject("u-1"), backup.Sealed, []byte("vault\x00u-1\x00email")); !errors.Is(err, keystore.ErrDestroyed) || pt != nil {
			t.Errorf("the row as a backup kept it opens: %q, %v; want ErrDestroyed", pt, err)
		}
		// Another person's value is untouched.
		got, err := e.vault.Get(ctx, service, "u-2", "email", "account_registration")
		if err != nil || got.Value != "u-2@example.com" {
			t.Errorf("u-2 after u-1's erasure: %+v, %v", got, err)
		}
	})
}

// TestNewRefuses: the vault does not start without what it seals with.
func TestNewRefuses(t *testing.T) {
	ks := keystoretest.New(t, nil)
	if _, err := vault.New(nil, nil, vault.Options{TokenKey: make([]byte, 32)}); err == nil {
		t.Error("New without a key store succeeded")
	}
	if _, err := vault.New(nil, nil, vault.Options{Keys: ks, TokenKey: make([]byte, 8)}); err == nil {
		t.Error("New with a short token key succeeded")
	}
}

// TestExport: the person's own export opens every value kept for them,
// in clear whatever the manifest says of reads, also of a field a later
// policy no longer declares; a value whose key is gone is left out
// without failing the export; the opening is audited with the request and
// the fields, never the values.
func TestExport(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ctx := t.Context()
		for _, id := range []string{"u-1", "u-2", "u-3"} {
			e.subject(t, id, id == "u-1")
		}
		w, err := e.vault.Put(ctx, service, "u-1", "email", " Li.Na@Example.com")
		if err != nil {
			t.Fatal(err)
		}
		at := w.UpdatedAt.Truncate(time.Microsecond) // as the store keeps it
		// A field an earlier policy declared, kept all the same.
		old, err := e.keys.Seal(ctx, keystore.Subject("u-1"), []byte("+8613800138000"), []byte("vault\x00u-1\x00old_phone"))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.st.PutVault(ctx, store.VaultValue{SubjectID: "u-1", Field: "old_phone", Sealed: old, Token: "vt_old", UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.vault.Put(ctx, service, "u-3", "email", "u-3@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.keys.Destroy(ctx, keystore.Subject("u-3")); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			name, subject string
			want          []vault.Exported
			status        int
			code          string
			detail        string // of the vault.export entry; "" for none
		}{
			{name: "every field in clear, also one no longer declared", subject: "u-1", want: []vault.Exported{
				{Field: "email", Category: "basic.email", Value: "li.na@example.com", UpdatedAt: at},
				{Field: "old_phone", Value: "+8613800138000", UpdatedAt: at},
			}, detail: `{"fields":["email","old_phone"],"request":"rq_1"}`},
			{name: "nothing kept", subject: "u-2"},
			{name: "key destroyed: left out", subject: "u-3", want: []vault.Exported{}, detail: `{"fields":[],"request":"rq_1","unreadable":["email"]}`},
			{name: "unknown subject", subject: "u-404", status: 404, code: "subject_not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := len(e.entries(t, vault.ActionExport))
				got, err := e.vault.Export(ctx, system, tc.subject, "rq_1")
				if tc.status != 0 {
					if !is(err, tc.status, tc.code) {
						t.Fatalf("Export = %+v, %v; want %d %s", got, err, tc.status, tc.code)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Errorf("Export (-want +got):\n%s", d)
				}
				added := e.entries(t, vault.ActionExport)[before:]
				switch {
				case tc.detail == "" && len(added) != 0:
					t.Errorf("entries %+v, want none when nothing is kept", added)
				case tc.detail != "" && (len(added) != 1 || added[0].Detail != tc.detail || added[0].Object != "subject:"+tc.subject ||
					added[0].Purpose != "rights_request" || added[0].Actor != system.ID):
					t.Errorf("entries %+v, want one for subject:%s with detail %s", added, tc.subject, tc.detail)
				}
			})
		}
	})
}

// entries lists the audit entries of action.
func (e *env) entries(t *testing.T, action string) []audit.Entry {
	t.Helper()
	es, err := e.st.AuditEntries(t.Context(), store.AuditFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, en := range es {
		if en.Action == action {
			out = append(out, en)
		}
	}
	return out
}
