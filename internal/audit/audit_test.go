package audit_test

import (
	"bytes"
	"encoding/hex"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/audit"
)

var (
	chainKey = []byte("0123456789abcdef0123456789abcdef")
	start    = time.Date(2026, 5, 4, 3, 2, 1, 123456789, time.FixedZone("CST", 8*3600))
)

// trail links n entries under key and returns them with the chain head.
func trail(key []byte, n int) ([]audit.Entry, audit.Chain) {
	c := audit.Chain{Key: key}
	out := make([]audit.Entry, n)
	for i := range out {
		out[i] = audit.Entry{
			At:      start.Add(time.Duration(i) * time.Second),
			Actor:   "key_1",
			Role:    "admin",
			Place:   "127.0.0.1",
			Action:  "consent.grant",
			Object:  "subject:u-" + string(rune('a'+i)),
			Purpose: "analytics",
			Outcome: audit.OutcomeOK,
			Detail:  `{"n":` + string(rune('0'+i)) + `}`,
		}
		c.Link(&out[i])
	}
	return out, audit.Chain{Seq: c.Seq, Hash: c.Hash}
}

// problem is a Problem without its text, which is for people.
type problem struct {
	Seq  int64
	Kind string
}

func verify(key []byte, anchor *audit.Chain, entries []audit.Entry, head audit.Chain) audit.Report {
	v := audit.Verifier{Key: key}
	if anchor != nil {
		v.Anchors = []audit.Anchor{{Seq: anchor.Seq, Hash: anchor.Hash, From: "the anchor"}}
	}
	for i := range entries {
		v.Add(&entries[i])
	}
	return v.Finish(head)
}

func kinds(r audit.Report) []problem {
	out := []problem{}
	for _, p := range r.Problems {
		out = append(out, problem{p.Seq, p.Kind})
	}
	return out
}

func TestLink(t *testing.T) {
	entries, head := trail(chainKey, 3)
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			t.Errorf("entry %d: Seq = %d, want %d", i, e.Seq, i+1)
		}
		if e.At.Location() != time.UTC || e.At.Nanosecond()%1000 != 0 {
			t.Errorf("entry %d: At = %v, want UTC truncated to the microsecond", i, e.At)
		}
		if !e.At.Equal(start.Add(time.Duration(i) * time.Second).Truncate(time.Microsecond)) {
			t.Errorf("entry %d: At = %v, want the given time", i, e.At)
		}
		prev := audit.Genesis
		if i > 0 {
			prev = entries[i-1].Hash
		}
		if !bytes.Equal(e.Prev, prev) {
			t.Errorf("entry %d: Prev = %x, want %x", i, e.Prev, prev)
		}
		if want := audit.Sum(chainKey, prev, &e); !bytes.Equal(e.Hash, want) {
			t.Errorf("entry %d: Hash = %x, want Sum = %x", i, e.Hash, want)
		}
	}
	if head.Seq != 3 || !bytes.Equal(head.Hash, entries[2].Hash) {
		t.Errorf("head = %d %x, want 3 %x", head.Seq, head.Hash, entries[2].Hash)
	}

	// A chain continues from a recorded head.
	c := audit.Chain{Seq: head.Seq, Hash: head.Hash, Key: chainKey}
	next := audit.Entry{At: start, Action: "subject.read"}
	c.Link(&next)
	if next.Seq != 4 || !bytes.Equal(next.Prev, entries[2].Hash) {
		t.Errorf("continued entry: Seq %d Prev %x, want 4 %x", next.Seq, next.Prev, entries[2].Hash)
	}
	if r := verify(chainKey, nil, append(entries, next), audit.Chain{Seq: c.Seq, Hash: c.Hash}); !r.OK {
		t.Errorf("continued chain does not verify: %+v", r.Problems)
	}
}

func TestVerify(t *testing.T) {
	const n = 5
	tests := []struct {
		name string
		key  []byte // key the verifier uses; chainKey unless set
		// tamper changes the trail and the recorded head; it may return an anchor.
		tamper  func(entries []audit.Entry, head audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain)
		entries int64
		want    []problem
	}{
		{
			name:    "untouched",
			tamper:  func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) { return e, h, nil },
			entries: 5,
			want:    []problem{},
		},
		{
			name: "edit a field",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				e[1].Outcome = audit.OutcomeDenied
				return e, h, nil
			},
			entries: 5,
			want:    []problem{{2, "edited"}},
		},
		{
			name: "edit the time by a microsecond",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				e[3].At = e[3].At.Add(time.Microsecond)
				return e, h, nil
			},
			entries: 5,
			want:    []problem{{4, "edited"}},
		},
		{
			name: "edit and rehash one entry without the key",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				e[2].Object = "subject:someone-else"
				e[2].Hash = audit.Sum(nil, e[2].Prev, &e[2])
				return e, h, nil
			},
			entries: 5,
			want:    []problem{{3, "edited"}, {4, "broken_link"}},
		},
		{
			name: "drop a middle entry",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				return slices.Delete(e, 2, 3), h, nil
			},
			entries: 4,
			want:    []problem{{4, "gap"}, {4, "broken_link"}},
		},
		{
			name: "drop the first entry",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				return e[1:], h, nil
			},
			entries: 4,
			want:    []problem{{2, "gap"}, {2, "broken_link"}},
		},
		{
			name: "drop the last entry, head kept",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				return e[:n-1], h, nil
			},
			entries: 4,
			want:    []problem{{5, "head_mismatch"}},
		},
		{
			name: "drop the last entry and move the head back",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				// Undetectable from the database alone: that is what an anchor is for.
				return e[:n-1], audit.Chain{Seq: e[n-2].Seq, Hash: e[n-2].Hash}, nil
			},
			entries: 4,
			want:    []problem{},
		},
		{
			name: "drop the last entry and move the head back, anchored",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				anchor := h
				return e[:n-1], audit.Chain{Seq: e[n-2].Seq, Hash: e[n-2].Hash}, &anchor
			},
			entries: 4,
			want:    []problem{{5, "anchor_mismatch"}},
		},
		{
			name: "drop everything and reset the head, anchored",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				anchor := audit.Chain{Seq: 2, Hash: e[1].Hash}
				return nil, audit.Chain{}, &anchor
			},
			entries: 0,
			want:    []problem{{2, "anchor_mismatch"}},
		},
		{
			name: "head hash differs",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				return e, audit.Chain{Seq: h.Seq, Hash: e[0].Hash}, nil
			},
			entries: 5,
			want:    []problem{{5, "head_mismatch"}},
		},
		{
			name: "swap two entries",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				e[1], e[2] = e[2], e[1]
				return e, h, nil
			},
			entries: 5,
			want:    []problem{{3, "gap"}, {3, "broken_link"}, {2, "out_of_order"}, {2, "broken_link"}, {4, "broken_link"}},
		},
		{
			name: "swap two entries and their sequence numbers",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				e[1], e[2] = e[2], e[1]
				e[1].Seq, e[2].Seq = 2, 3
				return e, h, nil
			},
			entries: 5,
			want:    []problem{{2, "broken_link"}, {2, "edited"}, {3, "broken_link"}, {3, "edited"}, {4, "broken_link"}},
		},
		{
			name: "insert a forged entry",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				forged := audit.Entry{Seq: 3, At: e[1].At, Actor: "key_1", Action: "consent.grant", Object: "subject:u-z", Outcome: audit.OutcomeOK, Detail: "{}", Prev: e[1].Hash}
				forged.Hash = audit.Sum(nil, forged.Prev, &forged) // the forger lacks the key
				return slices.Insert(e, 2, forged), h, nil
			},
			entries: 6,
			want:    []problem{{3, "edited"}, {3, "out_of_order"}, {3, "broken_link"}},
		},
		{
			name: "append a forged entry and advance the head",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				forged := audit.Entry{Seq: 6, At: e[4].At, Action: "consent.withdraw", Object: "subject:u-a", Outcome: audit.OutcomeOK, Detail: "{}", Prev: e[4].Hash}
				forged.Hash = audit.Sum([]byte("a guessed key, not the chain key!"), forged.Prev, &forged)
				return append(e, forged), audit.Chain{Seq: 6, Hash: forged.Hash}, nil
			},
			entries: 6,
			want:    []problem{{6, "edited"}},
		},
		{
			name: "wrong key",
			key:  []byte("another key, another key, another"),
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				return e, h, nil
			},
			entries: 5,
			want:    []problem{{1, "edited"}, {2, "edited"}, {3, "edited"}, {4, "edited"}, {5, "edited"}},
		},
		{
			name: "anchor matches",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				return e, h, &audit.Chain{Seq: 3, Hash: e[2].Hash}
			},
			entries: 5,
			want:    []problem{},
		},
		{
			name: "anchor mismatch",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				return e, h, &audit.Chain{Seq: 3, Hash: e[1].Hash}
			},
			entries: 5,
			want:    []problem{{3, "anchor_mismatch"}},
		},
		{
			name: "anchor beyond the trail",
			tamper: func(e []audit.Entry, h audit.Chain) ([]audit.Entry, audit.Chain, *audit.Chain) {
				return e, h, &audit.Chain{Seq: 9, Hash: e[4].Hash}
			},
			entries: 5,
			want:    []problem{{9, "anchor_mismatch"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, head := trail(chainKey, n)
			entries, head, anchor := tt.tamper(entries, head)
			key := chainKey
			if tt.key != nil {
				key = tt.key
			}
			r := verify(key, anchor, entries, head)
			if diff := cmp.Diff(tt.want, kinds(r)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if r.OK != (len(tt.want) == 0) {
				t.Errorf("OK = %v with problems %v", r.OK, r.Problems)
			}
			if r.Entries != tt.entries {
				t.Errorf("Entries = %d, want %d", r.Entries, tt.entries)
			}
			if r.HeadSeq != head.Seq {
				t.Errorf("HeadSeq = %d, want %d", r.HeadSeq, head.Seq)
			}
			for _, p := range r.Problems {
				if p.Text == "" {
					t.Errorf("problem %+v has no text", p)
				}
			}
		})
	}
}

// TestVerifyKeylessRewrite shows why the chain is keyed: without a key, a
// writer can edit an entry and recompute everything after it, and only an
// anchor kept elsewhere catches it.
func TestVerifyKeylessRewrite(t *testing.T) {
	entries, head := trail(nil, 4)
	anchor := audit.Chain{Seq: head.Seq, Hash: head.Hash}
	entries[1].Purpose = "marketing"
	c := audit.Chain{Seq: 1, Hash: entries[0].Hash}
	for i := 1; i < len(entries); i++ {
		c.Link(&entries[i])
	}
	forgedHead := audit.Chain{Seq: c.Seq, Hash: c.Hash}
	if r := verify(nil, nil, entries, forgedHead); !r.OK {
		t.Fatalf("rewritten keyless chain: %+v, want it to pass without an anchor", r.Problems)
	}
	r := verify(nil, &anchor, entries, forgedHead)
	if diff := cmp.Diff([]problem{{4, "anchor_mismatch"}}, kinds(r)); diff != "" {
		t.Errorf("with an anchor (-want +got):\n%s", diff)
	}
}

func TestVerifyEmpty(t *testing.T) {
	tests := []struct {
		name string
		head audit.Chain
		want []problem
	}{
		{"zero head", audit.Chain{}, []problem{}},
		{"genesis head", audit.Chain{Hash: audit.Genesis}, []problem{}},
		{"head says entries exist", audit.Chain{Seq: 3, Hash: bytes.Repeat([]byte{1}, 32)}, []problem{{3, "head_mismatch"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := verify(chainKey, nil, nil, tt.head)
			if diff := cmp.Diff(tt.want, kinds(r)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if r.Problems == nil {
				t.Error("Problems is nil; want an empty list so JSON shows []")
			}
			if r.Entries != 0 {
				t.Errorf("Entries = %d, want 0", r.Entries)
			}
			if len(tt.want) == 0 && r.HeadHash != hex.EncodeToString(audit.Genesis) {
				t.Errorf("HeadHash = %s, want the genesis hash", r.HeadHash)
			}
		})
	}
}

func TestVerifyBoundsProblems(t *testing.T) {
	entries, head := trail(chainKey, 150)
	r := verify([]byte("not the key, not the key, not the"), nil, entries, head)
	if len(r.Problems) != 100 || r.OK || r.Entries != 150 {
		t.Errorf("150 bad entries: %d problems, OK %v, %d entries; want 100 problems, not OK, 150 entries", len(r.Problems), r.OK, r.Entries)
	}
}

func TestSum(t *testing.T) {
	base := audit.Entry{
		Seq: 7, At: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
		Actor: "key_1", Role: "admin", Place: "10.0.0.1", Action: "consent.grant", Object: "subject:u-1",
		Purpose: "analytics", Outcome: audit.OutcomeOK, Detail: `{"a":1}`,
	}
	prev := bytes.Repeat([]byte{7}, 32)
	want := audit.Sum(chainKey, prev, &base)
	if len(want) != 32 {
		t.Fatalf("Sum is %d bytes, want 32", len(want))
	}

	differ := []struct {
		name   string
		key    []byte
		prev   []byte
		change func(e *audit.Entry)
	}{
		{name: "seq", change: func(e *audit.Entry) { e.Seq++ }},
		{name: "at", change: func(e *audit.Entry) { e.At = e.At.Add(time.Microsecond) }},
		{name: "actor", change: func(e *audit.Entry) { e.Actor = "key_2" }},
		{name: "role", change: func(e *audit.Entry) { e.Role = "viewer" }},
		{name: "place", change: func(e *audit.Entry) { e.Place = "10.0.0.2" }},
		{name: "action", change: func(e *audit.Entry) { e.Action = "consent.withdraw" }},
		{name: "object", change: func(e *audit.Entry) { e.Object = "subject:u-2" }},
		{name: "purpose", change: func(e *audit.Entry) { e.Purpose = "marketing" }},
		{name: "outcome", change: func(e *audit.Entry) { e.Outcome = audit.OutcomeDenied }},
		{name: "detail", change: func(e *audit.Entry) { e.Detail = `{"a":2}` }},
		{name: "empty detail", change: func(e *audit.Entry) { e.Detail = "" }},
		{name: "previous hash", prev: bytes.Repeat([]byte{8}, 32), change: func(e *audit.Entry) {}},
		{name: "key", key: []byte("another key, another key, another"), change: func(e *audit.Entry) {}},
		{name: "no key", key: []byte{}, change: func(e *audit.Entry) {}},
		// Length prefixes keep a boundary shift between fields from colliding.
		{name: "text moved from actor to role", change: func(e *audit.Entry) { e.Actor, e.Role = "key_", "1admin" }},
		{name: "text moved from object to purpose", change: func(e *audit.Entry) { e.Object, e.Purpose = "subject:u-1a", "nalytics" }},
		{name: "fields swapped", change: func(e *audit.Entry) { e.Role, e.Place = e.Place, e.Role }},
	}
	for _, tt := range differ {
		t.Run("differs/"+tt.name, func(t *testing.T) {
			e := base
			tt.change(&e)
			key, prev := chainKey, prev
			if tt.key != nil {
				key = tt.key
			}
			if tt.prev != nil {
				prev = tt.prev
			}
			if got := audit.Sum(key, prev, &e); bytes.Equal(got, want) {
				t.Errorf("Sum unchanged after changing %s", tt.name)
			}
		})
	}

	same := []struct {
		name   string
		change func(e *audit.Entry)
	}{
		// The stored time has microsecond precision, and its zone is not stored.
		{name: "nanoseconds below a microsecond", change: func(e *audit.Entry) { e.At = e.At.Add(999) }},
		{name: "time zone", change: func(e *audit.Entry) { e.At = e.At.In(time.FixedZone("CST", 8*3600)) }},
		// Prev and Hash are the chain, not the content: Sum takes prev as an argument.
		{name: "stored prev and hash", change: func(e *audit.Entry) { e.Prev, e.Hash = []byte{1}, []byte{2} }},
	}
	for _, tt := range same {
		t.Run("same/"+tt.name, func(t *testing.T) {
			e := base
			tt.change(&e)
			if got := audit.Sum(chainKey, prev, &e); !bytes.Equal(got, want) {
				t.Errorf("Sum changed after changing %s", tt.name)
			}
		})
	}
}

// TestLinks checks a chain that starts after sequence number 3, named and
// kinded as the consent ledger is, against anchors at, before and after
// its start.
func TestLinks(t *testing.T) {
	start := audit.Chain{Seq: 3, Hash: bytes.Repeat([]byte{3}, 32)}
	h := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	tests := []struct {
		name    string
		anchors []audit.Anchor
		head    audit.Chain
		want    []problem
	}{
		{name: "intact", head: audit.Chain{Seq: 5, Hash: h(5)}, want: []problem{}},
		{name: "anchor at the start", anchors: []audit.Anchor{{Seq: 3, Hash: h(3), From: "x"}}, head: audit.Chain{Seq: 5, Hash: h(5)}, want: []problem{}},
		{name: "start moved", anchors: []audit.Anchor{{Seq: 3, Hash: h(9), From: "x"}}, head: audit.Chain{Seq: 5, Hash: h(5)}, want: []problem{{3, "ledger_anchor_mismatch"}}},
		{name: "anchor before the start", anchors: []audit.Anchor{{Seq: 2, Hash: h(2), From: "x"}}, head: audit.Chain{Seq: 5, Hash: h(5)}, want: []problem{{2, "ledger_anchor_mismatch"}}},
		{name: "anchors passed", anchors: []audit.Anchor{{Seq: 4, Hash: h(4), From: "x"}, {Seq: 5, Hash: h(5), From: "y"}}, head: audit.Chain{Seq: 5, Hash: h(5)}, want: []problem{}},
		{name: "anchor beyond the end", anchors: []audit.Anchor{{Seq: 6, Hash: h(6), From: "x"}}, head: audit.Chain{Seq: 5, Hash: h(5)}, want: []problem{{6, "ledger_anchor_mismatch"}}},
		{name: "head elsewhere", head: audit.Chain{Seq: 4, Hash: h(4)}, want: []problem{{4, "ledger_head_mismatch"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := audit.Links{Noun: "ledger event", Nouns: "ledger events", Chain: "ledger", Prefix: "ledger_", Start: start, Anchors: tt.anchors}
			l.Add(4, "e4", h(3), h(4), h(4))
			l.Add(5, "e5", h(4), h(5), h(5))
			got := []problem{}
			for _, p := range l.Finish(tt.head) {
				got = append(got, problem{p.Seq, p.Kind})
				if p.Text == "" {
					t.Errorf("problem %+v has no text", p)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
	// A broken link names its event.
	l := audit.Links{Noun: "ledger event", Nouns: "ledger events", Chain: "ledger", Prefix: "ledger_", Start: start}
	l.Add(4, "e4", h(1), h(4), h(0))
	ps := l.Finish(audit.Chain{Seq: 4, Hash: h(4)})
	if len(ps) != 2 || ps[0].Event != "e4" || ps[0].Text != "ledger event 4 (e4) does not link to the ledger event before it" || ps[1].Kind != "ledger_edited" {
		t.Errorf("problems = %+v", ps)
	}
}
