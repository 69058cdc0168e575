package config

import (
	"errors"
	"math"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"

	"github.com/custos-privacy/custos/internal/checkpoint"
	"github.com/custos-privacy/custos/internal/seal"
	"github.com/custos-privacy/custos/internal/secrets"
)

var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// Validate reports every setting that cannot be used, joined. Secrets are
// checked for form only when set: whether a command needs them is for the
// command to decide.
func (c Config) Validate() error {
	return errors.Join(c.problems()...)
}

func (c Config) problems() []error {
	var errs []error
	add := func(name, format string, args ...any) { errs = append(errs, problem(name, format, args...)) }

	// Any host will do, or none for all interfaces.
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		add("CUSTOS_ADDR", "%q is not host:port, such as 127.0.0.1:8080 or :8080", c.Addr)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		add("CUSTOS_ADDR", "%q has no port number", c.Addr)
	}

	// The database setting is never quoted: it may be a URL with a password.
	switch c.DBKind() {
	case "":
		if c.DB == "" {
			add("CUSTOS_DB", "is empty")
		} else {
			add("CUSTOS_DB", "is neither a file path, sqlite:PATH, file:PATH nor a postgres:// URL")
		}
	case "sqlite":
		if c.SQLitePath() == "" {
			add("CUSTOS_DB", "names no database file")
		}
	case "postgres":
		if _, err := url.Parse(c.DB); err != nil {
			add("CUSTOS_DB", "is not a valid postgres:// URL")
		}
	}

	// Nor is the key store's.
	switch (Config{DB: c.Keystore}).DBKind() {
	case "":
		// Unset with a PostgreSQL database is for the commands that open
		// the key store to refuse (ErrNoKeystore): others do without.
		if c.Keystore != "" {
			add("CUSTOS_KEYSTORE", "is neither a file path, sqlite:PATH, file:PATH nor a postgres:// URL")
		}
	case DBSQLite, DBPostgres:
		if c.Keystore == c.DB || (c.DBKind() == DBSQLite && c.KeystoreDSN() == c.SQLitePath()) {
			add("CUSTOS_KEYSTORE", "is the data database: the per-person keys must live apart from the data and its backups")
		}
	}
	// A relay set halfway fails every message at send time, for an hour of
	// retries, while the server looks healthy: refuse it here.
	switch {
	case c.SMTPAddr != "":
		if _, port, err := net.SplitHostPort(c.SMTPAddr); err != nil || port == "" {
			add("CUSTOS_SMTP_ADDR", "%q is not host:port, such as smtp.example.com:587", c.SMTPAddr)
		}
		if c.SMTPFrom == "" {
			add("CUSTOS_SMTP_FROM", "is required with CUSTOS_SMTP_ADDR: the sender address of email messages")
		} else if a, err := mail.ParseAddress(c.SMTPFrom); err != nil || a.Address == "" {
			add("CUSTOS_SMTP_FROM", "%q is not an email address", c.SMTPFrom)
		}
		if c.SMTPUser != "" && !c.SMTPPassword.IsSet() {
			add("CUSTOS_SMTP_PASSWORD", "is required with CUSTOS_SMTP_USER (set CUSTOS_SMTP_PASSWORD_FILE)")
		}
		if c.SMTPUser == "" && c.SMTPPassword.IsSet() {
			add("CUSTOS_SMTP_USER", "is required with CUSTOS_SMTP_PASSWORD: the relay account the password is for")
		}
	case c.SMTPFrom != "" || c.SMTPUser != "" || c.SMTPPassword.IsSet():
		add("CUSTOS_SMTP_ADDR", "is required with the other CUSTOS_SMTP_* settings: the mail relay host:port")
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			add("CUSTOS_PUBLIC_URL", "is not an http(s) URL without user, query or fragment (e.g. https://privacy.example.com)")
		}
	}
	if c.SMSWebhookURL != "" {
		if u, err := url.Parse(c.SMSWebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("CUSTOS_SMS_WEBHOOK_URL", "is not an http(s) URL")
		}
		if !c.SMSWebhookKey.IsSet() {
			add("CUSTOS_SMS_WEBHOOK_SECRET", "is required with CUSTOS_SMS_WEBHOOK_URL: it signs the messages to the gateway")
		}
	}

	if _, _, err := c.RetentionTime(); err != nil {
		add("CUSTOS_RETENTION_AT", "%v", err)
	}
	if _, err := c.RequestPeriod(); err != nil {
		add("CUSTOS_REQUEST_RETENTION", "%v", err)
	}
	if p, err := c.AuditPeriod(); err != nil {
		add("CUSTOS_AUDIT_RETENTION", "%v", err)
	} else if !p.Forever && !checkpoint.Readable(c.Checkpoints) {
		add("CUSTOS_AUDIT_RETENTION", "the trail is cut only at a signed checkpoint, which vouches for what was cut: set CUSTOS_CHECKPOINTS to a file")
	}
	if c.OutboxRetention <= 0 {
		add("CUSTOS_OUTBOX_RETENTION", "%v is not a positive duration", c.OutboxRetention)
	}

	if !slices.Contains(logLevels, c.LogLevel) {
		add("CUSTOS_LOG_LEVEL", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if !slices.Contains(logFormats, c.LogFormat) {
		add("CUSTOS_LOG_FORMAT", "%q is not one of text, json", c.LogFormat)
	}
	if math.IsNaN(c.CheckSample) || c.CheckSample < 0 || c.CheckSample > 1 {
		add("CUSTOS_CHECK_SAMPLE", "%v is not between 0 and 1", c.CheckSample)
	}
	if c.PollInterval <= 0 {
		add("CUSTOS_POLL_INTERVAL", "%v is not a positive duration", c.PollInterval)
	}
	if c.DBConns <= 0 {
		add("CUSTOS_DB_CONNS", "%d is not a positive number of connections", c.DBConns)
	}
	if c.CacheSubjects <= 0 {
		add("CUSTOS_CACHE_SUBJECTS", "%d is not a positive number of subjects", c.CacheSubjects)
	}
	if c.MaxBodyBytes <= 0 {
		add("CUSTOS_MAX_BODY", "%d is not a positive number of bytes", c.MaxBodyBytes)
	}
	if c.ShutdownTimeout <= 0 {
		add("CUSTOS_SHUTDOWN_TIMEOUT", "%v is not a positive duration", c.ShutdownTimeout)
	}

	// Open's errors never quote the target: a URL may carry a token.
	if c.Checkpoints != "" {
		if _, err := checkpoint.Open(c.Checkpoints); err != nil {
			add("CUSTOS_CHECKPOINTS", "%v", err)
		}
	}
	if c.CheckpointEvery <= 0 {
		add("CUSTOS_CHECKPOINT_EVERY", "%v is not a positive duration", c.CheckpointEvery)
	}

	// Secret errors come from functions that never quote their input.
	if c.IdentityKey.IsSet() {
		if _, err := secrets.DecodeIdentityKeys(c.IdentityKey.Reveal()); err != nil {
			add("CUSTOS_IDENTITY_KEY", "%s: %v", sourceOf(c.IdentityKey), err)
		}
	}
	if c.DataKeyset.IsSet() {
		if _, err := seal.New(c.DataKeyset.Reveal()); err != nil {
			add("CUSTOS_DATA_KEYSET", "%s: %v", sourceOf(c.DataKeyset), err)
		}
	}
	if c.ReceiptKey.IsSet() {
		if _, err := secrets.ParseReceiptKey(c.ReceiptKey.Reveal()); err != nil {
			add("CUSTOS_RECEIPT_KEY", "%s: %v", sourceOf(c.ReceiptKey), err)
		}
	}
	return errs
}

func sourceOf(s Secret) string {
	if s.Source() == "" {
		return "value"
	}
	return "from " + s.Source()
}
