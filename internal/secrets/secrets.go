// Package secrets creates and reads the key files the server needs: the
// identity hashing key, the keyset that seals stored personal data and the
// key that signs receipts.
package secrets

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/custos-privacy/custos/internal/seal"
)

// File names inside a secrets directory.
const (
	IdentityKeyFile = "identity.key"
	DataKeysetFile  = "data.keyset.json"
	ReceiptKeyFile  = "receipt.pem"
)

// IdentityKeySize is the size of a generated identity key and the smallest
// one DecodeIdentityKey accepts, in bytes.
const IdentityKeySize = 32

// ErrExists is returned by Init when a secret file is already there and
// overwrite was not asked for.
var ErrExists = errors.New("secret file already exists")

// Files holds the paths of the secret files written by Init.
type Files struct {
	IdentityKey string // base64 key for identity.Hasher
	DataKeyset  string // Tink JSON keyset for seal.New
	ReceiptKey  string // PKCS#8 PEM Ed25519 private key
}

// Init creates dir (mode 0700) and writes a fresh identity key, data keyset
// and receipt signing key into it, each mode 0600. It writes nothing unless
// overwrite is set or none of the three files exists, so that a second run
// cannot destroy the keys that existing data depends on.
func Init(dir string, overwrite bool) (Files, error) {
	f := Files{
		IdentityKey: filepath.Join(dir, IdentityKeyFile),
		DataKeyset:  filepath.Join(dir, DataKeysetFile),
		ReceiptKey:  filepath.Join(dir, ReceiptKeyFile),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("secrets init: %w", err)
	}
	if !overwrite {
		var existing []error
		for _, p := range []string{f.IdentityKey, f.DataKeyset, f.ReceiptKey} {
			if _, err := os.Lstat(p); err == nil {
				existing = append(existing, fmt.Errorf("%s: %w", p, ErrExists))
			} else if !errors.Is(err, fs.ErrNotExist) {
				return Files{}, fmt.Errorf("secrets init: %w", err)
			}
		}
		if len(existing) > 0 {
			return Files{}, fmt.Errorf("secrets init: %w", errors.Join(existing...))
		}
	}

	identityKey := make([]byte, IdentityKeySize)
	if _, err := rand.Read(identityKey); err != nil {
		return Files{}, fmt.Errorf("secrets init: %w", err)
	}
	keyset, err := seal.GenerateKeyset()
	if err != nil {
		return Files{}, fmt.Errorf("secrets init: %w", err)
	}
	receiptKey, err := receiptPEM()
	if err != nil {
		return Files{}, fmt.Errorf("secrets init: %w", err)
	}
	for _, w := range []struct {
		path string
		data []byte
	}{
		{f.IdentityKey, []byte(base64.StdEncoding.EncodeToString(identityKey) + "\n")},
		{f.DataKeyset, keyset},
		{f.ReceiptKey, receiptKey},
	} {
		if err := writeFile(w.path, w.data, overwrite); err != nil {
			return Files{}, fmt.Errorf("secrets init: %w", err)
		}
	}
	return f, nil
}

func receiptPEM() ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// writeFile writes data to path through a temporary file in the same
// directory, so that a crash leaves either the old file or the new one, never
// half a key. Without overwrite the file is linked into place, which fails if
// another process created path in the meantime.
func writeFile(path string, data []byte, overwrite bool) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if rmErr := os.Remove(tmp.Name()); err == nil && rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
			err = rmErr
		}
	}()
	// CreateTemp makes the file 0600 already; Chmod says so in the code and
	// holds even under an unusual umask.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if overwrite {
		err = os.Rename(tmp.Name(), path)
	} else {
		err = os.Link(tmp.Name(), path)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", path, ErrExists)
		}
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename or link durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// ParseReceiptKey parses a receipt signing key as written by Init: one
// "PRIVATE KEY" PEM block holding a PKCS#8 Ed25519 key. Errors never quote
// the input.
func ParseReceiptKey(b []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("receipt key is not a PEM \"PRIVATE KEY\" block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("receipt key is not a PKCS#8 private key")
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("receipt key is a %s key; want Ed25519", keyType(k))
	}
	return priv, nil
}

func keyType(k any) string {
	switch k.(type) {
	case *rsa.PrivateKey:
		return "RSA"
	case *ecdsa.PrivateKey:
		return "ECDSA"
	case *ecdh.PrivateKey:
		return "ECDH"
	default:
		return "non-Ed25519"
	}
}

// DecodeIdentityKeys decodes an identity key file: one key per line,
// oldest first, as rotation leaves it (custos secrets rotate identity-key);
// blank lines and lines starting with # are ignored. Each key is read as
// DecodeIdentityKey reads one. Errors name the line, never the input.
func DecodeIdentityKeys(b []byte) ([][]byte, error) {
	var keys [][]byte
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := DecodeIdentityKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("identity key is empty")
	}
	return keys, nil
}

// EncodeIdentityKeys is the identity key file holding keys, oldest first,
// in hex: DecodeIdentityKey reads a line of hex digits as hex, so base64
// that happens to be all hex digits (a 33-byte key of zeros) would come
// back as another key.
func EncodeIdentityKeys(keys [][]byte) []byte {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(hex.EncodeToString(k))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// NewIdentityKey returns a fresh random identity key.
func NewIdentityKey() []byte {
	k := make([]byte, IdentityKeySize)
	rand.Read(k)
	return k
}

// DecodeIdentityKey decodes an identity key as written by Init or supplied by
// an operator: standard base64, unpadded URL-safe base64 or hex (64 digits
// for a 32-byte key), surrounding whitespace ignored. The key must be at least IdentityKeySize
// bytes. Errors never quote the input.
func DecodeIdentityKey(b []byte) ([]byte, error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil, errors.New("identity key is empty")
	}
	var key []byte
	var err error
	switch {
	// Hex digits are also valid base64 letters: 64 hex digits would decode
	// as 48 bytes of base64. Whoever wrote only hex digits meant hex, and a
	// base64 key of random bytes is all hex digits with negligible odds.
	case len(s)%2 == 0 && isHex(s):
		key, err = hex.DecodeString(s)
	default:
		key, err = base64.StdEncoding.DecodeString(s)
		if err != nil {
			key, err = base64.RawURLEncoding.DecodeString(s)
		}
	}
	if err != nil {
		return nil, errors.New("identity key is neither base64 nor hex")
	}
	if len(key) < IdentityKeySize {
		return nil, fmt.Errorf("identity key is %d bytes; at least %d are needed", len(key), IdentityKeySize)
	}
	return key, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// Replace writes data over the secret file at path, atomically (a crash
// leaves the old file or the new one) and mode 0600.
func Replace(path string, data []byte) error { return writeFile(path, data, true) }
