package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/bench/opadata"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/consent"
)

// TestWorkloads runs every workload briefly: they must complete without
// errors and produce decisions the workload expects.
func TestWorkloads(t *testing.T) {
	ctx := context.Background()
	e, err := NewEnv(ctx, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	w, err := ConsentWrites(ctx, e, 8, 200*time.Millisecond, nil)
	if err != nil || w.Count == 0 || w.Errors != 0 {
		t.Fatalf("ConsentWrites = %+v, %v", w, err)
	}
	d, err := e.Populate(ctx, 20, 200, nil)
	if err != nil {
		t.Fatal(err)
	}
	recipient := func(id string) check.Act { return check.Act{Kind: check.ActRecipient, ID: id} }
	for _, tc := range []struct {
		subject int
		purpose string
		act     check.Act
		want    string
	}{
		{0, "marketing", check.Act{}, "withdrawn"},
		{0, "analytics", check.Act{}, "consent"},
		{1, "account_registration", check.Act{}, "legal_basis:contract"},
		{1, "push_notifications", recipient("push-provider"), "consent"},
		{1, "analytics", recipient("email-provider"), "not_declared"},
		{1, "note_publishing", check.Act{Kind: check.ActDisclosure}, "separate_consent_required"},
		{2, "advertising", recipient("ad-measurement"), "separate_consent_required"},
		{3, "advertising", recipient("ad-measurement"), "separate_consent"},
		{3, "sync_acceleration", check.Act{Kind: check.ActTransfer, ID: "sg-sync-relay"}, "separate_consent"},
		{3, "note_publishing", check.Act{Kind: check.ActDisclosure}, "separate_consent"},
		{4, "analytics", check.Act{}, "restricted"},
		{4, "legal_compliance", check.Act{}, "legal_basis:legal_obligation"},
		{5, "analytics", check.Act{}, "consent"}, // unknown age, taken for an adult
		{6, "analytics", check.Act{}, "consent"},
		{6, "account_registration", check.Act{}, "legal_basis:contract"}, // the guardian accepted the policy
		{6, "marketing", check.Act{}, "guardian_consent_required"},
		{7, "analytics", check.Act{}, "consent"},
		{7, "account_registration", check.Act{}, "guardian_consent_required"},
		{8, "account_registration", check.Act{}, "guardian_consent_required"},
		{8, "legal_compliance", check.Act{}, "legal_basis:legal_obligation"},
		{9, "analytics", check.Act{}, "withdrawn"},
		{9, "marketing", check.Act{}, "consent"},
	} {
		in := consent.CheckInput{Purposes: make([]string, 1)}
		Query{Subject: d.Subjects[tc.subject], Purpose: tc.purpose, Act: tc.act}.input(&in)
		res, err := e.Service.Check(ctx, benchActor, in)
		if err != nil || res.Decisions[0].Reason != tc.want {
			t.Errorf("subject %d, %s, act %+v: decisions %+v, %v; want %s", tc.subject, tc.purpose, tc.act, res.Decisions, err, tc.want)
		}
	}
	decide, svc, err := InProcess(ctx, e, d, 50*time.Millisecond)
	if err != nil || decide <= 0 || svc <= 0 {
		t.Fatalf("InProcess = %v, %v, %v", decide, svc, err)
	}
	t.Run("OPA data", func(t *testing.T) { testOPAData(t, e, d) })
	base, key, stop, err := Serve(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	c := Closed(CustosTarget(base, key), d, 4, 200*time.Millisecond)
	o := Open(CustosTarget(base, key), d, 500, 4, 200*time.Millisecond)
	if c.Count == 0 || c.Errors != 0 || o.FromDue.Count != 100 || o.Service.Count != 100 || o.FromDue.Errors != 0 || o.Service.P99 > o.FromDue.Max {
		t.Fatalf("closed %+v, open %+v", c, o)
	}
	side := Side{Target: CustosTarget(base, key), Data: d}
	alt := Alternate([]Side{side, side}, 2, 50*time.Millisecond, 0, 3)
	if len(alt) != 2 || len(alt[0]) != 3 || len(alt[1]) != 3 {
		t.Fatalf("Alternate gave %d sides: %+v", len(alt), alt)
	}
	for i, bs := range alt {
		for r, b := range bs {
			if b.Count == 0 || b.Errors != 0 || b.Seconds < 0.05 {
				t.Errorf("side %d, round %d: %+v", i, r, b)
			}
		}
	}
}

// TestVaultWorkload: the vault workload over HTTP keeps a value for every
// subject, then reads them back for the purpose without a refusal, beside
// the decisions for the same people.
func TestVaultWorkload(t *testing.T) {
	ctx := context.Background()
	e, err := NewEnv(ctx, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.WithVault(ctx); err != nil {
		t.Fatal(err)
	}
	ids, err := e.Subjects(ctx, "vault", 20)
	if err != nil {
		t.Fatal(err)
	}
	d := VaultData(ids, 200)
	base, key, stop, err := Serve(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if errs := Once(VaultWriteTarget(base, key), EverySubject(d), 4); errs != 0 {
		t.Fatalf("keeping a value for every subject: %d errors", errs)
	}
	v, err := e.Vault.Get(ctx, benchActor, ids[7], "email", "account_registration")
	if err != nil || v.Value != "v***@example.com" || !v.Masked {
		t.Errorf("subject 7's value, read by an admin: %+v, %v; want it kept, masked", v, err)
	}
	for _, target := range []HTTPTarget{VaultReadTarget(base, key), VaultWriteTarget(base, key), CustosTarget(base, key)} {
		if c := Closed(target, d, 4, 200*time.Millisecond); c.Count == 0 || c.Errors != 0 {
			t.Errorf("%s: %+v", target.Name, c)
		}
	}
}

// testOPAData writes the workload for the OPA harness and decides every
// query from the file with check alone: each decision must be the
// service's, so the file carries everything the decision reads.
func testOPAData(t *testing.T, e *Env, d CheckData) {
	path := filepath.Join(t.TempDir(), "data.json")
	if err := e.WriteOPAData(d, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file opadata.Data
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Subjects) != len(d.Subjects) || len(file.Queries) != len(d.Queries) {
		t.Fatalf("file has %d subjects and %d queries, want %d and %d", len(file.Subjects), len(file.Queries), len(d.Subjects), len(d.Queries))
	}
	pol := check.NewPolicy(file.Policy.CheckSpec())
	ctx := context.Background()
	reasons, acts := map[string]bool{}, 0
	in := consent.CheckInput{Purposes: make([]string, 1)}
	for i, q := range file.Queries {
		var s *check.Subject
		if fs, ok := file.Subjects[q.Subject]; ok {
			s = fs.CheckSubject()
		}
		got := pol.DecideAct(s, q.Purposes[0], q.Act.CheckAct(), time.Unix(q.Now, 0))
		d.Queries[i].input(&in)
		res, err := e.Service.Check(ctx, benchActor, in)
		if err != nil {
			t.Fatal(err)
		}
		if got != res.Decisions[0] {
			t.Errorf("query %d (%+v): from the file %+v, the service %+v", i, d.Queries[i], got, res.Decisions[0])
		}
		reasons[got.Reason] = true
		if q.Act != nil {
			acts++
		}
	}
	// The comparison with OPA is worth more when the workload reaches
	// past the plain consent rule.
	if len(reasons) < 8 || acts == 0 {
		t.Errorf("the workload gives %d reasons (%v) and %d act queries; want at least 8 and some", len(reasons), reasons, acts)
	}
}

// BenchmarkConsentWrite measures durable consent writes with 64 concurrent
// writers on SQLite (group-committed).
func BenchmarkConsentWrite(b *testing.B) {
	for _, batch := range []int{0, 1} {
		name := "group"
		if batch == 1 {
			name = "one_per_write"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			e, err := NewEnv(ctx, "", batch, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			ids, err := e.Subjects(ctx, "w", 64)
			if err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			b.SetParallelism(32) // 32 × GOMAXPROCS writers: 64 on this 2-CPU machine
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				id := ids[int(next.Add(1))%len(ids)]
				i := 0
				for pb.Next() {
					in := consent.ConsentInput{Method: "api", Language: "en", NoticeHash: NoticeHash}
					if i%2 == 0 {
						in.Grant = []string{"analytics"}
					} else {
						in.Withdraw = []string{"analytics"}
					}
					i++
					if _, err := e.Service.Record(ctx, benchActor, id, in); err != nil {
						panic(fmt.Sprint("record: ", err))
					}
				}
			})
		})
	}
}

// BenchmarkServiceCheck measures an in-process decision through the
// service (cache hit, audit sampling off).
func BenchmarkServiceCheck(b *testing.B) {
	ctx := context.Background()
	e, err := NewEnv(ctx, "", 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	d, err := e.Populate(ctx, 200, 1000, nil)
	if err != nil {
		b.Fatal(err)
	}
	in := consent.CheckInput{Purposes: []string{"analytics"}}
	for _, id := range d.Subjects {
		in.SubjectID = id
		e.Service.Check(ctx, benchActor, in)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Queries[i%len(d.Queries)].input(&in)
		if _, err := e.Service.Check(ctx, benchActor, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVault measures the vault in process, 64 callers at once: a
// write (sealed, kept and audited durably) and a read (decided, unsealed,
// audited durably before the answer).
func BenchmarkVault(b *testing.B) {
	ctx := context.Background()
	e, err := NewEnv(ctx, "", 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if err := e.WithVault(ctx); err != nil {
		b.Fatal(err)
	}
	ids, err := e.Subjects(ctx, "v", 256)
	if err != nil {
		b.Fatal(err)
	}
	service := consent.Actor{ID: "bench", Role: "service", Place: "bench"}
	for _, id := range ids {
		if _, err := e.Vault.Put(ctx, service, id, "email", id+"@example.com"); err != nil {
			b.Fatal(err)
		}
	}
	for _, op := range []string{"put", "get"} {
		b.Run(op, func(b *testing.B) {
			var next atomic.Int64
			b.SetParallelism(32) // 64 callers on this 2-CPU machine
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := ids[int(next.Add(1))%len(ids)]
					var err error
					if op == "put" {
						_, err = e.Vault.Put(ctx, service, id, "email", id+"@example.com")
					} else {
						_, err = e.Vault.Get(ctx, service, id, "email", "account_registration")
					}
					if err != nil {
						panic(fmt.Sprint(op, ": ", err))
					}
				}
			})
		})
	}
}
