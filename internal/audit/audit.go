// Package audit defines the tamper-evident audit trail: entries, the hash
// chain that links them, and the verification that detects any edited,
// deleted, inserted or reordered entry.
package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"time"
)

// Outcomes recorded on entries.
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied"
	OutcomeError  = "error"
)

// Entry is one line of the audit trail. Object names what was touched
// ("subject:u-1042", "key:k_3f…", "policy:2024.2"), never a raw identity value.
type Entry struct {
	Seq     int64     `json:"seq"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`   // API key id, "cli:<os user>" or "system"
	Role    string    `json:"role"`    // role the actor acted in
	Place   string    `json:"place"`   // source address and host the action came from
	Action  string    `json:"action"`  // e.g. consent.grant, subject.read, check.deny
	Object  string    `json:"object"`  // what was touched
	Purpose string    `json:"purpose"` // purpose of processing, when there is one
	Outcome string    `json:"outcome"` // ok, denied, error
	Detail  string    `json:"detail"`  // small JSON object with non-identifying details
	Prev    []byte    `json:"prev"`    // hash of the previous entry (32 zero bytes for the first)
	Hash    []byte    `json:"hash"`    // hash of this entry, covering Prev
}

// Genesis is the previous-hash of the first entry.
var Genesis = make([]byte, sha256.Size)

// Sum computes the hash of e chained to prev: HMAC-SHA-256 under key, or
// plain SHA-256 when key is empty. With a key kept outside the database,
// someone who can write to the database cannot recompute a consistent chain
// after changing it. Every field is length-prefixed so that no two different
// entries share an encoding.
func Sum(key, prev []byte, e *Entry) []byte {
	var h hash.Hash
	if len(key) > 0 {
		h = hmac.New(sha256.New, key)
	} else {
		h = sha256.New()
	}
	writeEntry(h, prev, e)
	return h.Sum(nil)
}

func writeEntry(h hash.Hash, prev []byte, e *Entry) {
	var buf [8]byte
	h.Write([]byte("custos-audit-v1\x00"))
	binary.BigEndian.PutUint64(buf[:], uint64(e.Seq))
	h.Write(buf[:])
	binary.BigEndian.PutUint64(buf[:], uint64(e.At.UnixMicro()))
	h.Write(buf[:])
	for _, s := range [...]string{e.Actor, e.Role, e.Place, e.Action, e.Object, e.Purpose, e.Outcome, e.Detail} {
		binary.BigEndian.PutUint64(buf[:], uint64(len(s)))
		h.Write(buf[:])
		h.Write([]byte(s))
	}
	h.Write(prev)
}

// Chain links entries: it assigns each its sequence number, previous hash
// and hash, continuing from a head.
type Chain struct {
	Seq  int64  // sequence number of the last entry (0 before the first)
	Hash []byte // hash of the last entry (Genesis before the first)
	Key  []byte // chain key; see Sum
}

// Link fills in e.Seq, e.Prev and e.Hash and advances the chain.
func (c *Chain) Link(e *Entry) {
	if c.Hash == nil {
		c.Hash = Genesis
	}
	c.Seq++
	e.Seq = c.Seq
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Prev = c.Hash
	e.Hash = Sum(c.Key, c.Hash, e)
	c.Hash = e.Hash
}

// Problem is one break in the chain found by verification.
type Problem struct {
	Seq  int64  `json:"seq"`
	Kind string `json:"kind"` // edited, gap, broken_link, out_of_order, head_mismatch, anchor_mismatch
	Text string `json:"text"`
}

// Report is the result of verifying a chain.
type Report struct {
	OK       bool      `json:"ok"`
	Entries  int64     `json:"entries"`
	HeadSeq  int64     `json:"head_seq"`
	HeadHash string    `json:"head_hash"`
	Problems []Problem `json:"problems"`
}

// maxProblems bounds a report; one break usually cascades into few more.
const maxProblems = 100

// Verifier checks entries fed to it in storage order.
type Verifier struct {
	Key []byte // the chain key the entries were written with
	// Anchor, when set, is a head recorded earlier outside the database
	// (printed by every verification). The trail must still contain that
	// entry with that hash: this catches entries cut from the end together
	// with the recorded head, which the chain alone cannot.
	Anchor     *Chain
	anchorSeen bool
	r          Report
	prevSeq    int64
	prevHash   []byte
}

// Add checks the next entry.
func (v *Verifier) Add(e *Entry) {
	v.r.Entries++
	if v.prevHash == nil {
		v.prevHash = Genesis
	}
	switch {
	case e.Seq <= v.prevSeq:
		v.problem(e.Seq, "out_of_order", fmt.Sprintf("entry %d follows entry %d", e.Seq, v.prevSeq))
	case e.Seq != v.prevSeq+1:
		v.problem(e.Seq, "gap", fmt.Sprintf("entries %d to %d are missing", v.prevSeq+1, e.Seq-1))
	}
	if !bytes.Equal(e.Prev, v.prevHash) {
		v.problem(e.Seq, "broken_link", fmt.Sprintf("entry %d does not link to the entry before it", e.Seq))
	}
	if !hmac.Equal(Sum(v.Key, e.Prev, e), e.Hash) {
		v.problem(e.Seq, "edited", fmt.Sprintf("entry %d does not match its hash", e.Seq))
	}
	if v.Anchor != nil && e.Seq == v.Anchor.Seq {
		v.anchorSeen = true
		if !hmac.Equal(e.Hash, v.Anchor.Hash) {
			v.problem(e.Seq, "anchor_mismatch", fmt.Sprintf("entry %d differs from the anchor recorded earlier", e.Seq))
		}
	}
	if e.Seq > v.prevSeq {
		v.prevSeq = e.Seq
	}
	v.prevHash = e.Hash
}

// Finish compares the last entry seen with the recorded head and returns the report.
// A head records the last entry written, so deleting entries at the end of the
// trail is detected too.
func (v *Verifier) Finish(head Chain) Report {
	if head.Hash == nil {
		head.Hash = Genesis
	}
	last := v.prevHash
	if last == nil {
		last = Genesis
	}
	if head.Seq != v.prevSeq || !bytes.Equal(head.Hash, last) {
		v.problem(head.Seq, "head_mismatch", fmt.Sprintf("the recorded head is entry %d but the trail ends at entry %d", head.Seq, v.prevSeq))
	}
	if v.Anchor != nil && !v.anchorSeen && v.Anchor.Seq > 0 {
		v.problem(v.Anchor.Seq, "anchor_mismatch", fmt.Sprintf("anchored entry %d is missing", v.Anchor.Seq))
	}
	v.r.HeadSeq = head.Seq
	v.r.HeadHash = hex.EncodeToString(head.Hash)
	v.r.OK = len(v.r.Problems) == 0
	if v.r.Problems == nil {
		v.r.Problems = []Problem{}
	}
	return v.r
}

func (v *Verifier) problem(seq int64, kind, text string) {
	if len(v.r.Problems) < maxProblems {
		v.r.Problems = append(v.r.Problems, Problem{Seq: seq, Kind: kind, Text: text})
	}
}
