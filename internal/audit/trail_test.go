package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

// memTrail keeps a trail in memory the way the store does: entries and
// a recorded head, verified with the chain key.
type memTrail struct {
	key     []byte
	entries []audit.Entry
	head    audit.Chain
	err     error
}

func (m *memTrail) AuditHead(context.Context) (audit.Chain, error) { return m.head, m.err }

// AuditEntries selects as the store does: after a sequence number, at or
// after a time, at most Limit (1000 when not positive).
func (m *memTrail) AuditEntries(_ context.Context, f audit.Filter) ([]audit.Entry, error) {
	if m.err != nil {
		return nil, m.err
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	out := []audit.Entry{}
	for _, e := range m.entries {
		if e.Seq > f.After && !e.At.Before(f.Since) && len(out) < f.Limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memTrail) VerifyAudit(_ context.Context, anchors *audit.Anchors, progress func(int64)) (audit.Report, error) {
	if m.err != nil {
		return audit.Report{}, m.err
	}
	v := audit.Verifier{Key: m.key}
	if anchors != nil {
		v.Anchors = anchors.Trail
	}
	for i := range m.entries {
		v.Add(&m.entries[i])
	}
	if progress != nil {
		progress(int64(len(m.entries)))
	}
	return v.Finish(m.head), nil
}

// trailKey keys the chains of these tests.
var trailKey = []byte("trail-key-0123456789abcdef012345")

// linked links n entries under trailKey and returns them with the head.
func linked(n int) ([]audit.Entry, audit.Chain) {
	c := audit.Chain{Key: trailKey}
	at := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	out := make([]audit.Entry, n)
	for i := range out {
		out[i] = audit.Entry{At: at.Add(time.Duration(i) * time.Second), Actor: "operator:op_1", Role: "operator", Place: "test",
			Action: "approval.request", Object: "approval:ap_1", Purpose: "console", Outcome: audit.OutcomeOK, Detail: "{}"}
		c.Link(&out[i])
	}
	return out, audit.Chain{Seq: c.Seq, Hash: c.Hash}
}

// problemKinds lists the kinds of the problems in a report.
func problemKinds(r audit.Report) []string {
	out := []string{}
	for _, p := range r.Problems {
		out = append(out, p.Kind)
	}
	return out
}

// TestTrailCheck: the trail reports an intact chain as such, and finds an
// edited entry, entries cut from the end, and a chain that no longer
// holds an anchor recorded earlier; the head it returns is the one kept.
func TestTrailCheck(t *testing.T) {
	entries, head := linked(5)
	tests := []struct {
		name   string
		edit   func(m *memTrail)
		anchor *audit.Anchors
		ok     bool
		kinds  []string
		seq    int64
	}{
		{name: "intact", ok: true, kinds: []string{}, seq: 5},
		{name: "edited", edit: func(m *memTrail) { m.entries[2].Detail = `{"n":9}` }, kinds: []string{"edited"}, seq: 5},
		{name: "cut at the end", edit: func(m *memTrail) { m.entries = m.entries[:3] }, kinds: []string{"head_mismatch"}, seq: 5},
		{name: "anchor kept", anchor: &audit.Anchors{Trail: []audit.Anchor{{Seq: 2, Hash: entries[1].Hash}}}, ok: true, kinds: []string{}, seq: 5},
		{name: "anchor lost", anchor: &audit.Anchors{Trail: []audit.Anchor{{Seq: 2, Hash: entries[0].Hash}}}, kinds: []string{"anchor_mismatch"}, seq: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &memTrail{key: trailKey, entries: append([]audit.Entry(nil), entries...), head: head}
			if tt.edit != nil {
				tt.edit(m)
			}
			tr := audit.NewTrail(m)
			var checked int64
			rep, err := tr.Verify(context.Background(), tt.anchor, func(n int64) { checked += n })
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK != tt.ok {
				t.Errorf("OK = %v, want %v", rep.OK, tt.ok)
			}
			if diff := cmp.Diff(tt.kinds, problemKinds(rep)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if checked != int64(len(m.entries)) {
				t.Errorf("progress told %d entries, want %d", checked, len(m.entries))
			}
			if tt.anchor != nil {
				return
			}
			rep2, h, err := tr.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if h.Seq != tt.seq || rep2.OK != tt.ok {
				t.Errorf("Check: head %d, ok %v; want %d, %v", h.Seq, rep2.OK, tt.seq, tt.ok)
			}
		})
	}
}

// seqs lists the sequence numbers of entries.
func seqs(es []audit.Entry) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}

// TestTrailEntries: the trail lists what the filter selects, in sequence
// order, through the store it was given; here an in-memory one and the
// real store.
func TestTrailEntries(t *testing.T) {
	entries, head := linked(5)
	at := entries[0].At
	tests := []struct {
		name string
		f    audit.Filter
		want []int64
	}{
		{name: "all", want: []int64{1, 2, 3, 4, 5}},
		{name: "after", f: audit.Filter{After: 3}, want: []int64{4, 5}},
		{name: "since", f: audit.Filter{Since: at.Add(2 * time.Second)}, want: []int64{3, 4, 5}},
		{name: "limit", f: audit.Filter{Limit: 2}, want: []int64{1, 2}},
		{name: "after and limit", f: audit.Filter{After: 1, Limit: 2}, want: []int64{2, 3}},
		{name: "after the end", f: audit.Filter{After: 5}, want: []int64{}},
	}
	ctx := context.Background()
	st := storetest.SQLite(t, store.Options{AuditKey: trailKey})
	for _, e := range entries {
		if err := st.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := audit.NewTrail(&memTrail{key: trailKey, entries: entries, head: head}).Entries(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, seqs(got)); diff != "" {
				t.Errorf("in memory (-want +got):\n%s", diff)
			}
			// A fresh store's chain starts at 1, as the linked entries do.
			got, err = audit.NewTrail(st).Entries(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, seqs(got)); diff != "" {
				t.Errorf("on the store (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTrailPassesErrors: a failure to read the trail is the caller's to
// see, not a report of an intact (or broken) chain.
func TestTrailPassesErrors(t *testing.T) {
	boom := errors.New("database gone")
	tr := audit.NewTrail(&memTrail{err: boom})
	if _, err := tr.Head(context.Background()); !errors.Is(err, boom) {
		t.Errorf("Head: %v, want %v", err, boom)
	}
	if rep, _, err := tr.Check(context.Background()); !errors.Is(err, boom) || rep.OK {
		t.Errorf("Check: %+v, %v; want the error", rep, err)
	}
	if es, err := tr.Entries(context.Background(), audit.Filter{}); !errors.Is(err, boom) || es != nil {
		t.Errorf("Entries: %v, %v; want the error", es, err)
	}
}

// TestTrailOnStore: the store keeps the trail the way the trail reads it.
func TestTrailOnStore(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t, store.Options{AuditKey: trailKey})
	tr := audit.NewTrail(st)
	before, err := tr.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e := audit.Entry{At: time.Now().Add(time.Duration(i) * time.Second), Actor: "test", Role: "admin", Place: "test", Action: "test.step", Object: "test:1", Outcome: audit.OutcomeOK, Detail: "{}"}
		if err := st.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	rep, head, err := tr.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || head.Seq != before.Seq+3 || rep.HeadSeq != head.Seq {
		t.Errorf("after 3 entries: report %+v, head %d (was %d)", rep, head.Seq, before.Seq)
	}
}
