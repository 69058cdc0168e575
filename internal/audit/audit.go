// Package audit defines the tamper-evident audit trail: entries, the hash
// chain that links them, and the verification that detects any edited,
// deleted, inserted or reordered entry. The consent ledger is chained the
// same way and checked with the same Links.
package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"slices"
	"sync"
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
	x := GetSummer()
	defer PutSummer(x)
	x.Buf = AppendEntry(x.Buf[:0], prev, e)
	return slices.Clone(x.Sum(key, x.Buf))
}

// Summer is a Hasher with a buffer for the message, kept in a pool for
// one-off sums: the writer chains every entry and ledger event with one,
// and a new HMAC and message buffer each time cost more than the hash.
type Summer struct {
	Hasher
	Buf []byte
}

var summers = sync.Pool{New: func() any { return new(Summer) }}

// GetSummer takes a Summer from the pool; PutSummer gives it back.
func GetSummer() *Summer { return summers.Get().(*Summer) }

// PutSummer gives back a Summer taken with GetSummer.
func PutSummer(x *Summer) { summers.Put(x) }

// AppendEntry appends to buf the message Sum hashes for e chained to prev.
func AppendEntry(buf, prev []byte, e *Entry) []byte {
	buf = append(buf, "custos-audit-v1\x00"...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.Seq))
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.At.UnixMicro()))
	for _, s := range [...]string{e.Actor, e.Role, e.Place, e.Action, e.Object, e.Purpose, e.Outcome, e.Detail} {
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	return append(buf, prev...)
}

// Hasher computes the chains' hashes, HMAC-SHA-256 under a key or SHA-256
// under the empty one, keeping its hash state from one message to the next
// under the same key: verification hashes every link of a chain of many
// millions, and a new HMAC per link (two SHA-256 states and the key's
// pads) costs as much as the hash. The zero Hasher is ready for use; it
// is not safe for concurrent use.
type Hasher struct {
	key   []byte
	h     hash.Hash
	out   [sha256.Size]byte
	ready bool
}

// Sum returns the hash of msg under key. The result is valid until the
// next call.
func (x *Hasher) Sum(key, msg []byte) []byte {
	if !x.ready || !bytes.Equal(key, x.key) {
		x.key = slices.Clone(key)
		if len(key) > 0 {
			x.h = hmac.New(sha256.New, x.key)
		} else {
			x.h = sha256.New()
		}
		x.ready = true
	} else {
		x.h.Reset()
	}
	x.h.Write(msg)
	return x.h.Sum(x.out[:0])
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
