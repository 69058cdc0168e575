package config

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
		want []string
	}{
		{"defaults", func(c *Config) {}, nil},
		{"all interfaces", func(c *Config) { c.Addr = ":8080" }, nil},
		{"ipv6", func(c *Config) { c.Addr = "[::1]:8080" }, nil},
		{"addr without port", func(c *Config) { c.Addr = "localhost" }, []string{"CUSTOS_ADDR"}},
		{"addr with named port", func(c *Config) { c.Addr = "localhost:http" }, []string{"CUSTOS_ADDR"}},
		{"empty db", func(c *Config) { c.DB = "" }, []string{"CUSTOS_DB"}},
		{"mysql url", func(c *Config) { c.DB = "mysql://u:p@h/db" }, []string{"CUSTOS_DB"}},
		{"sqlite prefix only", func(c *Config) { c.DB = "sqlite:" }, []string{"CUSTOS_DB"}},
		{"bad postgres url", func(c *Config) { c.DB = "postgres://u:p@h:port/db" }, []string{"CUSTOS_DB"}},
		{"postgresql url", func(c *Config) { c.DB = "postgresql://u:p@h:5432/db?sslmode=verify-full" }, nil},
		{"unknown log level", func(c *Config) { c.LogLevel = "trace" }, []string{"CUSTOS_LOG_LEVEL"}},
		{"unknown log format", func(c *Config) { c.LogFormat = "logfmt" }, []string{"CUSTOS_LOG_FORMAT"}},
		{"sample above 1", func(c *Config) { c.CheckSample = 1.5 }, []string{"CUSTOS_CHECK_SAMPLE"}},
		{"sample NaN", func(c *Config) { c.CheckSample = math.NaN() }, []string{"CUSTOS_CHECK_SAMPLE"}},
		{"sample 0", func(c *Config) { c.CheckSample = 0 }, nil},
		{"sample 1", func(c *Config) { c.CheckSample = 1 }, nil},
		{"zero poll interval", func(c *Config) { c.PollInterval = 0 }, []string{"CUSTOS_POLL_INTERVAL"}},
		{"zero cached subjects", func(c *Config) { c.CacheSubjects = 0 }, []string{"CUSTOS_CACHE_SUBJECTS"}},
		{"no database connections", func(c *Config) { c.DBConns = 0 }, []string{"CUSTOS_DB_CONNS"}},
		{"one cached subject", func(c *Config) { c.CacheSubjects = 1 }, nil},
		{"negative max body", func(c *Config) { c.MaxBodyBytes = -1 }, []string{"CUSTOS_MAX_BODY"}},
		{"zero shutdown timeout", func(c *Config) { c.ShutdownTimeout = 0 }, []string{"CUSTOS_SHUTDOWN_TIMEOUT"}},
		{"bad secrets", func(c *Config) {
			c.IdentityKey = NewSecret([]byte("c2hvcnQta2V5"), "env CUSTOS_IDENTITY_KEY")
			c.DataKeyset = NewSecret([]byte(`{"primaryKeyId": 1}`), "file /run/keyset.json")
			c.ReceiptKey = NewSecret([]byte("not a pem key"), "secrets dir")
		}, []string{"CUSTOS_DATA_KEYSET", "CUSTOS_IDENTITY_KEY", "CUSTOS_RECEIPT_KEY"}},
		{"checkpoints to a file", func(c *Config) { c.Checkpoints = "/var/lib/custos/checkpoints.jsonl" }, nil},
		{"checkpoints to an endpoint", func(c *Config) { c.Checkpoints = "https://logs.example.com/in?token=t" }, nil},
		{"checkpoints over plain http", func(c *Config) { c.Checkpoints = "http://logs.example.com/in" }, []string{"CUSTOS_CHECKPOINTS"}},
		{"zero checkpoint interval", func(c *Config) { c.CheckpointEvery = 0 }, []string{"CUSTOS_CHECKPOINT_EVERY"}},
		{"everything at once", func(c *Config) {
			*c = Config{CheckSample: -1}
		}, []string{
			"CUSTOS_ADDR", "CUSTOS_AUDIT_RETENTION", "CUSTOS_CACHE_SUBJECTS", "CUSTOS_CHECKPOINT_EVERY", "CUSTOS_CHECK_SAMPLE", "CUSTOS_DB", "CUSTOS_DB_CONNS", "CUSTOS_LOG_FORMAT", "CUSTOS_LOG_LEVEL",
			"CUSTOS_MAX_BODY", "CUSTOS_OUTBOX_RETENTION", "CUSTOS_POLL_INTERVAL", "CUSTOS_REQUEST_RETENTION", "CUSTOS_RETENTION_AT", "CUSTOS_SHUTDOWN_TIMEOUT",
		}},
		{"keystore beside sqlite", func(c *Config) { c.DB = "/var/lib/custos/custos.db" }, nil},
		{"keystore is the data database", func(c *Config) { c.Keystore = "custos.db" }, []string{"CUSTOS_KEYSTORE"}},
		{"keystore same postgres url", func(c *Config) {
			c.DB, c.Keystore = "postgres://h/db", "postgres://h/db"
		}, []string{"CUSTOS_KEYSTORE"}},
		{"keystore of another scheme", func(c *Config) { c.Keystore = "mysql://h/keys" }, []string{"CUSTOS_KEYSTORE"}},
		{"zero outbox retention", func(c *Config) { c.OutboxRetention = 0 }, []string{"CUSTOS_OUTBOX_RETENTION"}},
		{"retention sweep off", func(c *Config) { c.RetentionAt = "off" }, nil},
		{"retention sweep at 23:30", func(c *Config) { c.RetentionAt = "23:30" }, nil},
		{"retention sweep at no time", func(c *Config) { c.RetentionAt = "3am" }, []string{"CUSTOS_RETENTION_AT"}},
		{"requests kept 5 years", func(c *Config) { c.RequestRetention = "5 years" }, nil},
		{"requests kept forever", func(c *Config) { c.RequestRetention = "forever" }, nil},
		{"requests kept below the legal minimum", func(c *Config) { c.RequestRetention = "2 years" }, []string{"CUSTOS_REQUEST_RETENTION"}},
		{"requests kept no period", func(c *Config) { c.RequestRetention = "3 fortnights" }, []string{"CUSTOS_REQUEST_RETENTION"}},
		{"trail kept 3 years, checkpoints to a file", func(c *Config) { c.AuditRetention, c.Checkpoints = "3 years", "checkpoints.jsonl" }, nil},
		{"trail kept below the legal minimum", func(c *Config) { c.AuditRetention, c.Checkpoints = "2 years", "checkpoints.jsonl" }, []string{"CUSTOS_AUDIT_RETENTION"}},
		{"trail kept 3 years without checkpoints", func(c *Config) { c.AuditRetention = "3 years" }, []string{"CUSTOS_AUDIT_RETENTION"}},
		{"trail kept 3 years, checkpoints to an endpoint", func(c *Config) {
			c.AuditRetention, c.Checkpoints = "3 years", "https://anchor.example.com/checkpoints"
		}, []string{"CUSTOS_AUDIT_RETENTION"}},
		{"relay", func(c *Config) {
			c.SMTPAddr, c.SMTPFrom, c.SMTPUser = "smtp.example.com:587", "Privacy <privacy@example.com>", "custos"
			c.SMTPPassword = NewSecret([]byte("pw"), "test")
		}, nil},
		{"relay without sender", func(c *Config) { c.SMTPAddr = "smtp.example.com:587" }, []string{"CUSTOS_SMTP_FROM"}},
		{"relay without port", func(c *Config) { c.SMTPAddr, c.SMTPFrom = "smtp.example.com", "a@example.com" }, []string{"CUSTOS_SMTP_ADDR"}},
		{"sender not an address", func(c *Config) { c.SMTPAddr, c.SMTPFrom = "smtp.example.com:587", "privacy" }, []string{"CUSTOS_SMTP_FROM"}},
		{"relay user without password", func(c *Config) {
			c.SMTPAddr, c.SMTPFrom, c.SMTPUser = "smtp.example.com:587", "a@example.com", "custos"
		}, []string{"CUSTOS_SMTP_PASSWORD"}},
		{"relay password without user", func(c *Config) {
			c.SMTPAddr, c.SMTPFrom = "smtp.example.com:587", "a@example.com"
			c.SMTPPassword = NewSecret([]byte("pw"), "test")
		}, []string{"CUSTOS_SMTP_USER"}},
		{"sender without relay", func(c *Config) { c.SMTPFrom = "a@example.com" }, []string{"CUSTOS_SMTP_ADDR"}},
		{"sms gateway without secret", func(c *Config) { c.SMSWebhookURL = "https://sms.example.com/send" }, []string{"CUSTOS_SMS_WEBHOOK_SECRET"}},
		{"sms gateway not a URL", func(c *Config) {
			c.SMSWebhookURL = "sms.example.com"
			c.SMSWebhookKey = NewSecret([]byte("k"), "test")
		}, []string{"CUSTOS_SMS_WEBHOOK_URL"}},
		{"public URL without a scheme", func(c *Config) { c.PublicURL = "privacy.example.com" }, []string{"CUSTOS_PUBLIC_URL"}},
		{"public URL with a query", func(c *Config) { c.PublicURL = "https://privacy.example.com/?a=1" }, []string{"CUSTOS_PUBLIC_URL"}},
		{"public URL with a user", func(c *Config) { c.PublicURL = "https://me@privacy.example.com" }, []string{"CUSTOS_PUBLIC_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.edit(&c)
			err := c.Validate()
			if diff := cmp.Diff(tt.want, settingNames(t, err)); diff != "" {
				t.Errorf("settings reported (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

// TestValidateHidesValues checks that problems with secrets and the database
// URL name the setting and its source but not the value.
func TestValidateHidesValues(t *testing.T) {
	c := Default()
	c.DB = "postgres://custos:hunter2-pw@db.example:port/custos"
	c.IdentityKey = NewSecret([]byte("c2hvcnQta2V5"), "env CUSTOS_IDENTITY_KEY")
	c.DataKeyset = NewSecret([]byte(`{"key": [{"keyData": {"value": "R2lCV3lVZkdnWWszUlRSaGo="}}]`), "file /run/keyset.json")
	c.ReceiptKey = NewSecret([]byte("-----BEGIN PRIVATE KEY-----\nTUM0Q0FRQXdCUVlESzJWd0JDSUVJ\n-----END PRIVATE KEY-----\n"), "secrets dir")
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted broken secrets")
	}
	msg := err.Error()
	for _, leak := range []string{"hunter2-pw", "c2hvcnQta2V5", "R2lCV3lVZkdnWWszUlRSaGo=", "TUM0Q0FRQXdCUVlESzJWd0JDSUVJ"} {
		if strings.Contains(msg, leak) {
			t.Errorf("error contains %q:\n%s", leak, msg)
		}
	}
	for _, source := range []string{"env CUSTOS_IDENTITY_KEY", "file /run/keyset.json", "secrets dir"} {
		if !strings.Contains(msg, source) {
			t.Errorf("error does not say where a secret came from (%q):\n%s", source, msg)
		}
	}
}
