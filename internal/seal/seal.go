// Package seal encrypts the personal data Custos has to keep in readable form
// (a contact address to answer a request, say), with AES-256-GCM keysets
// managed by Tink.
//
// The keyset is held in cleartext JSON. Its protection is that of the file or
// secret-manager entry it comes from: mode 0600 owned by the service account,
// or a mounted secret, never the repository or the database it protects.
// Keysets can hold several keys: the primary one seals, all of them open, so a
// key is rotated by adding a new primary and re-sealing at leisure.
package seal

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// ErrOpen is returned by Open for any ciphertext that does not decrypt: wrong
// key, wrong associated data or tampering all look the same, on purpose.
var ErrOpen = errors.New("seal: ciphertext cannot be opened with this keyset and associated data")

// Sealer seals and opens values with one keyset. It is safe for concurrent use.
type Sealer struct {
	aead tink.AEAD
}

// GenerateKeyset returns a new cleartext JSON keyset holding one AES-256-GCM key.
func GenerateKeyset() ([]byte, error) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, fmt.Errorf("seal: generate keyset: %w", err)
	}
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
		return nil, fmt.Errorf("seal: generate keyset: %w", err)
	}
	return buf.Bytes(), nil
}

// New returns a Sealer for a cleartext JSON keyset such as GenerateKeyset
// writes. Any AEAD keyset Tink accepts will do.
func New(keysetJSON []byte) (*Sealer, error) {
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(keysetJSON)))
	if err != nil {
		// The cause is dropped: JSON syntax errors quote the input, which
		// here is key material.
		return nil, errors.New("seal: keyset is not a valid Tink JSON keyset")
	}
	a, err := aead.New(h)
	if err != nil {
		// Key types and ids only, no key bytes.
		return nil, fmt.Errorf("seal: keyset is not an AEAD keyset: %w", err)
	}
	return &Sealer{aead: a}, nil
}

// Seal encrypts plaintext under the primary key. associatedData is not
// encrypted but must be given again to Open: callers pass what identifies the
// row (subject id and field), so a ciphertext copied to another row does not
// open there.
func (s *Sealer) Seal(plaintext, associatedData []byte) ([]byte, error) {
	ct, err := s.aead.Encrypt(plaintext, associatedData)
	if err != nil {
		return nil, fmt.Errorf("seal: encrypt: %w", err)
	}
	return ct, nil
}

// Open decrypts a ciphertext made by Seal with any key of the keyset, given
// the same associated data. It fails with ErrOpen.
func (s *Sealer) Open(ciphertext, associatedData []byte) ([]byte, error) {
	pt, err := s.aead.Decrypt(ciphertext, associatedData)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// Keyset rotation. A keyset rotates in two steps, so that servers running
// with it never meet a value they cannot open: Stage adds a new key that
// opens but does not seal yet; once every server has restarted with it,
// Promote makes it the key that seals.

// Stage returns the keyset with a new AES-256-GCM key added, not primary,
// and the new key's id.
func Stage(keysetJSON []byte) ([]byte, uint32, error) {
	h, err := readKeyset(keysetJSON)
	if err != nil {
		return nil, 0, err
	}
	m := keyset.NewManagerFromHandle(h)
	id, err := m.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, 0, fmt.Errorf("seal: stage a key: %w", err)
	}
	out, err := writeKeyset(m)
	return out, id, err
}

// Promote returns the keyset with its most recently added key primary, and
// that key's id. A keyset whose newest key is primary already is returned
// as it is.
func Promote(keysetJSON []byte) ([]byte, uint32, error) {
	h, err := readKeyset(keysetJSON)
	if err != nil {
		return nil, 0, err
	}
	last, err := h.Entry(h.Len() - 1)
	if err != nil {
		return nil, 0, fmt.Errorf("seal: promote: %w", err)
	}
	m := keyset.NewManagerFromHandle(h)
	if err := m.SetPrimary(last.KeyID()); err != nil {
		return nil, 0, fmt.Errorf("seal: promote: %w", err)
	}
	out, err := writeKeyset(m)
	return out, last.KeyID(), err
}

// KeyIDs lists the keyset's key ids, in the order they were added, and the
// primary one.
func KeyIDs(keysetJSON []byte) (ids []uint32, primary uint32, err error) {
	h, err := readKeyset(keysetJSON)
	if err != nil {
		return nil, 0, err
	}
	for i := range h.Len() {
		e, err := h.Entry(i)
		if err != nil {
			return nil, 0, err
		}
		ids = append(ids, e.KeyID())
		if e.IsPrimary() {
			primary = e.KeyID()
		}
	}
	return ids, primary, nil
}

// SealedBy returns the id of the key a ciphertext of Seal was made with,
// read from Tink's prefix; ok is false for a ciphertext without one.
func SealedBy(ciphertext []byte) (id uint32, ok bool) {
	if len(ciphertext) < 5 || ciphertext[0] != 0x01 {
		return 0, false
	}
	return uint32(ciphertext[1])<<24 | uint32(ciphertext[2])<<16 | uint32(ciphertext[3])<<8 | uint32(ciphertext[4]), true
}

func readKeyset(keysetJSON []byte) (*keyset.Handle, error) {
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(keysetJSON)))
	if err != nil {
		return nil, errors.New("seal: keyset is not a valid Tink JSON keyset")
	}
	return h, nil
}

func writeKeyset(m *keyset.Manager) ([]byte, error) {
	h, err := m.Handle()
	if err != nil {
		return nil, fmt.Errorf("seal: keyset: %w", err)
	}
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
		return nil, fmt.Errorf("seal: keyset: %w", err)
	}
	return buf.Bytes(), nil
}
