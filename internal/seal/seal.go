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
