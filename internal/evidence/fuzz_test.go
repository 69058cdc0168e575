package evidence_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/evidence"
)

// FuzzVerify: any bytes given as an archive are refused or verified, never
// a panic, and a verified archive holds exactly the files its signed
// manifest lists.
func FuzzVerify(f *testing.F) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	var buf bytes.Buffer
	_, err := evidence.Build(context.Background(), &buf, evidence.Options{From: from, To: to, Now: now, Key: priv, KeyID: "kid-fuzz",
		Sources: map[string]evidence.Source{"notes": func(context.Context, time.Time, time.Time) (map[string][]byte, error) {
			return map[string][]byte{"a.txt": []byte("a"), "b/c.json": []byte("{}")}, nil
		}}})
	if err != nil {
		f.Fatal(err)
	}
	arch := buf.Bytes()
	f.Add(arch)
	f.Add(arch[:len(arch)/2])
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte{})
	keys := evidence.JWKS(priv.Public().(ed25519.PublicKey), "kid-fuzz")
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := evidence.Verify(bytes.NewReader(data), keys)
		if err != nil {
			return
		}
		if len(res.Files) != len(res.Manifest.Files)+2 {
			t.Errorf("verified archive holds %d files, its manifest lists %d (+ manifest and signature)", len(res.Files), len(res.Manifest.Files))
		}
	})
}
