package config

import (
	"net/url"
	"path/filepath"
	"strings"
)

// Database kinds returned by DBKind.
const (
	DBSQLite   = "sqlite"
	DBPostgres = "postgres"
)

// DBKind returns DBPostgres for a postgres:// or postgresql:// URL, DBSQLite
// for a file path, sqlite:PATH or file:PATH, and "" for anything else (an
// empty setting or a URL of another scheme), which Validate reports.
func (c Config) DBKind() string {
	lower := strings.ToLower(c.DB)
	switch {
	case c.DB == "":
		return ""
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return DBPostgres
	case strings.HasPrefix(lower, "sqlite:"), strings.HasPrefix(lower, "file:"):
		return DBSQLite
	case strings.Contains(c.DB, "://"):
		return ""
	default:
		return DBSQLite
	}
}

// SQLitePath returns the database file of a SQLite setting, or "" for any
// other kind. The sqlite: and file: prefixes are removed, and so is the query
// of a URI ("file:custos.db?mode=ro"): connection options are the store's to
// choose. A file: URI is percent-decoded, as SQLite does; a plain path is
// taken as it is.
func (c Config) SQLitePath() string {
	if c.DBKind() != DBSQLite {
		return ""
	}
	p := c.DB
	lower := strings.ToLower(p)
	var uri bool
	switch {
	case strings.HasPrefix(lower, "sqlite://"):
		p = p[len("sqlite://"):]
	case strings.HasPrefix(lower, "sqlite:"):
		p = p[len("sqlite:"):]
	case strings.HasPrefix(lower, "file://"):
		p, uri = p[len("file://"):], true
	case strings.HasPrefix(lower, "file:"):
		p, uri = p[len("file:"):], true
	default:
		return p
	}
	p, _, _ = strings.Cut(p, "?")
	if uri {
		if u, err := url.PathUnescape(p); err == nil {
			p = u
		}
	}
	return p
}

// KeystoreDSN returns the key store's database: Keystore if set (a SQLite
// setting reduced to its path as for DB), else for a SQLite DB the file
// beside it named NAME-keys.db, else "" (PostgreSQL needs one set: keys kept
// in the database they protect would be in its backups).
func (c Config) KeystoreDSN() string {
	if c.Keystore != "" {
		k := Config{DB: c.Keystore}
		switch k.DBKind() {
		case DBSQLite:
			return k.SQLitePath()
		case DBPostgres:
			return c.Keystore
		}
		return ""
	}
	p := c.SQLitePath()
	if p == "" {
		return ""
	}
	return strings.TrimSuffix(p, filepath.Ext(p)) + "-keys.db"
}

// ErrNoKeystore is the answer of a command that needs the key store when a
// PostgreSQL database has none set.
var ErrNoKeystore = &SettingError{Name: "CUSTOS_KEYSTORE", Problem: "is required with a PostgreSQL database: " +
	"the per-person keys must live apart from the data and its backups (a second database, " +
	"or ?search_path=custos_keys with that schema left out of the data's backups)"}

// RedactedKeystore is RedactedDB for the key store setting, showing the
// default it falls back to.
func (c Config) RedactedKeystore() string {
	if c.Keystore == "" {
		if k := c.KeystoreDSN(); k != "" {
			return k
		}
		return ""
	}
	return Config{DB: c.Keystore}.RedactedDB()
}

// RedactedDB returns the database setting with any password replaced by
// "xxxxx", for logs and display. A URL that cannot be parsed, or that looks
// like a password with an unescaped '/', '?' or '#' cut it short, is withheld
// whole.
func (c Config) RedactedDB() string {
	_, rest, ok := strings.Cut(c.DB, "://")
	if !ok {
		return c.DB
	}
	// "postgres://u:1234?ab@h/db" parses as host u, port 1234 and a query
	// holding the rest of the password: an '@' or '#' after the authority
	// means the userinfo was not where the parser saw it.
	if i := strings.IndexAny(rest, "/?#"); i >= 0 && strings.ContainsAny(rest[i:], "@#") {
		return withheldURL
	}
	u, err := url.Parse(c.DB)
	if err != nil {
		return withheldURL
	}
	// libpq and pgx also take the password as a query parameter.
	if q := u.Query(); len(q) > 0 {
		changed := false
		for k := range q {
			if strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
				q.Set(k, "xxxxx")
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted()
}

const withheldURL = "[redacted: malformed URL]"
