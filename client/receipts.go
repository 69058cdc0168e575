package client

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// SignedReceipt is a consent receipt as the server issues it.
type SignedReceipt struct {
	// Receipt is a JWS in compact serialisation, signed with Ed25519
	// (EdDSA), whose payload is a Kantara Consent Receipt v1.1. Hand it to
	// the person; VerifyReceipt or any JOSE library checks it.
	Receipt string `json:"receipt"`
	// KeysURL is the path of the JWK Set that verifies it.
	KeysURL string `json:"keys_url"`
}

// ConsentReceipt returns the signed receipt of a grant or withdrawal event
// (ConsentEvent.ID). Other events have none (code no_receipt).
func (c *Client) ConsentReceipt(ctx context.Context, subjectID, eventID string) (SignedReceipt, error) {
	if err := need("ConsentReceipt", "subject id", subjectID); err != nil {
		return SignedReceipt{}, err
	}
	if err := need("ConsentReceipt", "event id", eventID); err != nil {
		return SignedReceipt{}, err
	}
	var out SignedReceipt
	err := c.do(ctx, call{op: "ConsentReceipt", method: "GET", path: pathOf("subjects", subjectID, "consents", eventID, "receipt")}, &out)
	return out, err
}

// JWK is a public key of a JWK Set (RFC 7517); receipts are signed with
// Ed25519 keys (kty OKP, crv Ed25519, RFC 8037).
type JWK struct {
	// Kty is the key type, OKP.
	Kty string `json:"kty"`
	// Crv is the curve, Ed25519.
	Crv string `json:"crv"`
	// X is the public key, base64url.
	X string `json:"x"`
	// Kid is the key id a receipt's header names.
	Kid string `json:"kid,omitempty"`
	// Alg is EdDSA.
	Alg string `json:"alg,omitempty"`
	// Use is sig.
	Use string `json:"use,omitempty"`
}

// JWKSet is the set of keys that verify consent receipts.
type JWKSet struct {
	// Keys are the keys in use.
	Keys []JWK `json:"keys"`
}

// ReceiptKeys returns the public keys that verify consent receipts; the
// route is public.
func (c *Client) ReceiptKeys(ctx context.Context) (JWKSet, error) {
	var out JWKSet
	err := c.do(ctx, call{op: "ReceiptKeys", method: "GET", path: pathOf("keys", "receipts")}, &out)
	return out, err
}

// ErrReceiptInvalid is returned by VerifyReceipt for a token that is
// malformed, signed by a key the server does not publish, or whose
// signature does not verify.
var ErrReceiptInvalid = errors.New("custos: the consent receipt does not verify")

// Receipt is the payload of a consent receipt: the Kantara Consent
// Receipt v1.1 fields, the JWT claims iat and jti, and Custos's own.
type Receipt struct {
	// Version is the Kantara version, KI-CR-v1.1.0.
	Version string `json:"version"`
	// Jurisdiction is the ISO 3166-1 country of the first controller.
	Jurisdiction string `json:"jurisdiction"`
	// ConsentTimestamp is when the choice was made, in Unix seconds.
	ConsentTimestamp int64 `json:"consentTimestamp"`
	// CollectionMethod is how the choice was collected.
	CollectionMethod string `json:"collectionMethod"`
	// ConsentReceiptID identifies the receipt.
	ConsentReceiptID string `json:"consentReceiptID"`
	// PublicKey optionally carries the controller's public key.
	PublicKey string `json:"publicKey,omitempty"`
	// Language is the language the choice was made in.
	Language string `json:"language"`
	// PIIPrincipalID is the subject id.
	PIIPrincipalID string `json:"piiPrincipalId"`
	// PIIControllers are the organisations responsible.
	PIIControllers []ReceiptController `json:"piiControllers"`
	// PolicyURL is where the privacy policy is published.
	PolicyURL string `json:"policyUrl"`
	// Services are the services and purposes the choice covers.
	Services []ReceiptService `json:"services"`
	// Sensitive says sensitive personal information is concerned.
	Sensitive bool `json:"sensitive"`
	// SPICat lists the sensitive categories concerned.
	SPICat []string `json:"spiCat,omitempty"`
	// IssuedAt is the JWT iat claim, in Unix seconds.
	IssuedAt int64 `json:"iat"`
	// JTI is the JWT jti claim; it equals ConsentReceiptID.
	JTI string `json:"jti"`
	// Custos ties the receipt to the ledger.
	Custos ReceiptExtension `json:"custos"`
}

// ReceiptController is a PII controller named in a receipt.
type ReceiptController struct {
	// PIIController is the controller's legal name.
	PIIController string `json:"piiController"`
	// OnBehalf is true for a processor acting for another.
	OnBehalf bool `json:"onBehalf"`
	// Contact is the department or person to contact.
	Contact string `json:"contact"`
	// Address is the controller's postal address.
	Address ReceiptAddress `json:"address"`
	// Email is the published contact email address.
	Email string `json:"email"`
	// Phone is the published contact telephone number.
	Phone string `json:"phone"`
	// PIIControllerURL is the controller's website.
	PIIControllerURL string `json:"piiControllerUrl,omitempty"`
}

// ReceiptAddress is a postal address in a receipt.
type ReceiptAddress struct {
	// StreetAddress is the whole address, as one line.
	StreetAddress string `json:"streetAddress,omitempty"`
	// AddressCountry is the ISO 3166-1 country code.
	AddressCountry string `json:"addressCountry,omitempty"`
}

// ReceiptService is a service and the purposes of it a receipt covers.
type ReceiptService struct {
	// Service is the service's name.
	Service string `json:"service"`
	// Purposes are the purposes of it covered.
	Purposes []ReceiptPurpose `json:"purposes"`
}

// ReceiptPurpose is one purpose a receipt covers; PurposeCategory holds
// the manifest's purpose id.
type ReceiptPurpose struct {
	// Purpose is the purpose's name.
	Purpose string `json:"purpose"`
	// PurposeCategory holds the manifest's purpose id.
	PurposeCategory []string `json:"purposeCategory"`
	// ConsentType is EXPLICIT for consent, else the legal basis.
	ConsentType string `json:"consentType"`
	// PIICategory lists the categories of data collected for it.
	PIICategory []string `json:"piiCategory"`
	// PrimaryPurpose says the service cannot work without it.
	PrimaryPurpose bool `json:"primaryPurpose"`
	// Termination says when processing for it ends.
	Termination string `json:"termination"`
	// ThirdPartyDisclosure says a recipient receives data for it.
	ThirdPartyDisclosure bool `json:"thirdPartyDisclosure"`
	// ThirdPartyName names those recipients.
	ThirdPartyName string `json:"thirdPartyName,omitempty"`
}

// ReceiptExtension ties a receipt to the ledger event it records.
type ReceiptExtension struct {
	// Event is the ledger event id (ConsentEvent.ID).
	Event string `json:"event"`
	// Action is ActionGrant or ActionWithdraw.
	Action string `json:"action"`
	// PolicyVersion is the version the person was shown.
	PolicyVersion string `json:"policyVersion"`
	// NoticeHash is the hash of the notice shown.
	NoticeHash string `json:"noticeHash"`
	// Separate says the consent was asked on its own.
	Separate bool `json:"separate"`
	// Method is how the choice was collected.
	Method string `json:"method"`
}

// VerifyReceipt checks a receipt's signature against the keys the server
// publishes (fetched once, and again when a receipt names a key not yet
// seen) and returns its payload. A receipt that does not verify is
// ErrReceiptInvalid.
func (c *Client) VerifyReceipt(ctx context.Context, token string) (Receipt, error) {
	signed, payload, sig, kid, err := splitJWS(token)
	if err != nil {
		return Receipt{}, err
	}
	pub, err := c.keys.get(ctx, c, kid)
	if err != nil {
		return Receipt{}, err
	}
	if !ed25519.Verify(pub, []byte(signed), sig) {
		return Receipt{}, fmt.Errorf("%w: bad signature", ErrReceiptInvalid)
	}
	var r Receipt
	if err := json.Unmarshal(payload, &r); err != nil {
		return Receipt{}, fmt.Errorf("%w: the payload is not a receipt", ErrReceiptInvalid)
	}
	return r, nil
}

var b64 = base64.RawURLEncoding.Strict()

// splitJWS reads a compact EdDSA JWS: the signed part, the payload, the
// signature and the key id. Its errors do not quote the token.
func splitJWS(token string) (signed string, payload, sig []byte, kid string, err error) {
	bad := func(why string) error { return fmt.Errorf("%w: %s", ErrReceiptInvalid, why) }
	if len(token) > 64<<10 {
		return "", nil, nil, "", bad("too long")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", nil, nil, "", bad("not a compact JWS")
	}
	rawHeader, err1 := b64.DecodeString(parts[0])
	payload, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return "", nil, nil, "", bad("not base64url")
	}
	var h struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
	}
	if json.Unmarshal(rawHeader, &h) != nil {
		return "", nil, nil, "", bad("the header is not JSON")
	}
	switch {
	case h.Alg != "EdDSA":
		return "", nil, nil, "", bad("the algorithm is not EdDSA")
	case len(h.Crit) > 0:
		return "", nil, nil, "", bad("critical header extensions are not supported")
	case h.Kid == "":
		return "", nil, nil, "", bad("the header names no key")
	case len(sig) != ed25519.SignatureSize:
		return "", nil, nil, "", bad("the signature is not an Ed25519 signature")
	}
	return parts[0] + "." + parts[1], payload, sig, h.Kid, nil
}

// keyCache holds the receipt keys by id. Keys are not rotated often, so
// they are fetched again only for an id not seen.
type keyCache struct {
	mu   sync.Mutex
	keys map[string]ed25519.PublicKey
}

func (k *keyCache) get(ctx context.Context, c *Client, kid string) (ed25519.PublicKey, error) {
	k.mu.Lock()
	pub, ok := k.keys[kid]
	k.mu.Unlock()
	if ok {
		return pub, nil
	}
	set, err := c.ReceiptKeys(ctx)
	if err != nil {
		return nil, err
	}
	keys := map[string]ed25519.PublicKey{}
	for _, j := range set.Keys {
		if j.Kty != "OKP" || j.Crv != "Ed25519" || (j.Alg != "" && j.Alg != "EdDSA") || (j.Use != "" && j.Use != "sig") {
			continue
		}
		x, err := b64.DecodeString(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			continue
		}
		keys[j.Kid] = ed25519.PublicKey(x)
	}
	k.mu.Lock()
	k.keys = keys
	k.mu.Unlock()
	if pub, ok := keys[kid]; ok {
		return pub, nil
	}
	return nil, fmt.Errorf("%w: signed by a key the server does not publish", ErrReceiptInvalid)
}
