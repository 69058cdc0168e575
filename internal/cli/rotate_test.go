package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/seal"
	"github.com/custos-privacy/custos/internal/secrets"
)

// TestRotateDataKeyset: stage then promote leave a keyset with a new
// primary key, every key of the key store wrapped under it, and the values
// sealed before still readable.
func TestRotateDataKeyset(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	secretsDir := filepath.Join(dir, "secrets")
	if _, err := secrets.Init(secretsDir, false); err != nil {
		t.Fatal(err)
	}
	keysetPath := filepath.Join(secretsDir, secrets.DataKeysetFile)
	db := filepath.Join(dir, "custos.db")
	original, err := os.ReadFile(keysetPath)
	if err != nil {
		t.Fatal(err)
	}
	kek, _ := seal.New(original)
	ks, err := keystore.Open(ctx, filepath.Join(dir, "custos-keys.db"), kek, keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := ks.Seal(ctx, keystore.Subject("u-1"), []byte("+8613800138000"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ks.Close()

	t.Setenv("CUSTOS_SECRETS_DIR", secretsDir)
	t.Setenv("CUSTOS_DB", db)
	for _, tt := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"secrets", "rotate", "identity-key", "--stage"}, 2, "unknown flag: --stage"},
		{[]string{"secrets", "rotate", "pepper"}, 2, "unknown command \"pepper\""},
		{[]string{"secrets", "rotate", "data-keyset"}, 2, "--stage or --promote"},
		{[]string{"secrets", "rotate", "data-keyset", "--stage"}, 0, "restart every instance"},
		{[]string{"secrets", "rotate", "data-keyset", "--promote"}, 0, "no key is left under an older key"},
	} {
		stdout, stderr, code := run(t, tt.args...)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.out) {
			t.Fatalf("custos %s = %d\n%s%s\nwant %d and %q", strings.Join(tt.args, " "), code, stdout, stderr, tt.code, tt.out)
		}
	}
	rotated, err := os.ReadFile(keysetPath)
	if err != nil {
		t.Fatal(err)
	}
	ids, primary, err := seal.KeyIDs(rotated)
	if err != nil || len(ids) != 2 || primary != ids[1] {
		t.Fatalf("keyset after rotation: keys %v, primary %d, %v; want a second key, primary", ids, primary, err)
	}
	kek, _ = seal.New(rotated)
	ks, err = keystore.Open(ctx, filepath.Join(dir, "custos-keys.db"), kek, keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if by, err := ks.WrappedBy(ctx); err != nil || by[primary] != 1 || len(by) != 1 {
		t.Errorf("keys by wrapping key: %v, %v; want all under %d", by, err, primary)
	}
	if got, err := ks.Open(ctx, keystore.Subject("u-1"), ct, nil); err != nil || string(got) != "+8613800138000" {
		t.Errorf("a value sealed before the rotation: %q, %v", got, err)
	}
	// The old keyset alone no longer unwraps the key.
	old, _ := seal.New(original)
	ksOld, err := keystore.Open(ctx, filepath.Join(dir, "custos-keys.db"), old, keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ksOld.Close()
	if _, err := ksOld.Open(ctx, keystore.Subject("u-1"), ct, nil); err == nil {
		t.Error("the keyset from before the rotation still unwraps the key")
	}
}

// TestResealCommand: on a database with nothing from before the key store,
// reseal has nothing to do, and says so.
func TestResealCommand(t *testing.T) {
	dir := t.TempDir()
	if _, err := secrets.Init(filepath.Join(dir, "secrets"), false); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CUSTOS_SECRETS_DIR", filepath.Join(dir, "secrets"))
	t.Setenv("CUSTOS_DB", filepath.Join(dir, "custos.db"))
	if out, errOut, code := run(t, "migrate"); code != 0 {
		t.Fatalf("migrate = %d\n%s%s", code, out, errOut)
	}
	out, errOut, code := run(t, "secrets", "reseal")
	if code != 0 || !strings.Contains(out, "resealed 0 values") {
		t.Errorf("secrets reseal = %d\n%s%s", code, out, errOut)
	}
}
