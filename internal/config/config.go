// Package config loads the configuration of the custos server from flags,
// CUSTOS_* environment variables and secret files, validates it and prints it
// with its secrets redacted.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/custos-privacy/custos/internal/checkpoint"
	"github.com/custos-privacy/custos/internal/keep"
	"github.com/custos-privacy/custos/internal/secrets"
)

// Config is the configuration of custos serve and the commands that share its
// database and keys. Load it with Load; it is passed explicitly, never kept in
// a global.
type Config struct {
	Addr            string        // --addr, CUSTOS_ADDR: address to listen on
	DB              string        // --db, CUSTOS_DB or CUSTOS_DB_FILE: SQLite path, sqlite:PATH, file:PATH or postgres:// URL
	Keystore        string        // --keystore, CUSTOS_KEYSTORE or CUSTOS_KEYSTORE_FILE: database of the per-person keys, apart from DB
	Manifest        string        // --manifest, CUSTOS_MANIFEST: privacy manifest file
	Demo            bool          // --demo, CUSTOS_DEMO: run with demonstration data
	LogLevel        string        // --log-level, CUSTOS_LOG_LEVEL: debug, info, warn or error
	LogFormat       string        // --log-format, CUSTOS_LOG_FORMAT: text or json
	SecretsDir      string        // --secrets-dir, CUSTOS_SECRETS_DIR: fallback directory for the three secrets
	IdentityKey     Secret        // CUSTOS_IDENTITY_KEY or CUSTOS_IDENTITY_KEY_FILE: key for identity hashes
	DataKeyset      Secret        // CUSTOS_DATA_KEYSET or CUSTOS_DATA_KEYSET_FILE: Tink keyset sealing stored PI
	ReceiptKey      Secret        // CUSTOS_RECEIPT_KEY or CUSTOS_RECEIPT_KEY_FILE: Ed25519 PEM key signing receipts
	CheckSample     float64       // --check-sample, CUSTOS_CHECK_SAMPLE: share of allowed decisions audited (denials always are)
	PollInterval    time.Duration // --poll-interval, CUSTOS_POLL_INTERVAL: how often an instance picks up other instances' writes
	CacheSubjects   int           // --cache-subjects, CUSTOS_CACHE_SUBJECTS: subjects (and as many identities) kept in memory for decisions
	DBConns         int           // --db-conns, CUSTOS_DB_CONNS: connections to a PostgreSQL database an instance opens at most
	MaxBodyBytes    int64         // --max-body, CUSTOS_MAX_BODY: largest request body accepted, in bytes
	ShutdownTimeout time.Duration // --shutdown-timeout, CUSTOS_SHUTDOWN_TIMEOUT: grace period for requests in flight
	TrustProxy      bool          // --trust-proxy, CUSTOS_TRUST_PROXY: take the client address from X-Forwarded-For
	BannerOrigins   []string      // --banner-origins, CUSTOS_BANNER_ORIGINS: sites whose pages may record banner consents (empty: any)
	Dataset         string        // --dataset, CUSTOS_DATASET: dataset annotation of the organisation's databases that requests reach
	NotifyDir       string        // --notify-dir, CUSTOS_NOTIFY_DIR: write messages to DIR/outbox.jsonl instead of sending them (development)
	SMTPAddr        string        // --smtp-addr, CUSTOS_SMTP_ADDR: mail relay host:port for email messages
	SMTPFrom        string        // --smtp-from, CUSTOS_SMTP_FROM: sender address
	SMTPUser        string        // --smtp-user, CUSTOS_SMTP_USER: relay user name, if it needs one
	SMTPPassword    Secret        // CUSTOS_SMTP_PASSWORD or CUSTOS_SMTP_PASSWORD_FILE
	SMSWebhookURL   string        // --sms-webhook-url, CUSTOS_SMS_WEBHOOK_URL: SMS gateway endpoint (Standard Webhooks signed)
	PublicURL       string        // --public-url, CUSTOS_PUBLIC_URL: where this server is reached from outside (https://privacy.example.com): links in messages
	SMSWebhookKey   Secret        // CUSTOS_SMS_WEBHOOK_SECRET or CUSTOS_SMS_WEBHOOK_SECRET_FILE
	WebhookSecret   Secret        // CUSTOS_WEBHOOK_SECRET or CUSTOS_WEBHOOK_SECRET_FILE: signs notices to recipients (share it with them)
	Checkpoints     string        // --checkpoints, CUSTOS_CHECKPOINTS: file (JSON lines) or https:// URL signed checkpoints of the audit trail and the consent ledger go to
	CheckpointEvery time.Duration // --checkpoint-every, CUSTOS_CHECKPOINT_EVERY: how often a checkpoint is written (and at start and shutdown)
	OutboxRetention time.Duration // --outbox-retention, CUSTOS_OUTBOX_RETENTION: how long a sent or abandoned message stays readable
	RetentionAt     string        // --retention-at, CUSTOS_RETENTION_AT: China time of the daily retention sweep (HH:MM), or "off"
	// --request-retention, CUSTOS_REQUEST_RETENTION: how long a closed
	// request's records are kept (keep.Requests): "3 years", "forever"
	RequestRetention string
	// --audit-retention, CUSTOS_AUDIT_RETENTION: how long the audit trail,
	// with its decision records, is kept (keep.Trail): "forever", "3 years"
	AuditRetention string

	origins [numSettings]origin // where each setting came from, for WriteRedacted

	// Org is the organisation a command acts for (ForOrg); "" for the
	// deployment's own.
	Org string
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Addr:             "127.0.0.1:8080",
		DB:               "custos.db",
		LogLevel:         "info",
		LogFormat:        "text",
		CheckSample:      0.01,
		PollInterval:     250 * time.Millisecond,
		CacheSubjects:    200_000,
		DBConns:          32,
		MaxBodyBytes:     1 << 20,
		ShutdownTimeout:  15 * time.Second,
		CheckpointEvery:  checkpoint.DefaultEvery,
		OutboxRetention:  7 * 24 * time.Hour,
		RetentionAt:      "03:00",
		RequestRetention: keep.Requests.Default,
		AuditRetention:   keep.Trail.Default,
	}
}

// SettingError reports a setting that cannot be used. Name is the setting's
// environment variable, whichever way it was set; Problem never holds the
// value of a secret or of the database URL.
type SettingError struct {
	Name    string
	Problem string
}

func (e *SettingError) Error() string { return e.Name + ": " + e.Problem }

func problem(name, format string, args ...any) error {
	return &SettingError{Name: name, Problem: fmt.Sprintf(format, args...)}
}

// origin says where a setting's value came from.
type origin string

const (
	originDefault origin = "" // the zero value, so that Config{} reads as defaults
	originFlag    origin = "flag"
	originEnv     origin = "env"
	originFile    origin = "file"
)

func (o origin) String() string {
	if o == originDefault {
		return "default"
	}
	return string(o)
}

// Indexes into settings and Config.origins, in display order.
const (
	sAddr = iota
	sDB
	sKeystore
	sManifest
	sDemo
	sLogLevel
	sLogFormat
	sSecretsDir
	sIdentityKey
	sDataKeyset
	sReceiptKey
	sCheckSample
	sPollInterval
	sCacheSubjects
	sDBConns
	sMaxBody
	sShutdownTimeout
	sTrustProxy
	sBannerOrigins
	sDataset
	sNotifyDir
	sSMTPAddr
	sSMTPFrom
	sSMTPUser
	sSMTPPassword
	sSMSWebhookURL
	sSMSWebhookKey
	sPublicURL
	sWebhookSecret
	sOutboxRetention
	sRetentionAt
	sRequestRetention
	sAuditRetention
	sCheckpoints
	sCheckpointEvery
	numSettings
)

// setting describes how one Config field is set and shown.
type setting struct {
	env  string
	flag string // "" for secrets, which must not appear in a process listing
	// fromFile allows env+"_FILE" to name a file holding the value.
	fromFile bool
	// secretFile is the file read from the secrets directory when nothing
	// else sets the value; only secrets have one.
	secretFile string
	// set parses a value; source is where it came from ("env CUSTOS_X").
	set func(c *Config, value, source string) error
	// show renders the current value for WriteRedacted, redacted if need be.
	show func(c *Config) string
}

var settings = [numSettings]setting{
	sAddr: {
		env:  "CUSTOS_ADDR",
		flag: "addr",
		set:  func(c *Config, v, _ string) error { c.Addr = v; return nil },
		show: func(c *Config) string { return c.Addr },
	},
	sDB: {
		env:      "CUSTOS_DB",
		flag:     "db",
		fromFile: true,
		set:      func(c *Config, v, _ string) error { c.DB = v; return nil },
		show:     func(c *Config) string { return c.RedactedDB() },
	},
	sKeystore: {
		env:      "CUSTOS_KEYSTORE",
		flag:     "keystore",
		fromFile: true,
		set:      func(c *Config, v, _ string) error { c.Keystore = v; return nil },
		show:     func(c *Config) string { return c.RedactedKeystore() },
	},
	sManifest: {
		env:  "CUSTOS_MANIFEST",
		flag: "manifest",
		set:  func(c *Config, v, _ string) error { c.Manifest = v; return nil },
		show: func(c *Config) string { return c.Manifest },
	},
	sDemo: {
		env:  "CUSTOS_DEMO",
		flag: "demo",
		set:  func(c *Config, v, _ string) error { return parseBool(&c.Demo, "CUSTOS_DEMO", v) },
		show: func(c *Config) string { return strconv.FormatBool(c.Demo) },
	},
	sLogLevel: {
		env:  "CUSTOS_LOG_LEVEL",
		flag: "log-level",
		set:  func(c *Config, v, _ string) error { c.LogLevel = strings.ToLower(v); return nil },
		show: func(c *Config) string { return c.LogLevel },
	},
	sLogFormat: {
		env:  "CUSTOS_LOG_FORMAT",
		flag: "log-format",
		set:  func(c *Config, v, _ string) error { c.LogFormat = strings.ToLower(v); return nil },
		show: func(c *Config) string { return c.LogFormat },
	},
	sSecretsDir: {
		env:  "CUSTOS_SECRETS_DIR",
		flag: "secrets-dir",
		set:  func(c *Config, v, _ string) error { c.SecretsDir = v; return nil },
		show: func(c *Config) string { return c.SecretsDir },
	},
	sIdentityKey: {
		env:        "CUSTOS_IDENTITY_KEY",
		fromFile:   true,
		secretFile: secrets.IdentityKeyFile,
		set:        func(c *Config, v, src string) error { c.IdentityKey = Secret{value: v, source: src}; return nil },
		show:       func(c *Config) string { return c.IdentityKey.String() },
	},
	sDataKeyset: {
		env:        "CUSTOS_DATA_KEYSET",
		fromFile:   true,
		secretFile: secrets.DataKeysetFile,
		set:        func(c *Config, v, src string) error { c.DataKeyset = Secret{value: v, source: src}; return nil },
		show:       func(c *Config) string { return c.DataKeyset.String() },
	},
	sReceiptKey: {
		env:        "CUSTOS_RECEIPT_KEY",
		fromFile:   true,
		secretFile: secrets.ReceiptKeyFile,
		set:        func(c *Config, v, src string) error { c.ReceiptKey = Secret{value: v, source: src}; return nil },
		show:       func(c *Config) string { return c.ReceiptKey.String() },
	},
	sCheckSample: {
		env:  "CUSTOS_CHECK_SAMPLE",
		flag: "check-sample",
		set: func(c *Config, v, _ string) error {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return problem("CUSTOS_CHECK_SAMPLE", "%q is not a number", v)
			}
			c.CheckSample = f
			return nil
		},
		show: func(c *Config) string { return strconv.FormatFloat(c.CheckSample, 'g', -1, 64) },
	},
	sPollInterval: {
		env:  "CUSTOS_POLL_INTERVAL",
		flag: "poll-interval",
		set: func(c *Config, v, _ string) error {
			return parseDuration(&c.PollInterval, "CUSTOS_POLL_INTERVAL", v)
		},
		show: func(c *Config) string { return c.PollInterval.String() },
	},
	sCacheSubjects: {
		env:  "CUSTOS_CACHE_SUBJECTS",
		flag: "cache-subjects",
		set: func(c *Config, v, _ string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return problem("CUSTOS_CACHE_SUBJECTS", "%q is not a whole number", v)
			}
			c.CacheSubjects = n
			return nil
		},
		show: func(c *Config) string { return strconv.Itoa(c.CacheSubjects) },
	},
	sDBConns: {
		env:  "CUSTOS_DB_CONNS",
		flag: "db-conns",
		set: func(c *Config, v, _ string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return problem("CUSTOS_DB_CONNS", "%q is not a whole number", v)
			}
			c.DBConns = n
			return nil
		},
		show: func(c *Config) string { return strconv.Itoa(c.DBConns) },
	},
	sMaxBody: {
		env:  "CUSTOS_MAX_BODY",
		flag: "max-body",
		set: func(c *Config, v, _ string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return problem("CUSTOS_MAX_BODY", "%q is not a whole number of bytes", v)
			}
			c.MaxBodyBytes = n
			return nil
		},
		show: func(c *Config) string { return strconv.FormatInt(c.MaxBodyBytes, 10) },
	},
	sShutdownTimeout: {
		env:  "CUSTOS_SHUTDOWN_TIMEOUT",
		flag: "shutdown-timeout",
		set: func(c *Config, v, _ string) error {
			return parseDuration(&c.ShutdownTimeout, "CUSTOS_SHUTDOWN_TIMEOUT", v)
		},
		show: func(c *Config) string { return c.ShutdownTimeout.String() },
	},
	sTrustProxy: {
		env:  "CUSTOS_TRUST_PROXY",
		flag: "trust-proxy",
		set:  func(c *Config, v, _ string) error { return parseBool(&c.TrustProxy, "CUSTOS_TRUST_PROXY", v) },
		show: func(c *Config) string { return strconv.FormatBool(c.TrustProxy) },
	},
	sBannerOrigins: {
		env:  "CUSTOS_BANNER_ORIGINS",
		flag: "banner-origins",
		set:  func(c *Config, v, _ string) error { return parseOrigins(&c.BannerOrigins, "CUSTOS_BANNER_ORIGINS", v) },
		show: func(c *Config) string { return strings.Join(c.BannerOrigins, ",") },
	},
	sDataset:          plain("CUSTOS_DATASET", "dataset", func(c *Config) *string { return &c.Dataset }),
	sRetentionAt:      plain("CUSTOS_RETENTION_AT", "retention-at", func(c *Config) *string { return &c.RetentionAt }),
	sRequestRetention: plain("CUSTOS_REQUEST_RETENTION", "request-retention", func(c *Config) *string { return &c.RequestRetention }),
	sAuditRetention:   plain("CUSTOS_AUDIT_RETENTION", "audit-retention", func(c *Config) *string { return &c.AuditRetention }),
	sNotifyDir:        plain("CUSTOS_NOTIFY_DIR", "notify-dir", func(c *Config) *string { return &c.NotifyDir }),
	sSMTPAddr:         plain("CUSTOS_SMTP_ADDR", "smtp-addr", func(c *Config) *string { return &c.SMTPAddr }),
	sSMTPFrom:         plain("CUSTOS_SMTP_FROM", "smtp-from", func(c *Config) *string { return &c.SMTPFrom }),
	sSMTPUser:         plain("CUSTOS_SMTP_USER", "smtp-user", func(c *Config) *string { return &c.SMTPUser }),
	sSMSWebhookURL:    plain("CUSTOS_SMS_WEBHOOK_URL", "sms-webhook-url", func(c *Config) *string { return &c.SMSWebhookURL }),
	sPublicURL:        plain("CUSTOS_PUBLIC_URL", "public-url", func(c *Config) *string { return &c.PublicURL }),
	sSMTPPassword: {
		env:      "CUSTOS_SMTP_PASSWORD",
		fromFile: true,
		set:      func(c *Config, v, src string) error { c.SMTPPassword = Secret{value: v, source: src}; return nil },
		show:     func(c *Config) string { return c.SMTPPassword.String() },
	},
	sWebhookSecret: {
		env:      "CUSTOS_WEBHOOK_SECRET",
		fromFile: true,
		set:      func(c *Config, v, src string) error { c.WebhookSecret = Secret{value: v, source: src}; return nil },
		show:     func(c *Config) string { return c.WebhookSecret.String() },
	},
	sOutboxRetention: {
		env:  "CUSTOS_OUTBOX_RETENTION",
		flag: "outbox-retention",
		set: func(c *Config, v, _ string) error {
			return parseDuration(&c.OutboxRetention, "CUSTOS_OUTBOX_RETENTION", v)
		},
		show: func(c *Config) string { return c.OutboxRetention.String() },
	},
	sSMSWebhookKey: {
		env:      "CUSTOS_SMS_WEBHOOK_SECRET",
		fromFile: true,
		set:      func(c *Config, v, src string) error { c.SMSWebhookKey = Secret{value: v, source: src}; return nil },
		show:     func(c *Config) string { return c.SMSWebhookKey.String() },
	},
	sCheckpoints: {
		env:  "CUSTOS_CHECKPOINTS",
		flag: "checkpoints",
		set:  func(c *Config, v, _ string) error { c.Checkpoints = v; return nil },
		show: func(c *Config) string { return checkpoint.Redacted(c.Checkpoints) },
	},
	sCheckpointEvery: {
		env:  "CUSTOS_CHECKPOINT_EVERY",
		flag: "checkpoint-every",
		set: func(c *Config, v, _ string) error {
			return parseDuration(&c.CheckpointEvery, "CUSTOS_CHECKPOINT_EVERY", v)
		},
		show: func(c *Config) string { return c.CheckpointEvery.String() },
	},
}

// plain is a string setting with a flag.
func plain(env, flag string, field func(*Config) *string) setting {
	return setting{
		env:  env,
		flag: flag,
		set:  func(c *Config, v, _ string) error { *field(c) = v; return nil },
		show: func(c *Config) string { return *field(c) },
	}
}

// parseOrigins reads a comma-separated list of web origins
// (scheme://host[:port], http or https, nothing after the host).
func parseOrigins(dst *[]string, name, v string) error {
	var out []string
	for _, o := range strings.Split(v, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return problem(name, "%q is not an origin like https://www.example.com", o)
		}
		out = append(out, u.Scheme+"://"+strings.ToLower(u.Host))
	}
	*dst = out
	return nil
}

func parseBool(dst *bool, name, v string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return problem(name, "%q is not true or false", v)
	}
	*dst = b
	return nil
}

func parseDuration(dst *time.Duration, name, v string) error {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return problem(name, "%q is not a duration such as 250ms or 15s", v)
	}
	*dst = d
	return nil
}

// RegisterFlags adds a flag for every setting except the secrets to fs, with
// c's values as defaults. Load reads the flags back from fs by name, so the
// fields they are bound to need not be the Config that is finally used.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on, host:port (CUSTOS_ADDR)")
	fs.StringVar(&c.DB, "db", c.DB, "database: a SQLite file path, sqlite:PATH, file:PATH or a postgres:// URL; "+
		"give a URL with a password through CUSTOS_DB_FILE, not here (CUSTOS_DB)")
	// The default is shown in --help; a configured URL may carry a password.
	fs.Lookup("db").DefValue = c.RedactedDB()
	fs.StringVar(&c.Keystore, "keystore", c.Keystore, "database of the per-person keys, kept apart from --db and its backups: a SQLite file "+
		"(default: beside a SQLite --db, NAME-keys.db) or a postgres:// URL, required with a PostgreSQL --db (CUSTOS_KEYSTORE)")
	fs.Lookup("keystore").DefValue = c.RedactedKeystore()
	fs.StringVar(&c.Manifest, "manifest", c.Manifest, "privacy manifest file (CUSTOS_MANIFEST)")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "run with demonstration data (CUSTOS_DEMO)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error (CUSTOS_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json (CUSTOS_LOG_FORMAT)")
	fs.StringVar(&c.SecretsDir, "secrets-dir", c.SecretsDir, "directory holding "+secrets.IdentityKeyFile+", "+
		secrets.DataKeysetFile+" and "+secrets.ReceiptKeyFile+", read for each secret not set in the environment (CUSTOS_SECRETS_DIR)")
	fs.Float64Var(&c.CheckSample, "check-sample", c.CheckSample, "share of allowed decisions audited, 0 to 1; denials always are (CUSTOS_CHECK_SAMPLE)")
	fs.DurationVar(&c.PollInterval, "poll-interval", c.PollInterval, "how often to pick up other instances' writes (CUSTOS_POLL_INTERVAL)")
	fs.IntVar(&c.CacheSubjects, "cache-subjects", c.CacheSubjects, "subjects kept in memory for decisions, and as many identities (CUSTOS_CACHE_SUBJECTS)")
	fs.IntVar(&c.DBConns, "db-conns", c.DBConns, "connections an instance opens to a PostgreSQL database at most (CUSTOS_DB_CONNS)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body", c.MaxBodyBytes, "largest request body accepted, in bytes (CUSTOS_MAX_BODY)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long requests in flight may take to finish on shutdown (CUSTOS_SHUTDOWN_TIMEOUT)")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "take the client address from X-Forwarded-For; only behind a proxy that sets it (CUSTOS_TRUST_PROXY)")
	fs.String("banner-origins", "", "comma-separated origins (https://www.example.com) whose pages may record consents through the banner; empty allows any (CUSTOS_BANNER_ORIGINS)")
	fs.StringVar(&c.Dataset, "dataset", c.Dataset, "dataset annotation of the organisation's databases; access and deletion requests reach them (CUSTOS_DATASET)")
	fs.StringVar(&c.NotifyDir, "notify-dir", c.NotifyDir, "write messages to DIR/outbox.jsonl instead of sending them; for development, the file holds addresses and codes (CUSTOS_NOTIFY_DIR)")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", c.SMTPAddr, "mail relay host:port for email messages (CUSTOS_SMTP_ADDR)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", c.SMTPFrom, "sender address of email messages (CUSTOS_SMTP_FROM)")
	fs.StringVar(&c.SMTPUser, "smtp-user", c.SMTPUser, "mail relay user name; the password comes from CUSTOS_SMTP_PASSWORD[_FILE] (CUSTOS_SMTP_USER)")
	fs.DurationVar(&c.OutboxRetention, "outbox-retention", c.OutboxRetention, "how long a sent or abandoned message stays readable before its contents are destroyed (CUSTOS_OUTBOX_RETENTION)")
	fs.StringVar(&c.RequestRetention, "request-retention", c.RequestRetention, "how long the records of a closed rights request are kept: 3 years (at least, PIPL art. 56), 36 months, or forever (CUSTOS_REQUEST_RETENTION)")
	fs.StringVar(&c.AuditRetention, "audit-retention", c.AuditRetention, "how long the audit trail, with its decision records, is kept: forever, or 3 years (at least, PIPL art. 56) and more; cut at signed checkpoints, which need --checkpoints FILE (CUSTOS_AUDIT_RETENTION)")
	fs.StringVar(&c.RetentionAt, "retention-at", c.RetentionAt, "China time (HH:MM) at which the server sweeps the dataset's databases for rows past their retention each day, one instance of several; off to not sweep (CUSTOS_RETENTION_AT)")
	fs.StringVar(&c.SMSWebhookURL, "sms-webhook-url", c.SMSWebhookURL, "SMS gateway endpoint; messages are signed with CUSTOS_SMS_WEBHOOK_SECRET[_FILE] (CUSTOS_SMS_WEBHOOK_URL)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "where this server is reached from outside, e.g. https://privacy.example.com: notices to recipients carry full links to acknowledge them (CUSTOS_PUBLIC_URL)")
	fs.StringVar(&c.Checkpoints, "checkpoints", c.Checkpoints, "where signed checkpoints of the audit trail and the consent ledger go: a file, appended to and synced, or an https:// URL they are POSTed to; keep it out of the database's reach (CUSTOS_CHECKPOINTS)")
	fs.DurationVar(&c.CheckpointEvery, "checkpoint-every", c.CheckpointEvery, "how often a checkpoint is written, besides at start and shutdown (CUSTOS_CHECKPOINT_EVERY)")
}

// maxFileSize bounds a file named by a *_FILE variable or found in the
// secrets directory: every legitimate one is a few kilobytes.
const maxFileSize = 1 << 20

// Load builds the configuration: a flag set on the command line wins over the
// environment, which wins over the defaults. X_FILE names a file holding the
// value of X (trailing newlines removed); setting both is an error. A secret
// set neither way is read from the secrets directory when the file is there.
// fs may be nil (no flags); getenv is usually os.Getenv, and nil means an
// empty environment.
//
// Load returns every problem it finds, Validate's included, joined; the
// Config is filled in as far as possible even then, so it can be shown.
func Load(fs *pflag.FlagSet, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := Default()
	var errs []error
	for i := range settings {
		s := &settings[i]
		value, o, source, err := lookup(s, fs, getenv)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if o == originDefault {
			continue
		}
		if err := s.set(&c, value, source); err != nil {
			errs = append(errs, err)
			continue
		}
		c.origins[i] = o
	}
	errs = append(errs, c.readSecretsDir()...)
	errs = append(errs, c.problems()...)
	return c, errors.Join(errs...)
}

// lookup finds the raw value of a setting and where it came from.
func lookup(s *setting, fs *pflag.FlagSet, getenv func(string) string) (value string, o origin, source string, err error) {
	if s.flag != "" && fs != nil {
		if f := fs.Lookup(s.flag); f != nil && f.Changed {
			return f.Value.String(), originFlag, "flag --" + s.flag, nil
		}
	}
	env := getenv(s.env)
	var path string
	if s.fromFile {
		path = getenv(s.env + "_FILE")
	}
	switch {
	case env != "" && path != "":
		return "", originDefault, "", problem(s.env, "both %s and %s_FILE are set; set one", s.env, s.env)
	case env != "":
		return env, originEnv, "env " + s.env, nil
	case path != "":
		v, err := readValueFile(path)
		if err != nil {
			return "", originDefault, "", problem(s.env+"_FILE", "%v", err)
		}
		return v, originFile, "file " + path, nil
	}
	return "", originDefault, "", nil
}

// readSecretsDir fills in the secrets that nothing else set from files in
// SecretsDir. A missing file leaves its secret unset: which secrets a command
// needs is for the command to check.
func (c *Config) readSecretsDir() []error {
	if c.SecretsDir == "" {
		return nil
	}
	info, err := os.Stat(c.SecretsDir)
	if err != nil || !info.IsDir() {
		return []error{problem("CUSTOS_SECRETS_DIR", "%s is not a readable directory", c.SecretsDir)}
	}
	var errs []error
	for i := range settings {
		s := &settings[i]
		if s.secretFile == "" || c.origins[i] != originDefault {
			continue
		}
		path := filepath.Join(c.SecretsDir, s.secretFile)
		v, err := readValueFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, problem(s.env, "%v", err))
			continue
		}
		if err := s.set(c, v, "secrets dir"); err != nil {
			errs = append(errs, err)
			continue
		}
		c.origins[i] = originFile
	}
	return errs
}

// readValueFile reads a file holding one setting. Its errors name the path,
// never the contents.
func readValueFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxFileSize {
		return "", fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	// Editors and `echo` add a final newline that is not part of the value.
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return "", fmt.Errorf("%s is empty", path)
	}
	return string(b), nil
}

// Channels says how messages on each channel reach people: "smtp relay
// HOST:PORT", "webhook", "file DIR (development: nothing is sent)" or "none".
func (c *Config) Channels() map[string]string {
	out := map[string]string{"email": "none", "sms": "none"}
	if c.NotifyDir != "" {
		file := "file " + c.NotifyDir + " (development: nothing is sent)"
		out["email"], out["sms"] = file, file
	}
	if c.SMTPAddr != "" {
		out["email"] = "smtp relay " + c.SMTPAddr
	}
	if c.SMSWebhookURL != "" {
		out["sms"] = "webhook"
	}
	return out
}

// Delivers reports whether messages on channel (email, sms) go anywhere.
func (c *Config) Delivers(channel string) bool { return c.Channels()[channel] != "none" }

// OrgDatasetFile, in an organisation's directory (OrgSecretsDir), is the
// dataset annotation of that organisation's own databases: the ones its
// rights requests and retention sweeps reach.
const OrgDatasetFile = "dataset.yaml"

// OrgSecretsDir is where organisation id keeps its own secrets: orgs/ID
// under the secrets directory.
func (c Config) OrgSecretsDir(id string) string { return filepath.Join(c.SecretsDir, "orgs", id) }

// ForOrg returns the configuration organisation id runs with: the
// deployment's, with the three secrets read from the organisation's own
// directory (OrgSecretsDir) and from nowhere else, so that no key of one
// organisation serves another. What the deployment's own organisation is
// given on the command line (its manifest, dataset, checkpoints, the demo)
// is not the organisation's; its checkpoints go beside the deployment's
// (checkpoint.ForOrg), and its dataset annotation, if it has one, is
// OrgDatasetFile in its directory.
func (c Config) ForOrg(id string) (Config, error) {
	if c.SecretsDir == "" {
		return c, problem("CUSTOS_SECRETS_DIR", "organisation %s keeps its secrets under the secrets directory, and none is set", id)
	}
	o := c
	o.IdentityKey, o.DataKeyset, o.ReceiptKey = Secret{}, Secret{}, Secret{}
	for _, i := range []int{sIdentityKey, sDataKeyset, sReceiptKey} {
		o.origins[i] = originDefault
	}
	o.SecretsDir, o.Org = c.OrgSecretsDir(id), id
	o.Manifest, o.Demo, o.Dataset = "", false, ""
	o.Checkpoints = checkpoint.ForOrg(c.Checkpoints, id)
	errs := o.readSecretsDir()
	// The organisation's own databases, if it has any for Custos to reach,
	// are described beside its secrets; never the deployment's.
	p := filepath.Join(o.SecretsDir, OrgDatasetFile)
	switch _, err := os.Stat(p); {
	case err == nil:
		o.Dataset = p
	case !errors.Is(err, fs.ErrNotExist):
		errs = append(errs, problem("CUSTOS_DATASET", "organisation %s: %v", id, err))
	}
	return o, errors.Join(errs...)
}

// WithRetention is c with an organisation's own periods for the records
// Custos keeps for it (org.Retention): request records, the audit trail
// and settled messages; "" keeps c's.
func (c Config) WithRetention(requests, audit, messages string) (Config, error) {
	if requests != "" {
		c.RequestRetention = requests
	}
	if audit != "" {
		c.AuditRetention = audit
	}
	if messages != "" {
		d, err := keep.ParseMessages(messages)
		if err != nil {
			return c, problem("CUSTOS_OUTBOX_RETENTION", "the organisation's own: %v", err)
		}
		c.OutboxRetention = d
	}
	return c, nil
}

// RequestPeriod reads RequestRetention (keep.Parse), refusing a period
// below the legal minimum (keep.Requests).
func (c Config) RequestPeriod() (keep.Period, error) {
	p, err := keep.Parse(c.RequestRetention)
	if err != nil {
		return p, err
	}
	return p, keep.Requests.Check(p)
}

// AuditPeriod reads AuditRetention (keep.Parse), refusing a period below
// the legal minimum (keep.Trail).
func (c Config) AuditPeriod() (keep.Period, error) {
	p, err := keep.Parse(c.AuditRetention)
	if err != nil {
		return p, err
	}
	return p, keep.Trail.Check(p)
}

// RetentionTime reads RetentionAt: the hour and minute, China time, of
// the daily retention sweep; on is false for "off".
func (c Config) RetentionTime() (hm time.Duration, on bool, err error) {
	if c.RetentionAt == "off" {
		return 0, false, nil
	}
	t, err := time.Parse("15:04", c.RetentionAt)
	if err != nil {
		return 0, false, fmt.Errorf("%q is not a time of day (HH:MM, China time) or off", c.RetentionAt)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, true, nil
}
