package connector

import (
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// Config names a database to connect to.
type Config struct {
	// Kind may be empty, in which case KindOf(DSN) decides.
	Kind Kind
	// DSN is secret: it is never logged and never appears in errors.
	DSN string
}

func (c Config) kind() Kind {
	if c.Kind != "" {
		return c.Kind
	}
	return KindOf(c.DSN)
}

// Validate checks the configuration without connecting. Its errors wrap
// ErrInvalidConfig and never contain the DSN.
func (c Config) Validate() error {
	if strings.TrimSpace(c.DSN) == "" {
		return fmt.Errorf("connector: dsn is empty: %w", ErrInvalidConfig)
	}
	switch c.Kind {
	case "", Postgres, MySQL, SQLite:
	default:
		return fmt.Errorf("connector: unknown kind %q (want postgres, mysql or sqlite): %w", c.Kind, ErrInvalidConfig)
	}
	inferred := KindOf(c.DSN)
	if inferred == "" && c.Kind == "" {
		return fmt.Errorf("connector: cannot tell the database kind from the dsn; set kind: %w", ErrInvalidConfig)
	}
	if c.Kind != "" && inferred != "" && inferred != c.Kind {
		return fmt.Errorf("connector: kind %q does not match the dsn, which looks like %s: %w", c.Kind, inferred, ErrInvalidConfig)
	}
	// The parsers' own messages may quote the DSN, so only their verdict is kept.
	switch c.kind() {
	case Postgres:
		if _, err := pgconn.ParseConfig(c.DSN); err != nil {
			return fmt.Errorf("connector: postgres dsn does not parse: %w", ErrInvalidConfig)
		}
	case MySQL:
		if _, err := mysql.ParseDSN(strings.TrimPrefix(c.DSN, "mysql://")); err != nil {
			return fmt.Errorf("connector: mysql dsn does not parse: %w", ErrInvalidConfig)
		}
	case SQLite:
		if _, _, err := driverDSN(SQLite, c.DSN); err != nil {
			return err
		}
	}
	return nil
}

var (
	mysqlNet   = regexp.MustCompile(`^([^/]*@)?(tcp|tcp4|tcp6|unix)\(`)
	mysqlNoNet = regexp.MustCompile(`^[^/]*@/`) // "user@/db": default network and address
)

// KindOf guesses the kind of database a DSN names:
//
//	postgres://…, postgresql://…, "host=… dbname=…"   → postgres
//	mysql://user@tcp(host)/db, user:pass@tcp(host)/db  → mysql
//	sqlite:PATH, file:PATH, a path ending in .db/.sqlite/.sqlite3, or any
//	other string without a URL scheme                  → sqlite
//
// It returns "" for a URL with an unknown scheme, so that a mistyped
// "postgress://" is not taken for a file name.
func KindOf(dsn string) Kind {
	s := strings.TrimSpace(dsn)
	lower := strings.ToLower(s)
	switch {
	case s == "":
		return ""
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return Postgres
	case strings.HasPrefix(lower, "mysql://"):
		return MySQL
	case strings.HasPrefix(lower, "sqlite:"), strings.HasPrefix(lower, "file:"):
		return SQLite
	case strings.Contains(lower, "://"):
		return ""
	case mysqlNet.MatchString(s) || mysqlNoNet.MatchString(s) || strings.Contains(s, "@tcp(") || strings.Contains(s, "@unix("):
		return MySQL
	case isKeywordDSN(lower):
		return Postgres
	}
	return SQLite
}

var keywordDSN = regexp.MustCompile(`(^|\s)(host|hostaddr|dbname|user|port|sslmode)\s*=`)

func isKeywordDSN(s string) bool { return keywordDSN.MatchString(s) }

const redacted = "xxxxx"

var keywordPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// RedactedDSN returns the DSN with its password replaced by "xxxxx". When
// the DSN cannot be parsed well enough to find the password, the whole DSN
// is replaced.
func (c Config) RedactedDSN() string {
	s := c.DSN
	if s == "" {
		return ""
	}
	switch c.kind() {
	case Postgres:
		if strings.Contains(s, "://") {
			u, err := url.Parse(s)
			if err != nil {
				return redacted
			}
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), redacted)
			}
			q := u.Query()
			for k := range q {
				if strings.EqualFold(k, "password") {
					q.Set(k, redacted)
				}
			}
			u.RawQuery = q.Encode()
			return u.String()
		}
		return keywordPassword.ReplaceAllString(s, "${1}"+redacted)
	case MySQL:
		// [user[:password]@][net[(addr)]]/dbname[?params]; the driver takes
		// the last '@' before the last '/'.
		body := strings.TrimPrefix(s, "mysql://")
		prefix := s[:len(s)-len(body)]
		slash := strings.LastIndex(body, "/")
		if slash < 0 {
			return redacted
		}
		at := strings.LastIndex(body[:slash], "@")
		if at < 0 {
			return s
		}
		user := body[:at]
		if i := strings.IndexByte(user, ':'); i >= 0 {
			user = user[:i] + ":" + redacted
		}
		rest := body[at:]
		if q := strings.IndexByte(rest, '?'); q >= 0 && strings.Contains(strings.ToLower(rest[q:]), "password") {
			rest = rest[:q] + "?" + redacted
		}
		return prefix + user + rest
	case SQLite:
		if strings.Contains(strings.ToLower(s), "key") || strings.Contains(strings.ToLower(s), "password") {
			// Encryption extensions take keys as URI parameters.
			if i := strings.IndexByte(s, '?'); i >= 0 {
				return s[:i] + "?" + redacted
			}
		}
		return s
	}
	return redacted
}

// String shows the kind and the redacted DSN.
func (c Config) String() string {
	return fmt.Sprintf("%s %s", c.kind(), c.RedactedDSN())
}

// GoString keeps %#v from printing the password.
func (c Config) GoString() string {
	return fmt.Sprintf("connector.Config{Kind:%q, DSN:%q}", c.Kind, c.RedactedDSN())
}

// LogValue keeps slog from printing the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", string(c.kind())), slog.String("dsn", c.RedactedDSN()))
}
