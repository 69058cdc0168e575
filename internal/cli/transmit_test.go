package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/examples"
	"github.com/custos-privacy/custos/internal/secrets"
)

// TestRequestsTransmit: custos requests transmit runs the server's
// transmission pass once, and says that it needs the webhook secret.
func TestRequestsTransmit(t *testing.T) {
	dir := t.TempDir()
	if _, err := secrets.Init(filepath.Join(dir, "secrets"), false); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CUSTOS_SECRETS_DIR", filepath.Join(dir, "secrets"))
	t.Setenv("CUSTOS_DB", filepath.Join(dir, "custos.db"))
	manifest := filepath.Join(dir, "custos.yaml")
	if err := os.WriteFile(manifest, examples.Starter, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"migrate"}, {"policy", "publish", manifest}} {
		if out, errOut, code := run(t, args...); code != 0 {
			t.Fatalf("%v = %d\n%s%s", args, code, out, errOut)
		}
	}
	t.Setenv("CUSTOS_WEBHOOK_SECRET", "")
	if out, errOut, code := run(t, "requests", "transmit"); code == 0 || !strings.Contains(errOut, "webhook secret") {
		t.Errorf("without a secret: %d\n%s%s", code, out, errOut)
	}
	t.Setenv("CUSTOS_WEBHOOK_SECRET", "whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg==")
	if out, errOut, code := run(t, "requests", "transmit"); code != 0 || !strings.Contains(out, "0 delivered, 0 to retry, 0 failed") {
		t.Errorf("with a secret: %d\n%s%s", code, out, errOut)
	}
}
