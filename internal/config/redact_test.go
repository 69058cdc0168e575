package config

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/secrets"
)

func TestWriteRedacted(t *testing.T) {
	dbFile := writeFile(t, "db", "postgres://custos:hunter2@db.example/custos")
	c, err := load(t, []string{"--addr", ":9000", "--demo"}, map[string]string{
		"CUSTOS_DB_FILE":      dbFile,
		"CUSTOS_LOG_LEVEL":    "warn",
		"CUSTOS_IDENTITY_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.WriteRedacted(&b); err != nil {
		t.Fatal(err)
	}
	want := `CUSTOS_ADDR = :9000  # flag
CUSTOS_DB = postgres://custos:xxxxx@db.example/custos  # file
CUSTOS_KEYSTORE = ""  # default
CUSTOS_MANIFEST = ""  # default
CUSTOS_DEMO = true  # flag
CUSTOS_LOG_LEVEL = warn  # env
CUSTOS_LOG_FORMAT = text  # default
CUSTOS_SECRETS_DIR = ""  # default
CUSTOS_IDENTITY_KEY = [redacted]  # env
CUSTOS_DATA_KEYSET = ""  # default
CUSTOS_RECEIPT_KEY = ""  # default
CUSTOS_CHECK_SAMPLE = 0.01  # default
CUSTOS_POLL_INTERVAL = 250ms  # default
CUSTOS_CACHE_SUBJECTS = 200000  # default
CUSTOS_DB_CONNS = 32  # default
CUSTOS_MAX_BODY = 1048576  # default
CUSTOS_SHUTDOWN_TIMEOUT = 15s  # default
CUSTOS_TRUST_PROXY = false  # default
CUSTOS_BANNER_ORIGINS = ""  # default
CUSTOS_DATASET = ""  # default
CUSTOS_NOTIFY_DIR = ""  # default
CUSTOS_SMTP_ADDR = ""  # default
CUSTOS_SMTP_FROM = ""  # default
CUSTOS_SMTP_USER = ""  # default
CUSTOS_SMTP_PASSWORD = ""  # default
CUSTOS_SMS_WEBHOOK_URL = ""  # default
CUSTOS_SMS_WEBHOOK_SECRET = ""  # default
CUSTOS_PUBLIC_URL = ""  # default
CUSTOS_WEBHOOK_SECRET = ""  # default
CUSTOS_OUTBOX_RETENTION = 168h0m0s  # default
CUSTOS_RETENTION_AT = 03:00  # default
CUSTOS_REQUEST_RETENTION = 3 years  # default
CUSTOS_AUDIT_RETENTION = forever  # default
CUSTOS_CHECKPOINTS = ""  # default
CUSTOS_CHECKPOINT_EVERY = 5m0s  # default
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteRedacted (-want +got):\n%s", diff)
	}
}

// TestRedaction loads real secrets and a database URL with passwords, then
// checks every way of printing the Config for them.
func TestRedaction(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	files, err := secrets.Init(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	const dbPassword, queryPassword = "hunter2-db-pw", "query-pw-42"
	c, err := load(t, nil, map[string]string{
		"CUSTOS_DB":                "postgres://custos:" + dbPassword + "@db.example:5432/custos?sslmode=require&password=" + queryPassword,
		"CUSTOS_IDENTITY_KEY_FILE": files.IdentityKey,
		"CUSTOS_SECRETS_DIR":       dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !c.IdentityKey.IsSet() || !c.DataKeyset.IsSet() || !c.ReceiptKey.IsSet() {
		t.Fatal("not all secrets were loaded")
	}

	// Each secret whole, and the key material inside the keyset and the PEM
	// on its own, in case only part of a value were printed.
	leaks := []string{dbPassword, queryPassword}
	for _, s := range []Secret{c.IdentityKey, c.DataKeyset, c.ReceiptKey} {
		leaks = append(leaks, string(s.Reveal()))
	}
	var ks struct {
		Key []struct{ KeyData struct{ Value string } }
	}
	if err := json.Unmarshal(c.DataKeyset.Reveal(), &ks); err != nil || len(ks.Key) != 1 || ks.Key[0].KeyData.Value == "" {
		t.Fatalf("cannot find the key in the keyset: %v", err)
	}
	leaks = append(leaks, ks.Key[0].KeyData.Value)
	block, _ := pem.Decode(c.ReceiptKey.Reveal())
	if block == nil {
		t.Fatal("receipt key is not PEM")
	}
	leaks = append(leaks, base64.StdEncoding.EncodeToString(block.Bytes))

	var out bytes.Buffer
	if err := c.WriteRedacted(&out); err != nil {
		t.Fatal(err)
	}
	jsonOut, err := json.Marshal(struct{ A, B, C Secret }{c.IdentityKey, c.DataKeyset, c.ReceiptKey})
	if err != nil {
		t.Fatal(err)
	}
	var logOut bytes.Buffer
	slog.New(slog.NewJSONHandler(&logOut, nil)).Info("config", "config", c, "key", c.IdentityKey)
	slog.New(slog.NewTextHandler(&logOut, nil)).Info("config", "config", c)

	outputs := map[string]string{
		"WriteRedacted":   out.String(),
		"fmt %v %+v %#v":  fmt.Sprintf("%v %+v %#v", c, c, c),
		"fmt pointer":     fmt.Sprintf("%v %+v %#v", &c, &c, &c),
		"fmt other verbs": fmt.Sprintf("%s %x %X %q %d", c, c, c, c, c),
		"fmt secret":      fmt.Sprintf("%v %s %x %q %d %#v", c.DataKeyset, c.DataKeyset, c.DataKeyset, c.DataKeyset, c.DataKeyset, c.DataKeyset),
		"json secrets":    string(jsonOut),
		"slog":            logOut.String(),
	}
	for name, got := range outputs {
		for _, leak := range leaks {
			if strings.Contains(got, leak) {
				t.Errorf("%s output contains secret piece %q:\n%s", name, leak, got)
			}
		}
		if !strings.Contains(got, "[redacted]") {
			t.Errorf("%s output shows no redaction:\n%s", name, got)
		}
	}
	if !strings.Contains(out.String(), "postgres://custos:xxxxx@db.example:5432/custos?password=xxxxx&sslmode=require") {
		t.Errorf("WriteRedacted does not show the redacted URL:\n%s", out.String())
	}
}

func TestSecret(t *testing.T) {
	var unset Secret
	set := NewSecret([]byte("s3cret"), "env CUSTOS_X")
	type view struct {
		IsSet                    bool
		Source, String, GoString string
		Text, JSON               string
		Reveal                   []byte
	}
	show := func(s Secret) view {
		text, _ := s.MarshalText()
		js, _ := json.Marshal(s)
		return view{s.IsSet(), s.Source(), s.String(), s.GoString(), string(text), string(js), s.Reveal()}
	}
	want := view{true, "env CUSTOS_X", "[redacted]", "[redacted]", "[redacted]", `"[redacted]"`, []byte("s3cret")}
	if diff := cmp.Diff(want, show(set)); diff != "" {
		t.Errorf("set Secret (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(view{JSON: `""`}, show(unset)); diff != "" {
		t.Errorf("unset Secret (-want +got):\n%s", diff)
	}
	r := set.Reveal()
	r[0] = 'X'
	if got := string(set.Reveal()); got != "s3cret" {
		t.Errorf("changing a revealed copy changed the secret to %q", got)
	}
}

// TestFormatShowsSettings checks that Format, besides hiding the database
// password, still prints the settings.
func TestFormatShowsSettings(t *testing.T) {
	c := Default()
	c.DB = "postgres://u:pw-123456@h/db"
	got := fmt.Sprintf("%+v", c)
	for _, want := range []string{"Addr:127.0.0.1:8080", "DB:postgres://u:xxxxx@h/db", "PollInterval:250ms", "IdentityKey: "} {
		if !strings.Contains(got, want) {
			t.Errorf("%%+v output lacks %q:\n%s", want, got)
		}
	}
}
