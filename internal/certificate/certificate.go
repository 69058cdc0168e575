// Package certificate makes and checks erasure certificates: what a
// retention sweep or a rights request's erasure did, collection by
// collection, signed with the receipt key so that anyone holding the key
// set published at /v1/keys/receipts can check it offline.
//
// A certificate names datastores, collections and fields and counts rows;
// it never carries a value, so it can be handed to a regulator, a
// processor or the person concerned without disclosing anything about
// anyone. Even the plan it certifies enters it only as a hash (PlanHash),
// computed by the caller over a plan stripped of row keys.
//
// The signature covers the values, not the JSON spelling (see signed), so
// a certificate re-encoded by a log pipeline or a pretty-printer still
// verifies.
package certificate

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
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/ids"
)

// Version is the format of the certificates this package writes.
const Version = 1

// Kinds of erasure a certificate records.
const (
	KindSweep   = "retention_sweep"
	KindRequest = "request_erasure"
)

// Actions a target records.
const (
	ActionDelete    = "delete"
	ActionErase     = "erase"
	ActionAnonymise = "anonymise"
	ActionRestrict  = "restrict"
)

// Bounds: a certificate may come from anyone who presents one.
const (
	// MaxSize bounds the JSON Parse reads.
	MaxSize = 1 << 20
	// MaxTargets bounds the collections one certificate lists.
	MaxTargets = 10000
	// MaxFields bounds the fields one target lists.
	MaxFields = 1000
	maxName   = 200
	maxKeyID  = 128
	maxID     = 64
)

// Certificate records one erasure: who ran it, when, under which rule or
// request, and how many rows of which collections it changed.
type Certificate struct {
	Version  int       `json:"v"`
	ID       string    `json:"id"`                // "cert_" + random, unique
	Org      string    `json:"org,omitempty"`     // organisation id when the deployment holds several
	Kind     string    `json:"kind"`              // KindSweep or KindRequest
	Rule     string    `json:"rule,omitempty"`    // retention rule id (sweeps)
	Request  string    `json:"request,omitempty"` // rights request id (request erasures)
	PlanHash string    `json:"plan_hash"`         // hex SHA-256 of the plan that was carried out
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Instance string    `json:"instance,omitempty"` // host that ran it
	Targets  []Target  `json:"targets"`
	KeyID    string    `json:"kid"`
	Sig      string    `json:"sig"` // base64url Ed25519 signature
}

// Target is what the erasure did to one collection.
type Target struct {
	Datastore  string   `json:"datastore"`
	Collection string   `json:"collection"`
	Action     string   `json:"action"`           // "delete", "erase", "anonymise", "restrict"
	Fields     []string `json:"fields,omitempty"` // names of the fields changed (erase/anonymise)
	Rows       int64    `json:"rows"`
}

// Rows is the number of rows the certificate counts, over every target.
func (c Certificate) Rows() int64 {
	var n int64
	for _, t := range c.Targets {
		n += t.Rows
	}
	return n
}

// Reasons a certificate is refused; test with errors.Is.
var (
	ErrMalformed  = errors.New("malformed certificate")
	ErrUnknownKey = errors.New("certificate signed with a key that is not known")
	ErrSignature  = errors.New("certificate signature does not verify")
)

var b64 = base64.RawURLEncoding.Strict()

// Sign returns c signed with key under the id kid (the receipt key and its
// JWK thumbprint). It gives c an id when it has none, sets the version,
// puts times in UTC to the microsecond and sorts the targets and their
// fields, then checks every field: a certificate it returns parses and
// verifies.
func Sign(c Certificate, key ed25519.PrivateKey, kid string) (Certificate, error) {
	if len(key) != ed25519.PrivateKeySize {
		return Certificate{}, errors.New("sign certificate: not an Ed25519 private key")
	}
	if c.ID == "" {
		c.ID = ids.New("cert_")
	}
	if c.Version == 0 {
		c.Version = Version
	}
	c.Started = c.Started.UTC().Truncate(time.Microsecond)
	c.Finished = c.Finished.UTC().Truncate(time.Microsecond)
	c.Targets = normalise(c.Targets)
	c.KeyID = kid
	c.Sig = b64.EncodeToString(make([]byte, ed25519.SignatureSize)) // checked for form below
	if err := check(c); err != nil {
		return Certificate{}, fmt.Errorf("sign certificate: %w", err)
	}
	c.Sig = b64.EncodeToString(ed25519.Sign(key, c.signed()))
	return c, nil
}

// normalise returns a sorted copy of targets, each with its fields sorted,
// and never nil: the JSON then says "targets":[] for an erasure that found
// nothing.
func normalise(targets []Target) []Target {
	out := make([]Target, len(targets))
	for i, t := range targets {
		if len(t.Fields) > 0 {
			t.Fields = slices.Clone(t.Fields)
			slices.Sort(t.Fields)
		} else {
			t.Fields = nil
		}
		out[i] = t
	}
	slices.SortFunc(out, compareTargets)
	return out
}

func compareTargets(a, b Target) int {
	if c := strings.Compare(a.Datastore, b.Datastore); c != 0 {
		return c
	}
	if c := strings.Compare(a.Collection, b.Collection); c != 0 {
		return c
	}
	return strings.Compare(a.Action, b.Action)
}

// Marshal returns c as compact JSON.
func (c Certificate) Marshal() []byte {
	if c.Targets == nil {
		c.Targets = []Target{}
	}
	b, _ := json.Marshal(c) // only strings, numbers and valid times
	return b
}

// Parse reads a signed certificate. It checks the form of every field, not
// the signature: see Verify. Unknown fields, more than one JSON value,
// control characters and more than MaxSize bytes are refused. Its errors
// never quote the input.
func Parse(data []byte) (Certificate, error) {
	c, err := parse(data)
	if err != nil {
		return Certificate{}, fmt.Errorf("%w: %s", ErrMalformed, err)
	}
	return c, nil
}

func parse(data []byte) (Certificate, error) {
	if len(data) > MaxSize {
		return Certificate{}, fmt.Errorf("longer than %d bytes", MaxSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Certificate
	if err := dec.Decode(&c); err != nil {
		return Certificate{}, errors.New("not a JSON object of the certificate's fields")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Certificate{}, errors.New("more than one JSON value")
	}
	c.Started, c.Finished = c.Started.UTC(), c.Finished.UTC()
	if c.Targets == nil {
		c.Targets = []Target{}
	}
	for i := range c.Targets {
		if len(c.Targets[i].Fields) == 0 {
			c.Targets[i].Fields = nil // "fields":[] and no fields are one value
		}
	}
	if err := check(c); err != nil {
		return Certificate{}, err
	}
	return c, nil
}

// check reports the first field of c that is out of form; a certificate
// must be signed (kid and sig present) to pass.
func check(c Certificate) error {
	if c.Version != Version {
		return fmt.Errorf("version %d, want %d", c.Version, Version)
	}
	if !validID(c.ID) {
		return fmt.Errorf("id is not cert_ and 1 to %d lower-case letters or digits", maxID)
	}
	if c.Org != "" && !text(c.Org, maxName) {
		return fmt.Errorf("org is not 1 to %d printable characters", maxName)
	}
	switch c.Kind {
	case KindSweep:
		if !text(c.Rule, maxName) || c.Request != "" {
			return errors.New("a retention sweep names its rule and no request")
		}
	case KindRequest:
		if !text(c.Request, maxName) || c.Rule != "" {
			return errors.New("a request erasure names its request and no rule")
		}
	default:
		return errors.New("kind is not retention_sweep or request_erasure")
	}
	if h, err := hex.DecodeString(c.PlanHash); err != nil || len(h) != sha256.Size || c.PlanHash != strings.ToLower(c.PlanHash) {
		return fmt.Errorf("plan_hash is not %d bytes of lower-case hex", sha256.Size)
	}
	for _, t := range [...]time.Time{c.Started, c.Finished} {
		if t.IsZero() || t.Year() < 1970 || t.Year() > 9999 {
			return errors.New("a time is missing or out of range")
		}
		if !t.Equal(t.Truncate(time.Microsecond)) {
			return errors.New("a time is more precise than a microsecond")
		}
	}
	if c.Finished.Before(c.Started) {
		return errors.New("finished before it started")
	}
	if c.Instance != "" && !text(c.Instance, maxName) {
		return fmt.Errorf("instance is not 1 to %d printable characters", maxName)
	}
	if len(c.Targets) > MaxTargets {
		return fmt.Errorf("more than %d targets", MaxTargets)
	}
	for i, t := range c.Targets {
		if err := checkTarget(t); err != nil {
			return fmt.Errorf("target %d: %w", i, err)
		}
		// Sorted and unique, so that a list has one order: a signature
		// over the order then refuses a reordered list rather than
		// letting two spellings verify.
		if i > 0 && compareTargets(c.Targets[i-1], t) >= 0 {
			return fmt.Errorf("target %d: targets are not sorted by datastore, collection and action, or repeat one", i)
		}
	}
	if !text(c.KeyID, maxKeyID) {
		return fmt.Errorf("kid is not 1 to %d printable characters", maxKeyID)
	}
	if sig, err := b64.DecodeString(c.Sig); err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("sig is not %d bytes of base64url", ed25519.SignatureSize)
	}
	return nil
}

func checkTarget(t Target) error {
	if !text(t.Datastore, maxName) || !text(t.Collection, maxName) {
		return fmt.Errorf("datastore and collection must be 1 to %d printable characters", maxName)
	}
	switch t.Action {
	case ActionErase, ActionAnonymise:
		if len(t.Fields) == 0 {
			return fmt.Errorf("%s names no field", t.Action)
		}
	case ActionDelete, ActionRestrict:
		if len(t.Fields) != 0 {
			return fmt.Errorf("%s names fields", t.Action)
		}
	default:
		return errors.New("action is not delete, erase, anonymise or restrict")
	}
	if len(t.Fields) > MaxFields {
		return fmt.Errorf("more than %d fields", MaxFields)
	}
	for i, f := range t.Fields {
		if !text(f, maxName) {
			return fmt.Errorf("a field is not 1 to %d printable characters", maxName)
		}
		if i > 0 && t.Fields[i-1] >= f {
			return errors.New("fields are not sorted or repeat one")
		}
	}
	if t.Rows < 0 {
		return errors.New("rows is negative")
	}
	return nil
}

func validID(id string) bool {
	rest, ok := strings.CutPrefix(id, "cert_")
	if !ok || rest == "" || len(rest) > maxID {
		return false
	}
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// text reports whether s is valid UTF-8 of 1 to max bytes with no control
// characters: names end up in messages, logs and terminals.
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

// label begins what the signature covers. No other signature of the same
// key can begin with it: a receipt's JWS signing input is base64url text,
// which has no space, and a checkpoint's label differs from its second word.
const label = "custos erasure certificate v1\n"

// signed is what the signature covers: every value in a fixed order, each
// of fixed size or length-prefixed, so no two certificates share it.
func (c Certificate) signed() []byte {
	b := make([]byte, 0, 512+64*len(c.Targets))
	b = append(b, label...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Version))
	str := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	str(c.ID)
	str(c.Org)
	str(c.Kind)
	str(c.Rule)
	str(c.Request)
	str(c.PlanHash)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Started.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, uint64(c.Finished.UnixMicro()))
	str(c.Instance)
	b = binary.BigEndian.AppendUint64(b, uint64(len(c.Targets)))
	for _, t := range c.Targets {
		str(t.Datastore)
		str(t.Collection)
		str(t.Action)
		b = binary.BigEndian.AppendUint64(b, uint64(len(t.Fields)))
		for _, f := range t.Fields {
			str(f)
		}
		b = binary.BigEndian.AppendUint64(b, uint64(t.Rows))
	}
	str(c.KeyID)
	return b
}

// Verify checks c's form and its signature with the key its kid names in
// jwks, a JWK Set such as the one served at /v1/keys/receipts (kept from
// before a key was replaced, it verifies what the old key signed).
func Verify(c Certificate, jwks []byte) error {
	if err := check(c); err != nil {
		return fmt.Errorf("%w: %s", ErrMalformed, err)
	}
	pub, err := findKey(jwks, c.KeyID)
	if err != nil {
		return err
	}
	sig, _ := b64.DecodeString(c.Sig) // its form is checked above
	if !ed25519.Verify(pub, c.signed(), sig) {
		return ErrSignature
	}
	return nil
}

// findKey returns the Ed25519 key with id kid from a JWK Set (RFC 8037).
func findKey(jwks []byte, kid string) (ed25519.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Crv string `json:"crv"`
			X   string `json:"x"`
			Kid string `json:"kid"`
			Alg string `json:"alg"`
			Use string `json:"use"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, errors.New("certificate keys: not a JWK Set")
	}
	for _, k := range set.Keys {
		if k.Kid != kid || k.Kty != "OKP" || k.Crv != "Ed25519" {
			continue
		}
		if (k.Alg != "" && k.Alg != "EdDSA") || (k.Use != "" && k.Use != "sig") {
			continue
		}
		x, err := b64.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("certificate keys: key %s: x is not %d bytes of base64url", kid, ed25519.PublicKeySize)
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownKey, kid)
}

// PlanHash returns the hex SHA-256 of plan's canonical JSON: encoded, then
// decoded and encoded again, so that object keys are sorted, numbers keep
// their digits and there is no insignificant space. The caller decides
// what the plan holds: it must leave out anything personal (row keys are),
// since the hash of a guessable value discloses it.
func PlanHash(plan any) (string, error) {
	raw, err := json.Marshal(plan)
	if err != nil {
		return "", fmt.Errorf("plan hash: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("plan hash: %w", err)
	}
	canon, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("plan hash: %w", err)
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// Signer signs certificates with one key under one key id.
type Signer struct {
	key ed25519.PrivateKey
	kid string
}

// NewSigner signs with key under the id kid: the receipt key and its JWK
// thumbprint, so that the key set published at /v1/keys/receipts verifies
// certificates.
func NewSigner(key ed25519.PrivateKey, kid string) (*Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("certificate signer: not an Ed25519 private key")
	}
	if !text(kid, maxKeyID) {
		return nil, errors.New("certificate signer: the key id is empty or not printable")
	}
	return &Signer{key: key, kid: kid}, nil
}

// Sign signs c; see the package function Sign.
func (s *Signer) Sign(c Certificate) (Certificate, error) { return Sign(c, s.key, s.kid) }

// KeyID is the id certificates are signed under.
func (s *Signer) KeyID() string { return s.kid }

// JWKS returns the JWK Set that verifies what s signs, in the form of the
// one served at /v1/keys/receipts.
func (s *Signer) JWKS() []byte {
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": s.kid,
		"x": b64.EncodeToString(s.key.Public().(ed25519.PublicKey)),
	}}})
	return b
}
