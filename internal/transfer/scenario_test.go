package transfer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-privacy/custos/examples"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
	"github.com/custos-privacy/custos/internal/transfer"
)

// exempted is the starter manifest with its Singapore relay resting on
// the volume exemption: the mechanism the counts below outgrow.
func exempted(t testing.TB) *manifest.Manifest {
	t.Helper()
	src := bytes.Replace(examples.Starter, []byte("mechanism: standard_contract"), []byte("mechanism: exemption"), 1)
	m, err := manifest.Parse("custos.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type alerts struct {
	mu  sync.Mutex
	got []transfer.Alert
}

func (a *alerts) add(_ context.Context, al transfer.Alert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, al)
	return nil
}

func (a *alerts) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, al := range a.got {
		out = append(out, al.Limit+"/"+al.Kind)
	}
	return out
}

func newService(t *testing.T, st *store.Store, m *manifest.Manifest, clock *clocktest.Clock, sent *alerts) *transfer.Service {
	t.Helper()
	s, err := transfer.New(st, transfer.Options{Key: []byte("organisation transfer key"), Manifest: func() (*manifest.Manifest, error) { return m, nil },
		Alert: sent.add, Now: clock.Now, FlushEvery: time.Hour, EvaluateEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestCountsCrossTheThreshold: 150,000 people whose notes went to
// Singapore, counted from decisions (the hot path's in-memory queue),
// separate consents (the ledger's committed writes) and the
// application's reports, cross the 100,000 threshold of the exemption:
// the alert goes out once and the manifest's entry is reported at its
// line. A person counted twice, or by two sources, counts once; a new
// service on a reopened store loses no count.
func TestCountsCrossTheThreshold(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		m := exempted(t)
		clock := clocktest.New(time.Date(2026, 11, 20, 10, 0, 0, 0, transfer.China))
		sent := &alerts{}
		st := storetest.Open(t, dsn)
		svc := newService(t, st, m, clock, sent)
		const people = 150_000
		subject := func(i int) string { return fmt.Sprintf("u-%06d", i) }
		// Decisions: the first 100,000, asked about the transfer's purpose
		// and about the transfer itself (the same person, twice).
		for i := range 100_000 {
			svc.Decided(subject(i), "sync_acceleration", check.Act{})
			svc.Decided(subject(i), "sync_acceleration", check.Act{Kind: check.ActTransfer, ID: "sg-sync-relay"})
		}
		// Processing for a purpose that goes nowhere abroad counts nobody.
		svc.Decided("u-other", "note_sync", check.Act{})
		if _, err := svc.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if c, err := svc.Counts(ctx, 2026); err != nil || c.Total.People != 100_000 {
			t.Fatalf("after the decisions: %+v, %v; want 100000 people", c.Total, err)
		}
		// Separate consents, through the ledger's commit hook: the last
		// 10,000 of those decided about, and 20,000 more.
		var writes []*store.Write
		for i := 90_000; i < 120_000; i++ {
			writes = append(writes, &store.Write{Events: []store.ConsentEvent{{SubjectID: subject(i), Purpose: "transfer:sg-sync-relay", Action: store.ActionGrant, Separate: true}}})
		}
		svc.ConsentsCommitted(writes)
		if _, err := svc.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		// Reports by the application: 115,000 to 150,000, by recipient.
		by := transfer.Actor{ID: "key_service", Role: "service", Place: "test"}
		for start := 115_000; start < people; start += transfer.MaxSubjects {
			var ids []string
			for i := start; i < min(start+transfer.MaxSubjects, people); i++ {
				ids = append(ids, subject(i))
			}
			if _, err := svc.Report(ctx, by, transfer.ReportInput{Recipient: "sync-relay-sg", Subjects: ids}); err != nil {
				t.Fatal(err)
			}
		}
		c, err := svc.Counts(ctx, 2026)
		if err != nil {
			t.Fatal(err)
		}
		if c.Total.People != people || c.Total.Ordinary != people || c.Total.Sensitive != 0 {
			t.Errorf("total = %+v, want %d people, none sensitive", c.Total, people)
		}
		if len(c.Flows) != 1 || c.Flows[0].Flow != "sg-sync-relay" || c.Flows[0].People.People != people ||
			c.Flows[0].Needed != transfer.MechanismContract || c.Flows[0].Sufficient {
			t.Errorf("flows = %+v", c.Flows)
		}
		raised, err := svc.Evaluate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(raised) != 1 || raised[0].Limit != "ordinary.standard_contract" || raised[0].Kind != transfer.AlertCrossed || raised[0].People != people {
			t.Errorf("raised = %+v", raised)
		}
		if again, err := svc.Evaluate(ctx); err != nil || len(again) != 0 {
			t.Errorf("a second evaluation raised %+v, %v; an alert goes out once a year", again, err)
		}
		ps, err := svc.Problems(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), "custos.yaml:") || !strings.Contains(ps[0].Message, `"sg-sync-relay" rests on exemption`) ||
			!strings.Contains(ps[0].Message, "needs standard_contract") || ps[0].Pos.Line < 1000 {
			t.Errorf("problems = %v", ps)
		}
		// A restart: the service and the store are closed and opened again.
		svc.Decided(subject(0), "sync_acceleration", check.Act{}) // counted already
		svc.Decided("u-late", "sync_acceleration", check.Act{})   // queued, written on Close
		if err := svc.Close(); err != nil {
			t.Fatal(err)
		}
		st.Close()
		st2 := storetest.Open(t, dsn)
		svc2 := newService(t, st2, m, clock, sent)
		c2, err := svc2.Counts(ctx, 2026)
		if err != nil || c2.Total.People != people+1 {
			t.Errorf("after a restart: %d people, %v; want %d", c2.Total.People, err, people+1)
		}
		if len(c2.Alerts) != 1 {
			t.Errorf("alerts after a restart = %+v", c2.Alerts)
		}
		if again, err := svc2.Evaluate(ctx); err != nil || len(again) != 0 {
			t.Errorf("after a restart an evaluation raised %+v, %v", again, err)
		}
		if got := sent.list(); len(got) != 1 || got[0] != "ordinary.standard_contract/crossed" {
			t.Errorf("alerts sent = %v", got)
		}
	})
}

// TestRememberIsBounded: past what the service remembers, people decided
// about again are written again and still counted once.
func TestRememberIsBounded(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	clock := clocktest.New(time.Date(2026, 11, 20, 10, 0, 0, 0, transfer.China))
	s, err := transfer.New(st, transfer.Options{Key: []byte("organisation transfer key"), Manifest: func() (*manifest.Manifest, error) { return exempted(t), nil },
		Now: clock.Now, FlushEvery: time.Hour, EvaluateEvery: -1, Remember: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for range 3 {
		for i := range 100 {
			s.Decided(fmt.Sprintf("u-%03d", i), "sync_acceleration", check.Act{})
		}
		if _, err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := s.Counts(ctx, 2026); err != nil || c.Total.People != 100 {
		t.Errorf("counts = %+v, %v; want 100 people", c.Total, err)
	}
}

// TestProjectedAlert: at the year's rate in early March, 20,000 people
// project past 100,000 by 31 December: the alert goes out before the
// threshold is crossed, and no problem is reported yet.
func TestProjectedAlert(t *testing.T) {
	ctx := context.Background()
	m := exempted(t)
	tests := []struct {
		name   string
		now    time.Time
		people int
		want   []string
	}{
		{"early March, on course to cross", time.Date(2026, 3, 1, 0, 0, 0, 0, transfer.China), 20_000, []string{"ordinary.standard_contract/projected"}},
		{"early March, well below", time.Date(2026, 3, 1, 0, 0, 0, 0, transfer.China), 5_000, nil},
		{"the first day counts as a week", time.Date(2026, 1, 1, 12, 0, 0, 0, transfer.China), 1_000, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := clocktest.New(tt.now)
			sent := &alerts{}
			svc := newService(t, storetest.SQLite(t), m, clock, sent)
			for i := range tt.people {
				svc.Decided(fmt.Sprintf("u-%d", i), "sync_acceleration", check.Act{})
			}
			if _, err := svc.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Evaluate(ctx); err != nil {
				t.Fatal(err)
			}
			if got := sent.list(); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("alerts = %v, want %v", got, tt.want)
			}
			if ps, err := svc.Problems(ctx); err != nil || len(ps) != 0 {
				t.Errorf("problems before crossing = %v, %v", ps, err)
			}
		})
	}
}

// TestEvidenceFiles: the register and each year's counts, keyed by path,
// with numbers and manifest ids only.
func TestEvidenceFiles(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 6, 1, 0, 0, 0, 0, transfer.China))
	svc := newService(t, storetest.SQLite(t), exempted(t), clock, &alerts{})
	if _, err := svc.Report(ctx, transfer.Actor{ID: "key_1", Role: "service"}, transfer.ReportInput{Flow: "sg-sync-relay", Subjects: []string{"u-secret-1", "u-secret-2"}}); err != nil {
		t.Fatal(err)
	}
	files, err := svc.EvidenceFiles(ctx, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name, b := range files {
		names = append(names, name)
		if strings.Contains(string(b), "u-secret") {
			t.Errorf("%s names a subject", name)
		}
	}
	slices.Sort(names)
	if want := []string{"counts-2025.json", "counts-2026.json", "register.json"}; !slices.Equal(names, want) {
		t.Errorf("files = %v, want %v", names, want)
	}
	var c transfer.Counts
	if err := json.Unmarshal(files["counts-2026.json"], &c); err != nil || c.Total.People != 2 || c.Year != 2026 {
		t.Errorf("counts-2026.json = %+v, %v", c, err)
	}
}
