package secrets

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/seal"
)

func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	f, err := Init(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	want := Files{
		IdentityKey: filepath.Join(dir, "identity.key"),
		DataKeyset:  filepath.Join(dir, "data.keyset.json"),
		ReceiptKey:  filepath.Join(dir, "receipt.pem"),
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Fatalf("Init files (-want +got):\n%s", diff)
	}

	modes := map[string]fs.FileMode{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		modes[e.Name()] = info.Mode().Perm()
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	modes["."] = info.Mode().Perm()
	wantModes := map[string]fs.FileMode{".": 0o700, "identity.key": 0o600, "data.keyset.json": 0o600, "receipt.pem": 0o600}
	if diff := cmp.Diff(wantModes, modes); diff != "" {
		t.Errorf("directory contents and modes (-want +got):\n%s", diff)
	}

	raw := readFile(t, f.IdentityKey)
	if !bytes.HasSuffix(raw, []byte("\n")) {
		t.Error("identity.key does not end in a newline")
	}
	if _, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(string(raw), "\n")); err != nil {
		t.Errorf("identity.key is not standard base64: %v", err)
	}
	key, err := DecodeIdentityKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 {
		t.Errorf("identity key is %d bytes", len(key))
	}

	if _, err := seal.New(readFile(t, f.DataKeyset)); err != nil {
		t.Errorf("data.keyset.json: %v", err)
	}

	block, rest := pem.Decode(readFile(t, f.ReceiptKey))
	if block == nil || block.Type != "PRIVATE KEY" || len(rest) != 0 {
		t.Fatalf("receipt.pem is not one PRIVATE KEY PEM block")
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := priv.(ed25519.PrivateKey); !ok {
		t.Errorf("receipt key is %T; want ed25519.PrivateKey", priv)
	}
	parsed, err := ParseReceiptKey(readFile(t, f.ReceiptKey))
	if err != nil {
		t.Fatal(err)
	}
	if !parsed.Equal(priv) {
		t.Error("ParseReceiptKey returned another key")
	}
}

func TestParseReceiptKeyRejects(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pem  []byte
	}{
		{"empty", nil},
		{"not pem", edDER},
		{"wrong block type", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: edDER})},
		{"not pkcs8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not der")})},
		{"ecdsa key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if k, err := ParseReceiptKey(tt.pem); err == nil {
				t.Fatalf("ParseReceiptKey accepted the input as %T", k)
			}
		})
	}
}

func TestInitOverwrite(t *testing.T) {
	dir := t.TempDir()
	first, err := Init(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, p := range paths(first) {
		before[p] = readFile(t, p)
	}

	_, err = Init(dir, false)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("second Init without overwrite: %v; want ErrExists", err)
	}
	for _, p := range paths(first) {
		if !bytes.Equal(before[p], readFile(t, p)) {
			t.Errorf("%s changed although Init refused", filepath.Base(p))
		}
	}

	second, err := Init(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths(second) {
		if bytes.Equal(before[p], readFile(t, p)) {
			t.Errorf("%s was not replaced with overwrite", filepath.Base(p))
		}
	}
	assertOnly(t, dir, "data.keyset.json", "identity.key", "receipt.pem")
}

// TestInitRefusesAny checks that one existing file is enough to stop Init
// writing any of the three: a half-replaced set would not match the data.
func TestInitRefusesAny(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ReceiptKeyFile)
	if err := os.WriteFile(p, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Init(dir, false)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("Init: %v; want ErrExists", err)
	}
	if got := string(readFile(t, p)); got != "keep me" {
		t.Errorf("receipt.pem = %q", got)
	}
	assertOnly(t, dir, "receipt.pem")
}

func TestDecodeIdentityKey(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	long := append(bytes.Clone(key), 1, 2, 3, 4, 5, 6, 7, 8)
	tests := []struct {
		name  string
		input string
		want  []byte // nil when rejected
	}{
		{"std base64 with newline", base64.StdEncoding.EncodeToString(key) + "\n", key},
		{"raw url base64", base64.RawURLEncoding.EncodeToString(key), key},
		{"hex lower", hex.EncodeToString(key), key},
		{"hex upper with spaces", "  " + strings.ToUpper(hex.EncodeToString(key)) + "\r\n", key},
		{"longer key", base64.StdEncoding.EncodeToString(long), long},
		{"longer hex key", hex.EncodeToString(long), long},
		{"short base64", base64.StdEncoding.EncodeToString(key[:31]), nil},
		{"short hex", hex.EncodeToString(key[:31]), nil},
		{"empty", " \n", nil},
		{"garbage", "not a key, this one!", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeIdentityKey([]byte(tt.input))
			if tt.want == nil {
				if err == nil {
					t.Fatalf("DecodeIdentityKey accepted %q as %x", tt.input, got)
				}
				if in := strings.TrimSpace(tt.input); len(in) >= 4 && strings.Contains(err.Error(), in) {
					t.Errorf("error %q quotes the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeIdentityKey (-want +got):\n%s", diff)
			}
		})
	}
}

func paths(f Files) []string { return []string{f.IdentityKey, f.DataKeyset, f.ReceiptKey} }

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertOnly checks that no temporary file was left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	if diff := cmp.Diff(names, got); diff != "" {
		t.Errorf("files in %s (-want +got):\n%s", dir, diff)
	}
}

func TestDecodeIdentityKeys(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	rotated := string(EncodeIdentityKeys([][]byte{k1, k2}))
	tests := []struct {
		name    string
		input   string
		want    [][]byte
		wantErr string
	}{
		{"one key", base64.StdEncoding.EncodeToString(k1) + "\n", [][]byte{k1}, ""},
		{"rotated", rotated, [][]byte{k1, k2}, ""},
		{"comments and blank lines", "# first\n" + hex.EncodeToString(k1) + "\n\n# second\r\n" + base64.StdEncoding.EncodeToString(k2), [][]byte{k1, k2}, ""},
		{"a short second key", base64.StdEncoding.EncodeToString(k1) + "\n" + base64.StdEncoding.EncodeToString(k2[:20]) + "\n", nil, "line 2: identity key is 20 bytes"},
		{"only comments", "# nothing\n\n", nil, "identity key is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeIdentityKeys([]byte(tt.input))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(k2[:20])) {
					t.Errorf("error %q quotes the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeIdentityKeys (-want +got):\n%s", diff)
			}
		})
	}
}
