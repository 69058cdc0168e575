package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/custos-privacy/custos/internal/secrets"
)

// cmpConfig compares everything, origins and secret sources included.
var cmpConfig = cmp.AllowUnexported(Config{}, Secret{})

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// load registers the flags on a fresh set, parses args and loads.
func load(t *testing.T, args []string, vars map[string]string) (Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("custos", pflag.ContinueOnError)
	c := Default()
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return Load(fs, env(vars))
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadPrecedence(t *testing.T) {
	dbFile := writeFile(t, "db-url", "postgres://custos:pw@db.example/custos\n")
	want := func(edit func(c *Config)) Config {
		c := Default()
		if edit != nil {
			edit(&c)
		}
		return c
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want Config
	}{
		{
			name: "defaults",
			want: Default(),
		},
		{
			name: "environment",
			env: map[string]string{
				"CUSTOS_ADDR":             ":9090",
				"CUSTOS_DB":               "sqlite:/var/lib/custos/custos.db",
				"CUSTOS_MANIFEST":         "custos.yaml",
				"CUSTOS_DEMO":             "true",
				"CUSTOS_LOG_LEVEL":        "DEBUG",
				"CUSTOS_LOG_FORMAT":       "json",
				"CUSTOS_CHECK_SAMPLE":     "0.5",
				"CUSTOS_POLL_INTERVAL":    "1s",
				"CUSTOS_CACHE_SUBJECTS":   "5000",
				"CUSTOS_DB_CONNS":         "16",
				"CUSTOS_MAX_BODY":         "4096",
				"CUSTOS_SHUTDOWN_TIMEOUT": "30s",
				"CUSTOS_TRUST_PROXY":      "1",
			},
			want: want(func(c *Config) {
				*c = Config{
					Addr: ":9090", DB: "sqlite:/var/lib/custos/custos.db", Manifest: "custos.yaml", Demo: true,
					LogLevel: "debug", LogFormat: "json", CheckSample: 0.5, PollInterval: time.Second, CacheSubjects: 5000, DBConns: 16,
					MaxBodyBytes: 4096, ShutdownTimeout: 30 * time.Second, TrustProxy: true,
					CheckpointEvery:  5 * time.Minute,
					OutboxRetention:  7 * 24 * time.Hour,
					RetentionAt:      "03:00",
					RequestRetention: "3 years",
					AuditRetention:   "forever",
				}
				for _, i := range []int{sAddr, sDB, sManifest, sDemo, sLogLevel, sLogFormat, sCheckSample, sPollInterval, sCacheSubjects, sDBConns, sMaxBody, sShutdownTimeout, sTrustProxy} {
					c.origins[i] = originEnv
				}
			}),
		},
		{
			name: "flags",
			args: []string{"--addr", ":7000", "--db=x.db", "--manifest", "m.yaml", "--demo", "--log-level", "warn",
				"--log-format", "json", "--check-sample", "0.25", "--poll-interval", "2s", "--max-body", "100",
				"--shutdown-timeout", "1m", "--trust-proxy", "--cache-subjects", "1000000", "--db-conns", "8"},
			want: want(func(c *Config) {
				*c = Config{
					Addr: ":7000", DB: "x.db", Manifest: "m.yaml", Demo: true,
					LogLevel: "warn", LogFormat: "json", CheckSample: 0.25, PollInterval: 2 * time.Second, CacheSubjects: 1_000_000, DBConns: 8,
					MaxBodyBytes: 100, ShutdownTimeout: time.Minute, TrustProxy: true,
					CheckpointEvery:  5 * time.Minute,
					OutboxRetention:  7 * 24 * time.Hour,
					RetentionAt:      "03:00",
					RequestRetention: "3 years",
					AuditRetention:   "forever",
				}
				for _, i := range []int{sAddr, sDB, sManifest, sDemo, sLogLevel, sLogFormat, sCheckSample, sPollInterval, sCacheSubjects, sDBConns, sMaxBody, sShutdownTimeout, sTrustProxy} {
					c.origins[i] = originFlag
				}
			}),
		},
		{
			name: "flag beats environment",
			args: []string{"--addr", ":7000", "--trust-proxy=false"},
			env:  map[string]string{"CUSTOS_ADDR": ":9090", "CUSTOS_TRUST_PROXY": "true", "CUSTOS_LOG_FORMAT": "json"},
			want: want(func(c *Config) {
				c.Addr, c.origins[sAddr] = ":7000", originFlag
				c.TrustProxy, c.origins[sTrustProxy] = false, originFlag
				c.LogFormat, c.origins[sLogFormat] = "json", originEnv
			}),
		},
		{
			name: "flag set to its default still beats environment",
			args: []string{"--log-level", "info"},
			env:  map[string]string{"CUSTOS_LOG_LEVEL": "debug"},
			want: want(func(c *Config) { c.origins[sLogLevel] = originFlag }),
		},
		{
			name: "empty variable is unset",
			env:  map[string]string{"CUSTOS_ADDR": "", "CUSTOS_DB": ""},
			want: Default(),
		},
		{
			name: "database URL from a file",
			env:  map[string]string{"CUSTOS_DB_FILE": dbFile},
			want: want(func(c *Config) { c.DB, c.origins[sDB] = "postgres://custos:pw@db.example/custos", originFile }),
		},
		{
			name: "database flag beats file",
			args: []string{"--db", "local.db"},
			env:  map[string]string{"CUSTOS_DB_FILE": dbFile},
			want: want(func(c *Config) { c.DB, c.origins[sDB] = "local.db", originFlag }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := load(t, tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpConfig); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadNilFlagsAndEnv(t *testing.T) {
	got, err := Load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), got, cmpConfig); diff != "" {
		t.Errorf("Load(nil, nil) (-want +got):\n%s", diff)
	}
}

func TestLoadSecrets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	files, err := secrets.Init(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	identityKey := strings.TrimSuffix(read(files.IdentityKey), "\n")
	keyset, receipt := read(files.DataKeyset), strings.TrimRight(read(files.ReceiptKey), "\n")
	otherKey := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

	type secretView struct{ Value, Source, Origin string }
	view := func(c Config) map[string]secretView {
		m := map[string]secretView{}
		for _, s := range []struct {
			name string
			i    int
			s    Secret
		}{
			{"identity", sIdentityKey, c.IdentityKey},
			{"keyset", sDataKeyset, c.DataKeyset},
			{"receipt", sReceiptKey, c.ReceiptKey},
		} {
			m[s.name] = secretView{string(s.s.Reveal()), s.s.Source(), c.origins[s.i].String()}
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		want map[string]secretView
	}{
		{
			name: "unset",
			want: map[string]secretView{"identity": {Origin: "default"}, "keyset": {Origin: "default"}, "receipt": {Origin: "default"}},
		},
		{
			name: "secrets dir",
			env:  map[string]string{"CUSTOS_SECRETS_DIR": dir},
			want: map[string]secretView{
				"identity": {identityKey, "secrets dir", "file"},
				"keyset":   {strings.TrimRight(keyset, "\n"), "secrets dir", "file"},
				"receipt":  {receipt, "secrets dir", "file"},
			},
		},
		{
			name: "environment and file beat secrets dir",
			env: map[string]string{
				"CUSTOS_SECRETS_DIR":         dir,
				"CUSTOS_IDENTITY_KEY":        otherKey,
				"CUSTOS_RECEIPT_KEY_FILE":    files.ReceiptKey,
				"CUSTOS_DATA_KEYSET_FILE":    "",
				"CUSTOS_UNRELATED_SETTING_X": "x",
			},
			want: map[string]secretView{
				"identity": {otherKey, "env CUSTOS_IDENTITY_KEY", "env"},
				"keyset":   {strings.TrimRight(keyset, "\n"), "secrets dir", "file"},
				"receipt":  {receipt, "file " + files.ReceiptKey, "file"},
			},
		},
		{
			name: "file with trailing newline",
			env:  map[string]string{"CUSTOS_IDENTITY_KEY_FILE": files.IdentityKey},
			want: map[string]secretView{
				"identity": {identityKey, "file " + files.IdentityKey, "file"},
				"keyset":   {Origin: "default"},
				"receipt":  {Origin: "default"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := load(t, nil, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, view(got)); diff != "" {
				t.Errorf("secrets (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("missing file in secrets dir leaves the secret unset", func(t *testing.T) {
		partial := t.TempDir()
		if err := os.WriteFile(filepath.Join(partial, secrets.IdentityKeyFile), []byte(identityKey+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := load(t, []string{"--secrets-dir", partial}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !got.IdentityKey.IsSet() || got.DataKeyset.IsSet() || got.ReceiptKey.IsSet() {
			t.Errorf("set: identity %v, keyset %v, receipt %v; want only identity",
				got.IdentityKey.IsSet(), got.DataKeyset.IsSet(), got.ReceiptKey.IsSet())
		}
	})
}

// settingNames lists the settings named by the SettingErrors in err.
func settingNames(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var names []string
	for _, e := range errs {
		var se *SettingError
		if !errors.As(e, &se) {
			t.Fatalf("error %q is not a *SettingError", e)
		}
		names = append(names, se.Name)
	}
	slices.Sort(names)
	return names
}

func TestLoadProblems(t *testing.T) {
	keyFile := writeFile(t, "key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n")
	emptyFile := writeFile(t, "empty", "\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{
			name: "each bad value reported",
			env: map[string]string{
				"CUSTOS_POLL_INTERVAL": "soon",
				"CUSTOS_CHECK_SAMPLE":  "1.5",
				"CUSTOS_LOG_LEVEL":     "verbose",
			},
			want: []string{"CUSTOS_CHECK_SAMPLE", "CUSTOS_LOG_LEVEL", "CUSTOS_POLL_INTERVAL"},
		},
		{
			name: "unparsable values",
			env: map[string]string{
				"CUSTOS_DEMO":             "yes please",
				"CUSTOS_CHECK_SAMPLE":     "a lot",
				"CUSTOS_MAX_BODY":         "1MiB",
				"CUSTOS_CACHE_SUBJECTS":   "200k",
				"CUSTOS_SHUTDOWN_TIMEOUT": "15",
				"CUSTOS_TRUST_PROXY":      "on",
			},
			want: []string{"CUSTOS_CACHE_SUBJECTS", "CUSTOS_CHECK_SAMPLE", "CUSTOS_DEMO", "CUSTOS_MAX_BODY", "CUSTOS_SHUTDOWN_TIMEOUT", "CUSTOS_TRUST_PROXY"},
		},
		{
			name: "bad flag values are validated too",
			args: []string{"--log-format", "xml", "--check-sample", "-0.1", "--poll-interval", "0s"},
			want: []string{"CUSTOS_CHECK_SAMPLE", "CUSTOS_LOG_FORMAT", "CUSTOS_POLL_INTERVAL"},
		},
		{
			name: "value and file both set",
			env: map[string]string{
				"CUSTOS_DB": "a.db", "CUSTOS_DB_FILE": keyFile,
				"CUSTOS_IDENTITY_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "CUSTOS_IDENTITY_KEY_FILE": keyFile,
			},
			want: []string{"CUSTOS_DB", "CUSTOS_IDENTITY_KEY"},
		},
		{
			name: "unreadable and empty files",
			env: map[string]string{
				"CUSTOS_DATA_KEYSET_FILE": filepath.Join(t.TempDir(), "missing.json"),
				"CUSTOS_RECEIPT_KEY_FILE": emptyFile,
			},
			want: []string{"CUSTOS_DATA_KEYSET_FILE", "CUSTOS_RECEIPT_KEY_FILE"},
		},
		{
			name: "secrets dir missing",
			args: []string{"--secrets-dir", filepath.Join(t.TempDir(), "nope")},
			want: []string{"CUSTOS_SECRETS_DIR"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.args, tt.env)
			if diff := cmp.Diff(tt.want, settingNames(t, err)); diff != "" {
				t.Errorf("settings reported (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestLoadConflictMessage(t *testing.T) {
	_, err := load(t, nil, map[string]string{"CUSTOS_DB": "a.db", "CUSTOS_DB_FILE": "/run/secrets/db"})
	want := "CUSTOS_DB: both CUSTOS_DB and CUSTOS_DB_FILE are set; set one"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v; want %q", err, want)
	}
}

func TestRegisterFlagsHidesDatabasePassword(t *testing.T) {
	c := Default()
	c.DB = "postgres://custos:hunter2@db.example/custos"
	fs := pflag.NewFlagSet("custos", pflag.ContinueOnError)
	c.RegisterFlags(fs)
	if usage := fs.FlagUsages(); strings.Contains(usage, "hunter2") {
		t.Errorf("flag usage shows the database password:\n%s", usage)
	}
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	want := []string{"addr", "audit-retention", "banner-origins", "cache-subjects", "check-sample", "checkpoint-every", "checkpoints", "dataset", "db", "db-conns", "demo", "keystore", "log-format", "log-level", "manifest", "max-body", "notify-dir", "outbox-retention", "poll-interval", "public-url", "request-retention", "retention-at", "secrets-dir", "shutdown-timeout", "sms-webhook-url", "smtp-addr", "smtp-from", "smtp-user", "trust-proxy"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
}

func TestBannerOrigins(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    []string
		problem bool
	}{
		{"", nil, false},
		{"https://www.example.com", []string{"https://www.example.com"}, false},
		{" https://Shop.Example.com , http://localhost:8080 ", []string{"https://shop.example.com", "http://localhost:8080"}, false},
		{"www.example.com", nil, true},
		{"https://www.example.com/path", nil, true},
		{"ftp://example.com", nil, true},
		{"https://user@example.com", nil, true},
	} {
		c, err := Load(nil, func(k string) string {
			if k == "CUSTOS_BANNER_ORIGINS" {
				return tt.in
			}
			return ""
		})
		if (err != nil) != tt.problem {
			t.Errorf("%q: error %v, want problem %v", tt.in, err, tt.problem)
			continue
		}
		if !tt.problem && !cmp.Equal(tt.want, c.BannerOrigins) {
			t.Errorf("%q: origins %q, want %q", tt.in, c.BannerOrigins, tt.want)
		}
	}
}

// TestChannels: which channels carry messages, as custos config shows and
// the server decides by.
func TestChannels(t *testing.T) {
	tests := []struct {
		name          string
		cfg           Config
		email, sms    string
		deliversEmail bool
	}{
		{"nothing", Config{}, "none", "none", false},
		{"development file", Config{NotifyDir: "out"}, "file out (development: nothing is sent)", "file out (development: nothing is sent)", true},
		{"smtp", Config{SMTPAddr: "mail:587"}, "smtp relay mail:587", "none", true},
		{"sms webhook", Config{SMSWebhookURL: "https://sms.example/hook"}, "none", "webhook", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := tt.cfg.Channels()
			if ch["email"] != tt.email || ch["sms"] != tt.sms || tt.cfg.Delivers("email") != tt.deliversEmail {
				t.Errorf("Channels() = %v, Delivers(email) = %v; want email %q, sms %q, %v", ch, tt.cfg.Delivers("email"), tt.email, tt.sms, tt.deliversEmail)
			}
		})
	}
}

// TestForOrgDataset: an organisation's dataset annotation is the file in
// its own directory, never the deployment's, and none without that file.
func TestForOrgDataset(t *testing.T) {
	dir := t.TempDir()
	for _, id := range []string{"acme", "globex"} {
		if _, err := secrets.Init(filepath.Join(dir, "orgs", id), false); err != nil {
			t.Fatal(err)
		}
	}
	acmeDataset := filepath.Join(dir, "orgs", "acme", OrgDatasetFile)
	if err := os.WriteFile(acmeDataset, []byte("custos_dataset: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, nil, map[string]string{"CUSTOS_SECRETS_DIR": dir, "CUSTOS_DATASET": "/etc/custos/ours.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		org, want, err string
	}{
		{"acme", acmeDataset, ""},
		{"globex", "", ""},
	} {
		o, err := c.ForOrg(tc.org)
		if err != nil || o.Dataset != tc.want {
			t.Errorf("ForOrg(%s).Dataset = %q, %v; want %q", tc.org, o.Dataset, err, tc.want)
		}
	}
	if c.Dataset != "/etc/custos/ours.yaml" {
		t.Errorf("the deployment's own dataset became %q", c.Dataset)
	}
}
