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
type Hasher struct {
	// Keyed HMAC states are reused because deriving the inner and outer pads
	// costs two extra SHA-256 blocks per call.
	pool sync.Pool
}

type hashState struct {
	mac hash.Hash
	buf []byte // the message, assembled so it is written in one call
}

// NewHasher returns a Hasher keyed with key, which must be at least
// MinKeySize bytes. The key is copied.
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) < MinKeySize {
		return nil, errors.New("identity: hash key must be at least 32 bytes")
	}
	k := append([]byte(nil), key...)
	h := &Hasher{}
	h.pool.New = func() any { return &hashState{mac: hmac.New(sha256.New, k)} }
	return h, nil
}

// Hash returns HMAC-SHA256(key, kind || 0x00 || normalized). The kind is part
// of the input so that equal strings of different kinds (a user id that looks
// like a phone number) do not share a hash. normalized must come from
// Normalize, which guarantees it holds no NUL byte.
func (h *Hasher) Hash(kind, normalized string) []byte {
	s := h.pool.Get().(*hashState)
	s.buf = append(append(append(s.buf[:0], kind...), 0), normalized...)
	s.mac.Reset()
	s.mac.Write(s.buf)
	sum := s.mac.Sum(make([]byte, 0, HashSize))
	if cap(s.buf) > 1024 {
		s.buf = nil // keep the pool from pinning the buffer of one outsized value
	}
	h.pool.Put(s)
	return sum
}
