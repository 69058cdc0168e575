package audit

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
)

// Problem is one break found by verification: in the trail, in the consent
// ledger, between the ledger and the current consent state, or in the
// checkpoints. Kinds:
//
//   - trail: edited, gap, broken_link, out_of_order, head_mismatch, anchor_mismatch,
//     around key rotations rotation_invalid, key_unknown, stale_key, and for
//     a trail cut for retention start_unanchored (its start is not one of the
//     signed checkpoints given)
//   - ledger: the same with the prefix ledger_, and ledger_unchained
//   - current state: state_missing, state_extra, state_differs
//   - checkpoints: checkpoint_invalid, checkpoint_signature, checkpoint_unknown_key
type Problem struct {
	Seq   int64  `json:"seq"`             // the entry's or ledger event's sequence number
	Kind  string `json:"kind"`            // see above
	Event string `json:"event,omitempty"` // the ledger event concerned, when there is one
	Text  string `json:"text"`
}

// Report is the result of verifying the trail and, where the store keeps
// one, the consent ledger with the state decisions are read from.
type Report struct {
	OK       bool   `json:"ok"`
	Entries  int64  `json:"entries"`
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	// Since is the entry verification started after, a recorded head
	// (see Verifier.Resume) or where the trail was cut for retention; 0
	// when it read the trail from its first entry.
	Since int64 `json:"since,omitempty"`
	// Ledger is the consent ledger's part.
	Ledger LedgerReport `json:"ledger"`
	// Anchors counts the heads recorded outside the database (signed
	// checkpoints, --anchor) that the chains were checked against.
	Anchors  int       `json:"anchors"`
	Problems []Problem `json:"problems"`
}

// LedgerReport is what verification saw of the consent ledger.
type LedgerReport struct {
	Events int64 `json:"events"` // chained events checked
	// Unchained counts events recorded before the ledger was chained (a
	// database migrated from schema 5): they carry no hash, so they are
	// checked against the current state only.
	Unchained int64  `json:"unchained"`
	HeadSeq   int64  `json:"head_seq"`
	HeadHash  string `json:"head_hash"`
	States    int64  `json:"states"` // current-state rows compared with the ledger
	// Since is the event verification started after, a recorded head; 0
	// when it read the ledger from the start.
	Since int64 `json:"since,omitempty"`
}

// Finish sets OK from the problems and makes an empty list show as [].
func (r *Report) Finish() {
	if r.Problems == nil {
		r.Problems = []Problem{}
	}
	r.OK = len(r.Problems) == 0
}

// maxProblems bounds what one check reports; one break usually cascades
// into few more.
const maxProblems = 100

// Problems collects problems up to a bound.
type Problems []Problem

// Add records a problem unless the bound is reached.
func (ps *Problems) Add(p Problem) {
	if len(*ps) < maxProblems {
		*ps = append(*ps, p)
	}
}

// Anchor is a head recorded outside the database: the chain must still
// pass through link Seq with hash Hash. This catches links cut from the
// end together with the recorded head, and a chain recomputed from
// scratch, which the chain alone cannot.
type Anchor struct {
	Seq  int64
	Hash []byte
	From string // where it was recorded, for messages: "the checkpoint on line 3 (…)"
}

// Anchors are the recorded heads the trail and the ledger must still contain.
type Anchors struct {
	Trail  []Anchor
	Ledger []Anchor
}

// Links checks one hash chain fed to it link by link in storage order:
// sequence numbers follow on, each link names the hash of the one before
// and matches its own content, the chain ends at its recorded head and
// passes through every anchor. The trail and the consent ledger are both
// such chains.
type Links struct {
	Noun, Nouns string // a link in messages: "entry", "entries"
	Chain       string // the chain in messages: "trail", "ledger"
	Prefix      string // of problem kinds: "" for the trail, "ledger_" for the ledger
	// Start is the sequence number and hash before the first link: 0 and
	// Genesis for the trail, the chain start for the ledger.
	Start   Chain
	Anchors []Anchor

	ready    bool
	anchored map[int64][]Anchor // by sequence number, until seen
	n        int64
	prevSeq  int64
	prevHash []byte
	last     []byte // prevHash's own copy once a link is added
	problems Problems
}

func (l *Links) init() {
	if l.ready {
		return
	}
	l.ready = true
	l.prevSeq, l.prevHash = l.Start.Seq, l.Start.Hash
	if l.prevHash == nil {
		l.prevHash = Genesis
	}
	l.anchored = map[int64][]Anchor{}
	for _, a := range l.Anchors {
		switch {
		case a.Seq < l.Start.Seq:
			l.problem(a.Seq, "", "anchor_mismatch", fmt.Sprintf("%s %d, recorded in %s, comes before the %s's start at %d: the start was moved", l.Noun, a.Seq, a.From, l.Chain, l.Start.Seq))
		case a.Seq == l.Start.Seq:
			if !hmac.Equal(a.Hash, l.prevHash) {
				l.problem(a.Seq, "", "anchor_mismatch", fmt.Sprintf("the %s's start differs from the one recorded in %s", l.Chain, a.From))
			}
		default:
			l.anchored[a.Seq] = append(l.anchored[a.Seq], a)
		}
	}
}

// Add checks the next link: its sequence number, the hash it names as the
// one before it, its stored hash and sum, the hash of its content
// recomputed. event names it in messages, when it has a name of its own.
func (l *Links) Add(seq int64, event string, prev, hash, sum []byte) {
	l.init()
	l.n++
	// The checks come first and the message after, only for a break: a
	// chain of many millions is verified link by link.
	switch {
	case seq <= l.prevSeq:
		l.problem(seq, event, "out_of_order", fmt.Sprintf("%s follows %s %d", l.name(seq, event), l.Noun, l.prevSeq))
	case seq == l.prevSeq+2:
		l.problem(seq, event, "gap", fmt.Sprintf("%s %d is missing", l.Noun, l.prevSeq+1))
	case seq != l.prevSeq+1:
		l.problem(seq, event, "gap", fmt.Sprintf("%s %d to %d are missing", l.Nouns, l.prevSeq+1, seq-1))
	}
	if !bytes.Equal(prev, l.prevHash) {
		l.problem(seq, event, "broken_link", fmt.Sprintf("%s does not link to the %s before it", l.name(seq, event), l.Noun))
	}
	if !hmac.Equal(sum, hash) {
		l.problem(seq, event, "edited", fmt.Sprintf("%s does not match its hash: it was changed after it was written", l.name(seq, event)))
	}
	if len(l.anchored) > 0 {
		if as, ok := l.anchored[seq]; ok {
			for _, a := range as {
				if !hmac.Equal(hash, a.Hash) {
					l.problem(seq, event, "anchor_mismatch", fmt.Sprintf("%s differs from the one recorded in %s", l.name(seq, event), a.From))
				}
			}
			delete(l.anchored, seq)
		}
	}
	if seq > l.prevSeq {
		l.prevSeq = seq
	}
	// Copied: the caller may read the next link into the same buffer.
	l.last = append(l.last[:0], hash...)
	l.prevHash = l.last
}

func (l *Links) name(seq int64, event string) string {
	name := fmt.Sprintf("%s %d", l.Noun, seq)
	if event != "" {
		name += " (" + event + ")"
	}
	return name
}

// Count is the number of links added.
func (l *Links) Count() int64 { return l.n }

// Finish compares the last link with the recorded head, reports anchors
// the chain never reached, and returns the problems. A head records the
// last link written, so links deleted at the end are detected too.
func (l *Links) Finish(head Chain) []Problem {
	l.init()
	if head.Hash == nil {
		head.Hash = Genesis
	}
	if head.Seq != l.prevSeq || !bytes.Equal(head.Hash, l.prevHash) {
		l.problem(head.Seq, "", "head_mismatch", fmt.Sprintf("the recorded head of the %s is %s %d but the %s ends at %s %d", l.Chain, l.Noun, head.Seq, l.Chain, l.Noun, l.prevSeq))
	}
	var missing []Anchor
	for _, as := range l.anchored {
		missing = append(missing, as...)
	}
	slices.SortFunc(missing, func(a, b Anchor) int { return cmp.Or(cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.From, b.From)) })
	for _, a := range missing {
		l.problem(a.Seq, "", "anchor_mismatch", fmt.Sprintf("%s %d, recorded in %s, is missing: the %s ends at %s %d", l.Noun, a.Seq, a.From, l.Chain, l.Noun, l.prevSeq))
	}
	l.anchored = map[int64][]Anchor{}
	return l.problems
}

// Last is the last link seen (the start before any).
func (l *Links) Last() Chain {
	l.init()
	return Chain{Seq: l.prevSeq, Hash: slices.Clone(l.prevHash)}
}

func (l *Links) problem(seq int64, event, kind, text string) {
	l.problems.Add(Problem{Seq: seq, Kind: l.Prefix + kind, Event: event, Text: text})
}

// Verifier checks the trail's entries fed to it in storage order. It
// follows the chain key through rotations (see ActionKeyRotate).
type Verifier struct {
	Key []byte // the chain key entries are written with now
	// Prior are the chain keys before rotations, oldest first: entries
	// chained before a rotation are checked with them.
	Prior   [][]byte
	Anchors []Anchor // heads recorded earlier outside the database

	links  Links
	ready  bool
	hasher Hasher
	buf    []byte // the message of the entry being checked
	cur    []byte // the key of the entries being checked
	lost   bool   // a rotation moved to a key not given: content is not checked
	trail  []Epoch
	ledger []Epoch
}

func (v *Verifier) init() {
	if !v.ready {
		v.ready = true
		v.links = Links{Noun: "entry", Nouns: "entries", Chain: "trail", Start: Chain{Hash: Genesis}, Anchors: v.Anchors}
	}
}

// keys are every key given, oldest first.
func (v *Verifier) keys() [][]byte { return append(slices.Clip(v.Prior), v.Key) }

// Add checks the next entry.
func (v *Verifier) Add(e *Entry) {
	v.init()
	if v.trail == nil {
		v.start(e)
	}
	sum := e.Hash // unverifiable once the key is lost; the loss is reported
	if !v.lost {
		v.buf = AppendEntry(v.buf[:0], e.Prev, e)
		sum = v.hasher.Sum(v.cur, v.buf)
	}
	v.links.Add(e.Seq, "", e.Prev, e.Hash, sum)
	if e.Action == ActionKeyRotate && !v.lost && hmac.Equal(sum, e.Hash) {
		v.rotate(e)
	}
}

// Resume has the verification start after the link at, a head recorded
// outside the database (a signed checkpoint), instead of at the trail's
// first entry: the entries up to it are not read, the anchor vouches for
// them, and only later ones are added. first is the trail's first entry,
// whose key is the one the trail began under (nil for an empty trail),
// and rotations are the transition entries (ActionKeyRotate) up to at, in
// order: they give the key in force after at and the ledger's keys, as
// adding every entry would have. Anchors before at are not checked. Call
// before the first Add.
func (v *Verifier) Resume(at Chain, first *Entry, rotations []Entry) {
	v.init()
	if at.Hash == nil {
		at.Hash = Genesis
	}
	v.links.Start = at
	v.links.Anchors = slices.DeleteFunc(slices.Clone(v.Anchors), func(a Anchor) bool { return a.Seq < at.Seq })
	if first == nil {
		return
	}
	v.start(first)
	for i := range rotations {
		e := &rotations[i]
		if v.lost {
			break
		}
		if !hmac.Equal(Sum(v.cur, e.Prev, e), e.Hash) {
			v.links.problem(e.Seq, "", "edited", fmt.Sprintf("entry %d, a key rotation before the start, does not match its hash: it was changed after it was written", e.Seq))
			continue
		}
		v.rotate(e)
	}
}

// start picks the key of the first entry: the chain began under whichever
// identity key was current then. Failing all, the oldest, under which the
// entry is reported as edited.
func (v *Verifier) start(e *Entry) {
	keys := v.keys()
	v.cur = keys[0]
	for _, k := range slices.Backward(keys) {
		if hmac.Equal(Sum(k, e.Prev, e), e.Hash) {
			v.cur = k
			break
		}
	}
	v.trail = []Epoch{{After: math.MinInt64, Key: v.cur}}
	v.ledger = []Epoch{{After: math.MinInt64, Key: v.cur}}
}

func (v *Verifier) rotate(e *Entry) {
	r, err := ParseRotation(e.Detail)
	if err != nil {
		v.links.problem(e.Seq, "", "rotation_invalid", fmt.Sprintf("entry %d rotates the chain key but %v", e.Seq, err))
		return
	}
	if r.From != KeyID(v.cur) {
		v.links.problem(e.Seq, "", "rotation_invalid", fmt.Sprintf("entry %d rotates from key %s but the chain was under key %s", e.Seq, r.From, KeyID(v.cur)))
	}
	var next []byte
	for _, k := range v.keys() {
		if KeyID(k) == r.To {
			next = k
		}
	}
	if next == nil {
		v.lost = true
		v.links.problem(e.Seq, "", "key_unknown", fmt.Sprintf("entries after %d are chained under key %s, which this verification was not given: their content is not checked", e.Seq, r.To))
		return
	}
	proof, _ := hex.DecodeString(r.Proof)
	if !hmac.Equal(proof, RotationProof(next, e.Prev, r.From, r.To, r.LedgerSeq)) {
		v.links.problem(e.Seq, "", "rotation_invalid", fmt.Sprintf("entry %d rotates the chain key without the new key's proof", e.Seq))
	}
	v.cur = next
	v.trail = append(v.trail, Epoch{After: e.Seq, Key: next})
	v.ledger = append(v.ledger, Epoch{After: r.LedgerSeq, Key: next})
}

// LedgerEpochs are the keys the consent ledger is chained under, as the
// trail's rotations say, for the ledger's verification; call after the
// last Add.
func (v *Verifier) LedgerEpochs() []Epoch {
	if v.ledger == nil {
		return []Epoch{{After: math.MinInt64, Key: v.Key}}
	}
	return v.ledger
}

// Finish compares the last entry seen with the recorded head and returns
// the report.
func (v *Verifier) Finish(head Chain) Report {
	v.init()
	if head.Hash == nil {
		head.Hash = Genesis
	}
	if v.trail != nil && !v.lost && !bytes.Equal(v.cur, v.Key) {
		v.links.problem(v.links.prevSeq, "", "stale_key", fmt.Sprintf("the trail ends under key %s, not the current key %s: it was rewritten under an older key, or the key rotated without a transition entry", KeyID(v.cur), KeyID(v.Key)))
	}
	r := Report{Entries: v.links.Count(), HeadSeq: head.Seq, HeadHash: hex.EncodeToString(head.Hash), Anchors: len(v.Anchors)}
	r.Problems = v.links.Finish(head)
	r.Finish()
	return r
}
