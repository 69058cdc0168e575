package receipt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The Ed25519 key of RFC 8037 appendix A.1.
const (
	rfcD   = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
	rfcX   = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
	rfcKid = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" // appendix A.3
)

func rfcKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	seed, err := b64.DecodeString(rfcD)
	if err != nil {
		t.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(seed)
}

func rfcSigner(t *testing.T) *Signer {
	t.Helper()
	p, err := encodeKey(rfcKey(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestThumbprintRFC8037(t *testing.T) {
	x, err := b64.DecodeString(rfcX)
	if err != nil {
		t.Fatal(err)
	}
	if got := thumbprint(x); got != rfcKid {
		t.Errorf("thumbprint(x) = %s, want %s", got, rfcKid)
	}
	s := rfcSigner(t)
	if got := b64.EncodeToString(s.PublicKey()); got != rfcX {
		t.Errorf("PublicKey() = %s, want %s", got, rfcX)
	}
	if got := s.KeyID(); got != rfcKid {
		t.Errorf("KeyID() = %s, want %s", got, rfcKid)
	}
}

// RFC 8037 appendix A.4: the JWS of "Example of Ed25519 signing" under {"alg":"EdDSA"}.
func TestSignCompactRFC8037(t *testing.T) {
	const want = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc." +
		"hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
	got := signCompact(rfcKey(t), []byte(`{"alg":"EdDSA"}`), []byte("Example of Ed25519 signing"))
	if got != want {
		t.Errorf("signCompact =\n%s\nwant\n%s", got, want)
	}
}

func TestJWKS(t *testing.T) {
	got, err := rfcSigner(t).JWKS()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + rfcX + `","kid":"` + rfcKid + `","alg":"EdDSA","use":"sig"}]}`
	if d := cmp.Diff(want, string(got)); d != "" {
		t.Errorf("JWKS (-want +got):\n%s", d)
	}
}

func TestGenerateKeyPEM(t *testing.T) {
	a, err := GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(a, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("GenerateKeyPEM() does not start with a PRIVATE KEY block:\n%s", a)
	}
	sa, err := NewSigner(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := NewSigner(b)
	if err != nil {
		t.Fatal(err)
	}
	if sa.KeyID() == sb.KeyID() {
		t.Error("two generated keys have the same key id")
	}
	if got := thumbprint(sa.PublicKey()); got != sa.KeyID() {
		t.Errorf("KeyID() = %s, want the thumbprint %s", sa.KeyID(), got)
	}
}

func TestNewSignerErrors(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(rfcKey(t))
	if err != nil {
		t.Fatal(err)
	}
	block := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "no PEM block found"},
		{"not PEM", []byte(rfcD), "no PEM block found"},
		{"EC PRIVATE KEY", block("EC PRIVATE KEY", ecDER), `PEM block is "EC PRIVATE KEY", want "PRIVATE KEY"`},
		{"public key", block("PUBLIC KEY", edDER), `PEM block is "PUBLIC KEY", want "PRIVATE KEY"`},
		{"garbage DER", block("PRIVATE KEY", edDER[:20]), "not a valid PKCS #8 private key"},
		{"ECDSA", block("PRIVATE KEY", ecDER), "key is *ecdsa.PrivateKey, want an Ed25519 key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSigner(tt.in)
			if err == nil {
				t.Fatalf("NewSigner = %v, want an error", s)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			// Neither the key's base64 body nor any of its bytes may reach the message.
			if p, _ := pem.Decode(tt.in); p != nil && len(p.Bytes) > 0 {
				body := strings.Join(strings.Split(string(tt.in), "\n")[1:2], "")
				if strings.Contains(err.Error(), body[:16]) || strings.Contains(err.Error(), string(p.Bytes[len(p.Bytes)-8:])) {
					t.Errorf("error %q quotes the key", err)
				}
			}
			if strings.Contains(err.Error(), rfcD) {
				t.Errorf("error %q quotes the key", err)
			}
		})
	}
}

func TestSignRejects(t *testing.T) {
	s := rfcSigner(t)
	valid := Build(small(), Event{ID: "e1", SubjectID: "s1", Action: ActionGrant}, "en")
	tests := []struct {
		name   string
		modify func(*Receipt)
		ok     bool
	}{
		{"valid", func(*Receipt) {}, true},
		{"numeric user id", func(r *Receipt) { r.PIIPrincipalID = "1234567890123456789" }, true},
		{"no subject", func(r *Receipt) { r.PIIPrincipalID = "" }, false},
		{"email as subject", func(r *Receipt) { r.PIIPrincipalID = "li.lei@example.cn" }, false},
		{"international number as subject", func(r *Receipt) { r.PIIPrincipalID = "+86 138 0013 8000" }, false},
		{"mainland mobile as subject", func(r *Receipt) { r.PIIPrincipalID = "13800138000" }, false},
		{"wrong version", func(r *Receipt) { r.Version = "KI-CR-v1.0.0" }, false},
		{"jti differs", func(r *Receipt) { r.JTI = "other" }, false},
		{"no event", func(r *Receipt) { r.Custos.Event = "" }, false},
		{"unknown action", func(r *Receipt) { r.Custos.Action = "revoke" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid
			tt.modify(&r)
			_, err := s.Sign(r)
			if tt.ok {
				if err != nil {
					t.Fatalf("Sign: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidReceipt) {
				t.Fatalf("Sign error = %v, want ErrInvalidReceipt", err)
			}
			if r.PIIPrincipalID != "" && strings.Contains(err.Error(), r.PIIPrincipalID) {
				t.Errorf("error %q quotes the subject id", err)
			}
		})
	}
}

// TestSignDocument: a document other than a receipt is signed with the
// same key, under its own type, and its signature fails once a byte of it
// changes.
func TestSignDocument(t *testing.T) {
	pemKey, err := GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.SignDocument("custos-test+jwt", map[string]int{"requests_erased": 2})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		t.Fatalf("jws %q", jws)
	}
	head, _ := base64.RawURLEncoding.DecodeString(parts[0])
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if string(payload) != `{"requests_erased":2}` || !strings.Contains(string(head), `"typ":"custos-test+jwt"`) || !strings.Contains(string(head), s.KeyID()) {
		t.Errorf("header %s, payload %s", head, payload)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if !ed25519.Verify(s.PublicKey(), []byte(parts[0]+"."+parts[1]), sig) {
		t.Error("the signature does not verify")
	}
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"requests_erased":3}`))
	if ed25519.Verify(s.PublicKey(), []byte(parts[0]+"."+forged), sig) {
		t.Error("a changed document verifies")
	}
	if _, err := s.SignDocument("custos-test+jwt", func() {}); err == nil {
		t.Error("an unencodable document was signed")
	}
}
