package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"hash"
	"sync"
)

// MinKeySize is the smallest key NewHasher accepts, in bytes.
const MinKeySize = 32

// HashSize is the length of a hash returned by Hasher.Hash.
const HashSize = sha256.Size

// Hasher computes keyed hashes of normalised identities. Without the key the
// hashes cannot be recomputed from a guessed email or phone number, which a
// plain hash of so small a space would allow. A Hasher is safe for concurrent
// use.
//
// A Hasher may hold several keys, oldest first: the identity key rotates by
// adding a key, and a hash under keys k1…kn is Rehash(kn, …Rehash(k2,
// Hash under k1)). Stored hashes move to a new key without the identity
// values, which Custos need not keep: each is hashed once more under the new
// key (see Rehash). Whoever holds a leaked older key and a copy of the
// database made after rotation cannot test a guessed value, because the
// stored hash is keyed by the newest key.
type Hasher struct {
	// Keyed HMAC states are reused because deriving the inner and outer pads
	// costs two extra SHA-256 blocks per call.
	pool sync.Pool
}

type hashState struct {
	macs []hash.Hash // one per key, oldest first
	buf  []byte      // the message, assembled so it is written in one call
}

// NewHasher returns a Hasher keyed with keys, oldest first; each must be at
// least MinKeySize bytes. The keys are copied.
func NewHasher(keys ...[]byte) (*Hasher, error) {
	if len(keys) == 0 {
		return nil, errors.New("identity: no hash key")
	}
	own := make([][]byte, len(keys))
	for i, k := range keys {
		if len(k) < MinKeySize {
			return nil, errors.New("identity: hash key must be at least 32 bytes")
		}
		own[i] = append([]byte(nil), k...)
	}
	h := &Hasher{}
	h.pool.New = func() any {
		s := &hashState{macs: make([]hash.Hash, len(own))}
		for i, k := range own {
			s.macs[i] = hmac.New(sha256.New, k)
		}
		return s
	}
	return h, nil
}

// Hash returns HMAC-SHA256(key, kind || 0x00 || normalized) under the oldest
// key, hashed again under each later key as Rehash does. The kind is part
// of the input so that equal strings of different kinds (a user id that
// looks like a phone number) do not share a hash. normalized must come from
// Normalize, which guarantees it holds no NUL byte.
func (h *Hasher) Hash(kind, normalized string) []byte {
	s := h.pool.Get().(*hashState)
	s.buf = append(append(append(s.buf[:0], kind...), 0), normalized...)
	mac := s.macs[0]
	mac.Reset()
	mac.Write(s.buf)
	sum := mac.Sum(make([]byte, 0, HashSize))
	for _, mac := range s.macs[1:] {
		sum = rehash(mac, sum)
	}
	if cap(s.buf) > 1024 {
		s.buf = nil // keep the pool from pinning the buffer of one outsized value
	}
	h.pool.Put(s)
	return sum
}

// rehashLabel keeps a rehash apart from a first hash under the same key: a
// first hash's input holds a NUL after the kind, and no kind is this label.
var rehashLabel = []byte("custos identity rehash v1\x00")

// Rehash moves a hash made under earlier keys to key: HMAC-SHA256(key,
// label || prev). It is what Hash computes for each key after the first,
// and what rotation applies to every stored hash.
func Rehash(key, prev []byte) []byte {
	return rehash(hmac.New(sha256.New, key), prev)
}

func rehash(mac hash.Hash, prev []byte) []byte {
	mac.Reset()
	mac.Write(rehashLabel)
	mac.Write(prev)
	return mac.Sum(make([]byte, 0, HashSize))
}
