package receipt

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Algorithm is the JWS algorithm of every receipt (RFC 8037).
const Algorithm = "EdDSA"

// pemType is the PEM label of a PKCS #8 private key.
const pemType = "PRIVATE KEY"

var b64 = base64.RawURLEncoding

// Signer signs receipts with an Ed25519 key.
type Signer struct {
	key ed25519.PrivateKey
	kid string
}

// GenerateKeyPEM returns a new Ed25519 private key as a PKCS #8 PEM block ("PRIVATE KEY").
func GenerateKeyPEM() ([]byte, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate receipt key: %w", err)
	}
	return encodeKey(key)
}

func encodeKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode receipt key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}), nil
}

// NewSigner reads an Ed25519 private key from a PKCS #8 PEM block.
func NewSigner(pemBytes []byte) (*Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("load receipt key: no PEM block found")
	}
	if block.Type != pemType {
		return nil, fmt.Errorf("load receipt key: PEM block is %q, want %q (PKCS #8)", block.Type, pemType)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		// The parser's message is dropped: it is not worth the risk of one day
		// quoting part of a private key into a log.
		return nil, errors.New("load receipt key: not a valid PKCS #8 private key")
	}
	ed, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("load receipt key: key is %T, want an Ed25519 key", key)
	}
	return &Signer{key: ed, kid: thumbprint(ed.Public().(ed25519.PublicKey))}, nil
}

// KeyID returns the RFC 7638 JWK thumbprint of the public key, used as "kid".
func (s *Signer) KeyID() string { return s.kid }

// PublicKey returns the public half of the signing key.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// jwk is an Ed25519 public key as a JSON Web Key (RFC 8037 §2).
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

// JWKS returns the public key as a JWK Set, for publishing to those who verify receipts.
func (s *Signer) JWKS() ([]byte, error) {
	set := jwkSet{Keys: []jwk{{
		Kty: "OKP",
		Crv: "Ed25519",
		X:   b64.EncodeToString(s.PublicKey()),
		Kid: s.kid,
		Alg: Algorithm,
		Use: "sig",
	}}}
	out, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("encode JWKS: %w", err)
	}
	return out, nil
}

// thumbprint is the RFC 7638 thumbprint of an Ed25519 key: SHA-256 over the required
// members in lexicographic order with no whitespace (RFC 8037 §2, appendix A.3).
func thumbprint(pub ed25519.PublicKey) string {
	canonical := `{"crv":"Ed25519","kty":"OKP","x":"` + b64.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return b64.EncodeToString(sum[:])
}

// header is the JWS protected header.
type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid,omitempty"`
	Typ  string          `json:"typ,omitempty"`
	Crit json.RawMessage `json:"crit,omitempty"`
}

// Sign returns r as a compact JWS signed with the signer's key.
func (s *Signer) Sign(r Receipt) (string, error) {
	if err := check(r); err != nil {
		return "", fmt.Errorf("sign receipt: %w", err)
	}
	h, err := json.Marshal(header{Alg: Algorithm, Kid: s.kid, Typ: "JWT"})
	if err != nil {
		return "", fmt.Errorf("sign receipt: %w", err)
	}
	payload, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("sign receipt: %w", err)
	}
	return signCompact(s.key, h, payload), nil
}

// SignDocument returns v, a record other than a consent receipt (a
// certificate of deletion, say), as a compact JWS of type typ signed with
// the signer's key; it verifies against the same JWKS as receipts.
func (s *Signer) SignDocument(typ string, v any) (string, error) {
	h, err := json.Marshal(header{Alg: Algorithm, Kid: s.kid, Typ: typ})
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", typ, err)
	}
	payload, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", typ, err)
	}
	return signCompact(s.key, h, payload), nil
}

func signCompact(key ed25519.PrivateKey, header, payload []byte) string {
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	return input + "." + b64.EncodeToString(ed25519.Sign(key, []byte(input)))
}

// ErrInvalidReceipt is returned by Sign for a receipt that must not be issued.
var ErrInvalidReceipt = errors.New("invalid receipt")

var (
	mainlandMobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	phoneNumber    = regexp.MustCompile(`^\+[0-9][0-9 ()-]{5,}[0-9]$`)
)

// check refuses receipts that a signature would make permanent mistakes of. The
// messages never quote the subject id: if it is an email address, that is the leak.
func check(r Receipt) error {
	switch {
	case r.Version != Version:
		return fmt.Errorf("%w: version is %q, want %q", ErrInvalidReceipt, r.Version, Version)
	case r.PIIPrincipalID == "":
		return fmt.Errorf("%w: no subject id", ErrInvalidReceipt)
	case looksLikeContact(r.PIIPrincipalID):
		return fmt.Errorf("%w: subject id looks like an email address or phone number; use the opaque subject id", ErrInvalidReceipt)
	case r.ConsentReceiptID == "" || r.JTI != r.ConsentReceiptID:
		return fmt.Errorf("%w: jti must equal a non-empty consentReceiptID", ErrInvalidReceipt)
	case r.Custos.Event == "":
		return fmt.Errorf("%w: no ledger event id", ErrInvalidReceipt)
	case r.Custos.Action != ActionGrant && r.Custos.Action != ActionWithdraw:
		return fmt.Errorf("%w: action is %q, want %q or %q", ErrInvalidReceipt, r.Custos.Action, ActionGrant, ActionWithdraw)
	}
	return nil
}

// looksLikeContact catches the usual mistake of passing the sign-in identifier as the
// subject id: an email address, an international number, or a mainland mobile number
// (the one bare-digit shape a numeric user id is unlikely to take by chance).
func looksLikeContact(id string) bool {
	return strings.Contains(id, "@") || phoneNumber.MatchString(id) || mainlandMobile.MatchString(id)
}
