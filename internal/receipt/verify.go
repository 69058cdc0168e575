package receipt

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Reasons Verify rejects a token; test with errors.Is.
var (
	ErrMalformed  = errors.New("malformed token")
	ErrAlgorithm  = errors.New("unsupported algorithm")
	ErrUnknownKey = errors.New("unknown key id")
	ErrSignature  = errors.New("signature does not verify")
)

// maxToken bounds what Verify reads: receipts are a few kilobytes, and tokens may come
// from anyone who presents one.
const maxToken = 64 << 10

// strict rejects base64 with non-zero padding bits, so each signature has one encoding.
var strict = b64.Strict()

// Verify checks token against the keys in jwks and returns its receipt. The key is
// chosen by the header's kid; only EdDSA over Ed25519 is accepted.
func Verify(jwks []byte, token string) (Receipt, error) {
	r, err := verify(jwks, token)
	if err != nil {
		return Receipt{}, fmt.Errorf("verify receipt: %w", err)
	}
	return r, nil
}

func verify(jwks []byte, token string) (Receipt, error) {
	if len(token) > maxToken {
		return Receipt{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxToken)
	}
	// The decoder skips line breaks; refusing every byte outside the alphabet keeps a
	// token from having more than one spelling.
	if i := strings.IndexFunc(token, func(c rune) bool { return !isTokenChar(c) }); i >= 0 {
		return Receipt{}, fmt.Errorf("%w: unexpected character at offset %d", ErrMalformed, i)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Receipt{}, fmt.Errorf("%w: %d parts, want 3", ErrMalformed, len(parts))
	}
	rawHeader, err := strict.DecodeString(parts[0])
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: header is not base64url", ErrMalformed)
	}
	var h header
	if err := json.Unmarshal(rawHeader, &h); err != nil {
		return Receipt{}, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	if h.Alg != Algorithm {
		return Receipt{}, fmt.Errorf("%w: %q", ErrAlgorithm, clip(h.Alg))
	}
	// RFC 7515 §4.1.11: extensions marked critical must be understood; we know none.
	if len(h.Crit) > 0 {
		return Receipt{}, fmt.Errorf("%w: critical header extensions are not supported", ErrMalformed)
	}
	pub, err := findKey(jwks, h.Kid)
	if err != nil {
		return Receipt{}, err
	}
	sig, err := strict.DecodeString(parts[2])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Receipt{}, fmt.Errorf("%w: signature is not %d bytes of base64url", ErrMalformed, ed25519.SignatureSize)
	}
	if !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		return Receipt{}, ErrSignature
	}
	payload, err := strict.DecodeString(parts[1])
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	var r Receipt
	if err := json.Unmarshal(payload, &r); err != nil {
		return Receipt{}, fmt.Errorf("%w: payload is not a receipt", ErrMalformed)
	}
	if r.Version != Version {
		return Receipt{}, fmt.Errorf("%w: receipt version %q, want %q", ErrMalformed, r.Version, Version)
	}
	return r, nil
}

func isTokenChar(c rune) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// findKey returns the Ed25519 key with id kid from a JWK Set.
func findKey(jwks []byte, kid string) (ed25519.PublicKey, error) {
	if kid == "" {
		return nil, fmt.Errorf("%w: header has no kid", ErrUnknownKey)
	}
	var set jwkSet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, fmt.Errorf("read JWKS: %w", err)
	}
	for _, k := range set.Keys {
		if k.Kid != kid || k.Kty != "OKP" || k.Crv != "Ed25519" {
			continue
		}
		if (k.Alg != "" && k.Alg != Algorithm) || (k.Use != "" && k.Use != "sig") {
			continue
		}
		x, err := strict.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("read JWKS: key %q: x is not %d bytes of base64url", kid, ed25519.PublicKeySize)
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownKey, clip(kid))
}

// clip shortens a header value for an error message: the token is the caller's input
// and may be as long as maxToken.
func clip(s string) string {
	const max = 48
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
