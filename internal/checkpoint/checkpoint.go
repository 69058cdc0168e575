// Package checkpoint writes and reads signed checkpoints: the heads of the
// audit trail and of the consent ledger at a moment, signed with Ed25519
// and kept outside the database (an append-only file, or an HTTPS endpoint
// that files them). Whoever can rewrite the database can make its chains
// link up again after cutting their ends, or recompute them outright when
// they are not keyed; they cannot make the chains pass through heads
// recorded elsewhere under a key they do not hold.
//
// A checkpoint is one line of JSON:
//
//	{"v":1,"at":"2026-05-04T03:05:00.000001Z","instance":"web-1",
//	 "audit":{"seq":1042,"hash":"…64 hex…"},"ledger":{"seq":311,"hash":"…64 hex…"},
//	 "kid":"…","sig":"…base64url…"}
//
// The signature covers the values, not the spelling of the line, so a log
// pipeline that re-encodes the JSON does not break it.
package checkpoint

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode"
	"unicode/utf8"
)

// Version is the format of the checkpoints this package writes.
const Version = 1

// MaxLine bounds a checkpoint line; real ones are about 350 bytes.
const MaxLine = 4 << 10

// Bounds on the free-text fields.
const (
	maxInstance = 200
	maxKeyID    = 128
)

// Head is where a chain ended: its last link's sequence number and hash.
type Head struct {
	Seq  int64
	Hash []byte // 32 bytes
}

// Checkpoint is the heads of both chains at a moment, signed.
type Checkpoint struct {
	At       time.Time // UTC, to the microsecond
	Instance string    // which server or command took it
	Trail    Head      // the audit trail's head
	Ledger   Head      // the consent ledger's head
	KeyID    string    // the signing key's id (the receipt key's JWK thumbprint)
	Sig      []byte    // Ed25519 over signed()
}

type wireHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

type wire struct {
	V        int      `json:"v"`
	At       string   `json:"at"`
	Instance string   `json:"instance"`
	Audit    wireHead `json:"audit"`
	Ledger   wireHead `json:"ledger"`
	Kid      string   `json:"kid"`
	Sig      string   `json:"sig"`
}

var b64 = base64.RawURLEncoding.Strict()

// Marshal returns the checkpoint as one line of JSON, without the newline.
func (c Checkpoint) Marshal() []byte {
	b, _ := json.Marshal(wire{
		V:        Version,
		At:       c.At.UTC().Format(time.RFC3339Nano),
		Instance: c.Instance,
		Audit:    wireHead{Seq: c.Trail.Seq, Hash: hex.EncodeToString(c.Trail.Hash)},
		Ledger:   wireHead{Seq: c.Ledger.Seq, Hash: hex.EncodeToString(c.Ledger.Hash)},
		Kid:      c.KeyID,
		Sig:      b64.EncodeToString(c.Sig),
	})
	return b
}

// ErrMalformed is returned by Parse for anything but a well-formed checkpoint.
var ErrMalformed = errors.New("malformed checkpoint")

// Parse reads one checkpoint line (a trailing newline is allowed). It
// checks the form of every field, not the signature: see Verify. Its
// errors never quote the line.
func Parse(line []byte) (Checkpoint, error) {
	c, err := parse(line)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %s", ErrMalformed, err)
	}
	return c, nil
}

func parse(line []byte) (Checkpoint, error) {
	if len(line) > MaxLine {
		return Checkpoint{}, fmt.Errorf("longer than %d bytes", MaxLine)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var w wire
	if err := dec.Decode(&w); err != nil {
		return Checkpoint{}, errors.New("not a JSON object of the checkpoint's fields")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Checkpoint{}, errors.New("more than one JSON value")
	}
	if w.V != Version {
		return Checkpoint{}, fmt.Errorf("version %d, want %d", w.V, Version)
	}
	var c Checkpoint
	var err error
	if c.At, err = time.Parse(time.RFC3339Nano, w.At); err != nil || c.At.IsZero() {
		return Checkpoint{}, errors.New("at is not an RFC 3339 time")
	}
	if !c.At.Equal(c.At.Truncate(time.Microsecond)) {
		return Checkpoint{}, errors.New("at is more precise than a microsecond")
	}
	c.At = c.At.UTC()
	if !text(w.Instance, maxInstance) {
		return Checkpoint{}, fmt.Errorf("instance is not 1 to %d printable characters", maxInstance)
	}
	c.Instance = w.Instance
	if c.Trail, err = head(w.Audit); err != nil {
		return Checkpoint{}, fmt.Errorf("audit: %w", err)
	}
	if c.Ledger, err = head(w.Ledger); err != nil {
		return Checkpoint{}, fmt.Errorf("ledger: %w", err)
	}
	if !text(w.Kid, maxKeyID) {
		return Checkpoint{}, fmt.Errorf("kid is not 1 to %d printable characters", maxKeyID)
	}
	c.KeyID = w.Kid
	if c.Sig, err = b64.DecodeString(w.Sig); err != nil || len(c.Sig) != ed25519.SignatureSize {
		return Checkpoint{}, fmt.Errorf("sig is not %d bytes of base64url", ed25519.SignatureSize)
	}
	return c, nil
}

func head(w wireHead) (Head, error) {
	if w.Seq < 0 {
		return Head{}, errors.New("seq is negative")
	}
	h, err := hex.DecodeString(w.Hash)
	if err != nil || len(h) != sha256.Size {
		return Head{}, fmt.Errorf("hash is not %d bytes of hex", sha256.Size)
	}
	return Head{Seq: w.Seq, Hash: h}, nil
}

// text reports whether s is valid UTF-8 of 1 to max bytes with no control
// characters: instance names and key ids end up in messages and logs.
func text(s string, max int) bool {
	if s == "" || len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// signed is what the signature covers: every value, each of fixed size or
// length-prefixed, after a label that no other signature of the same key
// (a receipt's JWS signing input, which is base64url text) can begin with.
func (c Checkpoint) signed() []byte {
	b := make([]byte, 0, 160+len(c.Instance)+len(c.KeyID))
	b = append(b, "custos checkpoint v1\x00"...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.At.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, uint64(len(c.Instance)))
	b = append(b, c.Instance...)
	for _, h := range [...]Head{c.Trail, c.Ledger} {
		b = binary.BigEndian.AppendUint64(b, uint64(h.Seq))
		b = binary.BigEndian.AppendUint64(b, uint64(len(h.Hash)))
		b = append(b, h.Hash...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(len(c.KeyID)))
	return append(b, c.KeyID...)
}

// Signer signs checkpoints.
type Signer struct {
	key ed25519.PrivateKey
	kid string
}

// NewSigner signs with key under the id kid: the receipt key and its JWK
// thumbprint, so that the key set published at /v1/keys/receipts also
// verifies checkpoints.
func NewSigner(key ed25519.PrivateKey, kid string) (*Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("checkpoint signer: not an Ed25519 private key")
	}
	if !text(kid, maxKeyID) {
		return nil, errors.New("checkpoint signer: the key id is empty or not printable")
	}
	return &Signer{key: key, kid: kid}, nil
}

// Sign sets c's key id and signature.
func (s *Signer) Sign(c *Checkpoint) {
	c.KeyID = s.kid
	c.Sig = ed25519.Sign(s.key, c.signed())
}

// Keys returns the key set that verifies what s signs.
func (s *Signer) Keys() Keys { return Keys{s.kid: s.key.Public().(ed25519.PublicKey)} }

// Keys are the public keys checkpoints are verified with, by key id.
type Keys map[string]ed25519.PublicKey

// Reasons Verify rejects a checkpoint; test with errors.Is.
var (
	ErrUnknownKey = errors.New("signed with a key that is not known")
	ErrSignature  = errors.New("signature does not verify")
)

// Verify checks c's signature with the key its id names.
func (k Keys) Verify(c Checkpoint) error {
	pub, ok := k[c.KeyID]
	if !ok {
		return ErrUnknownKey
	}
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, c.signed(), c.Sig) {
		return ErrSignature
	}
	return nil
}

// ParseJWKS reads the Ed25519 keys of a JWK Set (RFC 8037), such as the one
// served at /v1/keys/receipts: kept from before a key was replaced, it
// verifies the checkpoints signed with the old key.
func ParseJWKS(b []byte) (Keys, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Crv string `json:"crv"`
			X   string `json:"x"`
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, errors.New("checkpoint keys: not a JWK Set")
	}
	out := Keys{}
	for _, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" {
			continue
		}
		x, err := b64.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize || k.Kid == "" {
			return nil, errors.New("checkpoint keys: an Ed25519 key has no kid or a malformed x")
		}
		out[k.Kid] = ed25519.PublicKey(x)
	}
	if len(out) == 0 {
		return nil, errors.New("checkpoint keys: the set holds no Ed25519 key")
	}
	return out, nil
}
