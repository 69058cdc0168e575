package evidence

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
)

// Reasons an archive is refused; test with errors.Is.
var (
	ErrMalformed  = errors.New("malformed evidence archive")
	ErrUnknownKey = errors.New("evidence archive signed with a key that is not known")
	ErrSignature  = errors.New("evidence archive signature does not verify")
	ErrContent    = errors.New("evidence archive content does not match its manifest")
)

// Result is what Verify found.
type Result struct {
	Manifest Manifest `json:"manifest"`
	// KeyFromArchive is true when no key was given and the archive was
	// checked against the key it carries: that proves it is whole, not
	// who signed it; compare the key id with the organisation's key set.
	KeyFromArchive bool `json:"key_from_archive"`
	// Files maps each path to its content, for a reader of a verified archive.
	Files map[string][]byte `json:"-"`
}

// Verify reads a tar.gz archive Build wrote and checks, offline, that
// MANIFEST.json is signed by the key its kid names in keys (a JWK Set such
// as /v1/keys/receipts, or a PEM public key), and that the archive holds
// exactly the files it lists, each with its SHA-256 and size. With keys
// nil, the key set the archive carries is used (see Result.KeyFromArchive).
// Its errors never quote the archive's content.
func Verify(r io.Reader, keys []byte) (Result, error) {
	files, err := readArchive(r)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %s", ErrMalformed, err)
	}
	manJSON, ok := files[ManifestFile]
	if !ok {
		return Result{}, fmt.Errorf("%w: no %s", ErrMalformed, ManifestFile)
	}
	sigJSON, ok := files[SignatureFile]
	if !ok {
		return Result{}, fmt.Errorf("%w: no %s", ErrMalformed, SignatureFile)
	}
	var man Manifest
	dec := json.NewDecoder(bytes.NewReader(manJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&man); err != nil || !atEOF(dec) {
		return Result{}, fmt.Errorf("%w: %s is not the manifest's JSON", ErrMalformed, ManifestFile)
	}
	var sig Signature
	dec = json.NewDecoder(bytes.NewReader(sigJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sig); err != nil || sig.Alg != "EdDSA" || !bytes.Equal(signatureJSON(sig), sigJSON) {
		return Result{}, fmt.Errorf("%w: %s is not an EdDSA signature", ErrMalformed, SignatureFile)
	}
	if man.Format != Format {
		return Result{}, fmt.Errorf("%w: format %d, this build reads %d", ErrMalformed, man.Format, Format)
	}
	res := Result{Manifest: man}
	if keys == nil {
		keys = files[KeysFile]
		res.KeyFromArchive = true
	}
	if sig.KeyID != man.KeyID {
		return Result{}, fmt.Errorf("%w: the signature's key id is not the manifest's", ErrSignature)
	}
	pub, err := findKey(keys, sig.KeyID)
	if err != nil {
		return Result{}, err
	}
	raw, err := b64.DecodeString(sig.Sig)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return Result{}, fmt.Errorf("%w: the signature is not %d bytes of base64url", ErrMalformed, ed25519.SignatureSize)
	}
	if !ed25519.Verify(pub, manJSON, raw) {
		return Result{}, ErrSignature
	}
	// The signed manifest now speaks for the content.
	listed := map[string]bool{}
	for _, e := range man.Files {
		if err := checkPath(e.Path); err != nil && e.Path != KeysFile {
			return Result{}, fmt.Errorf("%w: %s", ErrMalformed, err)
		}
		if listed[e.Path] {
			return Result{}, fmt.Errorf("%w: %s listed twice", ErrMalformed, e.Path)
		}
		listed[e.Path] = true
		data, ok := files[e.Path]
		if !ok {
			return Result{}, fmt.Errorf("%w: %s is listed but missing", ErrContent, e.Path)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != e.SHA256 || int64(len(data)) != e.Size {
			return Result{}, fmt.Errorf("%w: %s was changed", ErrContent, e.Path)
		}
	}
	for p := range files {
		if p != ManifestFile && p != SignatureFile && !listed[p] {
			return Result{}, fmt.Errorf("%w: %s is not listed", ErrContent, p)
		}
	}
	res.Files = files
	return res, nil
}

// atEOF reports whether nothing but white space follows the value dec read.
func atEOF(dec *json.Decoder) bool {
	_, err := dec.Token()
	return err == io.EOF
}

// readArchive reads every regular file of a tar.gz, within the bounds.
func readArchive(r io.Reader) (map[string][]byte, error) {
	gz, err := gzip.NewReader(io.LimitReader(r, MaxTotal))
	if err != nil {
		return nil, errors.New("not gzip")
	}
	gz.Multistream(false)
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	var total int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errors.New("not a readable tar archive")
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("entry of type %q: only regular files belong in an archive", string(hdr.Typeflag))
		}
		if hdr.Name != ManifestFile && hdr.Name != SignatureFile && hdr.Name != KeysFile {
			if err := checkPath(hdr.Name); err != nil {
				return nil, err
			}
		}
		if _, dup := files[hdr.Name]; dup {
			return nil, fmt.Errorf("%s appears twice", hdr.Name)
		}
		if len(files) >= MaxFiles {
			return nil, fmt.Errorf("more than %d files", MaxFiles)
		}
		if hdr.Size < 0 || hdr.Size > MaxFileSize || total+hdr.Size > MaxTotal {
			return nil, fmt.Errorf("%s is larger than the bounds", hdr.Name)
		}
		data, err := io.ReadAll(io.LimitReader(tr, hdr.Size+1))
		if err != nil || int64(len(data)) != hdr.Size {
			return nil, fmt.Errorf("%s is truncated", hdr.Name)
		}
		total += hdr.Size
		files[hdr.Name] = data
	}
	// Whatever follows the tar stream, up to the gzip trailer, is read so
	// that a damaged trailer (its CRC and length) is caught.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return nil, errors.New("the gzip stream is damaged")
	}
	if err := gz.Close(); err != nil {
		return nil, errors.New("the gzip stream is damaged")
	}
	return files, nil
}

// findKey returns the Ed25519 key kid from a JWK Set, or the key of a PEM
// public key (whatever its id).
func findKey(keys []byte, kid string) (ed25519.PublicKey, error) {
	if block, _ := pem.Decode(keys); block != nil {
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, errors.New("evidence key: the PEM block is not a public key")
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, errors.New("evidence key: not an Ed25519 public key")
		}
		return pub, nil
	}
	var set struct {
		Keys []struct {
			Kty, Crv, X, Kid, Alg, Use string
		} `json:"keys"`
	}
	if err := json.Unmarshal(keys, &set); err != nil {
		return nil, errors.New("evidence key: neither a JWK Set nor a PEM public key")
	}
	for _, k := range set.Keys {
		if k.Kid != kid || k.Kty != "OKP" || k.Crv != "Ed25519" || (k.Alg != "" && k.Alg != "EdDSA") || (k.Use != "" && k.Use != "sig") {
			continue
		}
		x, err := b64.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("evidence key: key %s: x is not %d bytes of base64url", kid, ed25519.PublicKeySize)
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownKey, kid)
}
