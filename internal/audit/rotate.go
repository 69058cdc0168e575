package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Rotation of the chain key. The trail and the consent ledger are keyed by
// a key derived from the identity key; when that key rotates, the chain
// goes on under the new key from a transition entry:
//
//   - the entry (action ActionKeyRotate) is the last one chained under the
//     old key, so whoever holds the old key verifies that it belongs to the
//     chain written before;
//   - its detail names both keys by KeyID, the ledger event after which
//     the ledger goes on under the new key, and a proof under the new key
//     (RotationProof) over the head it follows, so the new key vouches for
//     the transition too: neither key alone forges it;
//   - every entry after it is chained under the new key.
//
// Verification follows the transitions with the keys it is given, and
// reports a chain that ends under any key but the current one: a trail
// recomputed from scratch under a leaked older key is found out.

// ActionKeyRotate is the action of a transition entry.
const ActionKeyRotate = "key.rotate"

// KeyID names a chain key without revealing it: the first 8 bytes of an
// HMAC under the key, in hex. The empty key (unkeyed SHA-256) has id "".
func KeyID(key []byte) string {
	if len(key) == 0 {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("custos chain key id v1"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Rotation is the detail of a transition entry.
type Rotation struct {
	From string `json:"from"` // KeyID of the key chained under before
	To   string `json:"to"`   // KeyID of the key chained under after
	// LedgerSeq is the last ledger event chained under From; later events
	// are chained under To.
	LedgerSeq int64 `json:"ledger_seq"`
	// Proof is RotationProof under the new key, in hex.
	Proof string `json:"proof"`
}

// RotationProof is HMAC-SHA-256 under the new key over the trail head the
// transition follows, both key ids and the ledger's boundary.
func RotationProof(newKey, prev []byte, from, to string, ledgerSeq int64) []byte {
	m := hmac.New(sha256.New, newKey)
	m.Write([]byte("custos-key-rotation-v1\x00"))
	for _, s := range []string{from, to} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		m.Write(n[:])
		m.Write([]byte(s))
	}
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(ledgerSeq))
	m.Write(n[:])
	m.Write(prev)
	return m.Sum(nil)
}

// NewRotation returns the transition entry's detail for moving from the key
// old to the key next after the trail head prev, with the ledger's last
// event ledgerSeq.
func NewRotation(old, next, prev []byte, ledgerSeq int64) Rotation {
	r := Rotation{From: KeyID(old), To: KeyID(next), LedgerSeq: ledgerSeq}
	r.Proof = hex.EncodeToString(RotationProof(next, prev, r.From, r.To, ledgerSeq))
	return r
}

// Detail is the rotation as an entry's detail.
func (r Rotation) Detail() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// ParseRotation reads a transition entry's detail.
func ParseRotation(detail string) (Rotation, error) {
	var r Rotation
	if err := json.Unmarshal([]byte(detail), &r); err != nil {
		return Rotation{}, fmt.Errorf("key rotation detail: %w", err)
	}
	if r.To == "" || r.From == r.To {
		return Rotation{}, fmt.Errorf("key rotation detail names no new key")
	}
	return r, nil
}

// Epoch is a stretch of a chain under one key: entries (or ledger events)
// after After, until the next epoch's After, are chained under Key.
type Epoch struct {
	After int64
	Key   []byte
}

// KeyFor is the key of the epoch seq falls in; epochs are in order.
func KeyFor(epochs []Epoch, seq int64) []byte {
	var key []byte
	for _, e := range epochs {
		if seq <= e.After {
			break
		}
		key = e.Key
	}
	return key
}
