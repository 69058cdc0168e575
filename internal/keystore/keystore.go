// Package keystore keeps one data key per owner of personal information — a
// subject, a rights request, a message in the outbox — and seals values
// under it (envelope encryption: each data key is stored wrapped by the
// deployment's data keyset).
//
// The keys live in a database of their own, apart from the data they
// protect, so that destroying an owner's key makes every value sealed under
// it unreadable everywhere at once: in the live database and in every backup
// of it, even when the data keyset is still at hand. That is how erasure
// reaches backups (crypto-shredding). The key store's own backups hold the
// keys of people erased since they were taken, so they are kept apart and
// for a short time (docs/operations.md).
//
// Keys are scoped by organisation (Options.Org), so that one deployment can
// hold several organisations, each with keys of its own.
package keystore

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // SQLite driver "sqlite"

	"github.com/custos-privacy/custos/internal/seal"
)

var (
	// ErrDestroyed is returned for a value, or a new seal, under a key that
	// was destroyed: the owner was erased or the message purged.
	ErrDestroyed = errors.New("keystore: the owner's key was destroyed")
	// ErrOpen is returned for a ciphertext that does not open: wrong owner,
	// wrong associated data, or tampering, alike on purpose.
	ErrOpen = seal.ErrOpen
)

// Owners of keys. An owner is a string so that consumers (notify, dsr) can
// name one without importing this package.
const (
	subjectPrefix  = "subject:"
	requestPrefix  = "request:"
	deliveryPrefix = "delivery:"
)

// Subject is the owner of what is sealed about a person: their identities,
// export bundles and transmissions, vault values.
func Subject(id string) string { return subjectPrefix + id }

// Request is the owner of a rights request's particulars, kept apart from
// its subject's key because a request may come from someone not (yet)
// known.
func Request(id string) string { return requestPrefix + id }

// Delivery is the owner of one outbox message's address and contents, kept
// apart so that a message can outlive its subject's key (the notice that an
// erasure is done) and be shredded alone once sent.
func Delivery(id string) string { return deliveryPrefix + id }

// The associated data each kind of sealed value is bound to, besides its
// owner: what identifies its row, so that a ciphertext copied to another
// row does not open there. One place for every writer and reader.

// IdentityAD binds a kept identity value to its subject and kind.
func IdentityAD(subjectID, kind string) []byte { return []byte(subjectID + "\x00" + kind) }

// RequestAD binds a rights request's particulars to the request.
func RequestAD(requestID string) []byte { return []byte("request:" + requestID) }

// BundleAD binds an export bundle to its id.
func BundleAD(bundleID string) []byte { return []byte("bundle:" + bundleID) }

// TransmissionAD binds a portability transmission's endpoint and export
// to its id.
func TransmissionAD(id string) []byte { return []byte("transmission:" + id) }

// magic starts every value sealed under an owner's key; version 1 is
// AES-256-GCM with a 12-byte random nonce. Tink's ciphertexts (values
// sealed with the keyset directly, before owner keys) start with 0x00 or
// 0x01, so the two never mix up.
var magic = []byte{0xC5, 0x01}

const (
	keySize   = 32
	nonceSize = 12
)

// Options configure a Store.
type Options struct {
	// Org scopes the keys to one organisation; "" is the deployment's own.
	Org string
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Store holds the wrapped data keys. It is safe for concurrent use, and
// several server instances may share one on PostgreSQL.
type Store struct {
	db    *sql.DB
	pg    bool
	table string
	kek   atomic.Pointer[seal.Sealer]
	org   string
	now   func() time.Time
	// borrowed is set on a handle from ForOrg: the store it came from
	// owns the database and closes it.
	borrowed bool
}

// ForOrg returns the key store of organisation org (see Options.Org) on
// the same database, its keys wrapped by kek: one pool of connections
// serves every organisation of a deployment. Closing it does nothing.
func (s *Store) ForOrg(org string, kek *seal.Sealer) *Store {
	o := &Store{db: s.db, pg: s.pg, table: s.table, org: org, now: s.now, borrowed: true}
	o.kek.Store(kek)
	return o
}

// Open opens (and creates if needed) the key store at dsn: a postgres://
// URL, or the path of a SQLite file. kek is the data keyset the keys are
// wrapped by.
func Open(ctx context.Context, dsn string, kek *seal.Sealer, opt Options) (*Store, error) {
	if kek == nil {
		return nil, errors.New("keystore: no data keyset to wrap keys with")
	}
	s := &Store{org: opt.Org, now: opt.Now}
	s.kek.Store(kek)
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if IsPostgres(dsn) {
		s.pg = true
		s.db, err = sql.Open("pgx", dsn)
	} else {
		s.db, err = sql.Open("sqlite", sqliteDSN(dsn))
		if err == nil {
			// One connection: SQLite has one writer, and a key is created
			// at most once.
			s.db.SetMaxOpenConns(1)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("keystore: open: %w", err)
	}
	s.table = "owner_keys"
	if err := s.init(ctx, dsn); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	// A destroyed key's bytes are overwritten in the file, not just
	// unlinked from the b-tree.
	q.Add("_pragma", "secure_delete(1)")
	q.Set("_txlock", "immediate")
	esc := strings.NewReplacer("%", "%25", "#", "%23").Replace(path)
	return "file:" + esc + "?" + q.Encode()
}

// init creates the table. On PostgreSQL it goes into the DSN's search_path
// (postgres://…/custos?search_path=custos_keys keeps the keys in a schema
// of their own, created here if need be).
func (s *Store) init(ctx context.Context, dsn string) error {
	var stmts []string
	if s.pg {
		if u, err := url.Parse(dsn); err == nil {
			if sp, _, _ := strings.Cut(u.Query().Get("search_path"), ","); strings.TrimSpace(sp) != "" {
				stmts = append(stmts, `CREATE SCHEMA IF NOT EXISTS "`+strings.ReplaceAll(strings.TrimSpace(sp), `"`, `""`)+`"`)
			}
		}
		stmts = append(stmts,
			`CREATE TABLE IF NOT EXISTS owner_keys (
				org          TEXT NOT NULL,
				owner        TEXT NOT NULL,
				wrapped      BYTEA,
				created_at   BIGINT NOT NULL,
				destroyed_at BIGINT,
				PRIMARY KEY (org, owner))`)
	} else {
		stmts = []string{`CREATE TABLE IF NOT EXISTS owner_keys (
				org          TEXT NOT NULL,
				owner        TEXT NOT NULL,
				wrapped      BLOB,
				created_at   INTEGER NOT NULL,
				destroyed_at INTEGER,
				PRIMARY KEY (org, owner))`}
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("keystore: create tables: %w", err)
		}
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	if s.borrowed {
		return nil
	}
	return s.db.Close()
}

// DB is the key store's database, for tests and backups.
func (s *Store) DB() *sql.DB { return s.db }

func (s *Store) q(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// wrapAD binds a wrapped key to its organisation and owner, so a wrapped
// key copied to another row does not unwrap there.
func (s *Store) wrapAD(owner string) []byte {
	return []byte("custos owner key v1\x00" + s.org + "\x00" + owner)
}

// key returns the owner's data key, creating it if create and there is
// none. A destroyed key is ErrDestroyed; a missing one, when not create,
// ErrOpen.
func (s *Store) key(ctx context.Context, owner string, create bool) ([]byte, error) {
	if owner == "" || strings.ContainsRune(owner, 0) {
		return nil, errors.New("keystore: invalid owner")
	}
	for range 2 {
		var wrapped []byte
		var destroyed sql.NullInt64
		err := s.db.QueryRowContext(ctx, s.q(`SELECT wrapped, destroyed_at FROM `+s.table+` WHERE org = ? AND owner = ?`), s.org, owner).Scan(&wrapped, &destroyed)
		switch {
		case err == nil && destroyed.Valid:
			return nil, ErrDestroyed
		case err == nil:
			k, err := s.kek.Load().Open(wrapped, s.wrapAD(owner))
			if err != nil {
				return nil, fmt.Errorf("keystore: unwrap key: %w", err)
			}
			return k, nil
		case !errors.Is(err, sql.ErrNoRows):
			return nil, fmt.Errorf("keystore: read key: %w", err)
		case !create:
			return nil, ErrOpen
		}
		k := make([]byte, keySize)
		rand.Read(k)
		w, err := s.kek.Load().Seal(k, s.wrapAD(owner))
		if err != nil {
			return nil, fmt.Errorf("keystore: wrap key: %w", err)
		}
		// Another instance may create the same owner's key at once: the
		// first insert wins and both read it back.
		if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO `+s.table+` (org, owner, wrapped, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (org, owner) DO NOTHING`),
			s.org, owner, w, s.now().UnixMicro()); err != nil {
			return nil, fmt.Errorf("keystore: store key: %w", err)
		}
	}
	return nil, errors.New("keystore: key neither found nor created")
}

func aeadFor(key []byte) cipher.AEAD {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // keys are always 32 bytes
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return g
}

func dataAD(owner string, ad []byte) []byte {
	return append([]byte(owner+"\x00"), ad...)
}

// Seal encrypts plaintext under the owner's key, creating the key on first
// use. associatedData binds the value to its row, as with seal.Sealer;
// the owner is bound as well. Sealing for an owner whose key was destroyed
// fails with ErrDestroyed.
func (s *Store) Seal(ctx context.Context, owner string, plaintext, associatedData []byte) ([]byte, error) {
	k, err := s.key(ctx, owner, true)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, nonceSize)
	rand.Read(nonce)
	out := append(append(bytes.Clone(magic), nonce...), aeadFor(k).Seal(nil, nonce, plaintext, dataAD(owner, associatedData))...)
	clear(k)
	return out, nil
}

// Open decrypts a value sealed by Seal for the same owner and associated
// data. Once the owner's key is destroyed it fails with ErrDestroyed. A
// value sealed with the data keyset alone (before owner keys) still opens
// with it, until it is sealed again.
func (s *Store) Open(ctx context.Context, owner string, ciphertext, associatedData []byte) ([]byte, error) {
	if !bytes.HasPrefix(ciphertext, magic) {
		return s.kek.Load().Open(ciphertext, associatedData)
	}
	body := ciphertext[len(magic):]
	if len(body) < nonceSize {
		return nil, ErrOpen
	}
	k, err := s.key(ctx, owner, false)
	if err != nil {
		return nil, err
	}
	defer clear(k)
	pt, err := aeadFor(k).Open(nil, body[:nonceSize], body[nonceSize:], dataAD(owner, associatedData))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// Destroy destroys the owners' keys: their wrapped bytes are overwritten
// and the owners marked destroyed, so nothing sealed under them opens
// again and nothing new is sealed for them. Owners without a key are
// recorded as destroyed too, so a late Seal cannot revive them. It returns
// how many keys existed.
func (s *Store) Destroy(ctx context.Context, owners ...string) (int, error) {
	if len(owners) == 0 {
		return 0, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("keystore: destroy: %w", err)
	}
	defer tx.Rollback()
	now := s.now().UnixMicro()
	n := 0
	for _, o := range owners {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE `+s.table+` SET wrapped = NULL, destroyed_at = ? WHERE org = ? AND owner = ? AND destroyed_at IS NULL`), now, s.org, o)
		if err != nil {
			return 0, fmt.Errorf("keystore: destroy: %w", err)
		}
		if c, _ := res.RowsAffected(); c > 0 {
			n++
			continue
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO `+s.table+` (org, owner, wrapped, created_at, destroyed_at) VALUES (?, ?, NULL, ?, ?) ON CONFLICT (org, owner) DO NOTHING`), s.org, o, now, now); err != nil {
			return 0, fmt.Errorf("keystore: destroy: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("keystore: destroy: %w", err)
	}
	if !s.pg {
		// Move the overwritten pages into the file and empty the
		// write-ahead log, which still holds the keys' old pages.
		if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return n, fmt.Errorf("keystore: destroy: checkpoint: %w", err)
		}
	}
	return n, nil
}

// Destroyed reports whether the owner's key was destroyed.
func (s *Store) Destroyed(ctx context.Context, owner string) (bool, error) {
	var destroyed sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT destroyed_at FROM `+s.table+` WHERE org = ? AND owner = ?`), s.org, owner).Scan(&destroyed)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("keystore: %w", err)
	}
	return destroyed.Valid, nil
}

// Stats counts the keys held and destroyed.
type Stats struct{ Live, Destroyed int }

// Stats counts the organisation's keys.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.db.QueryRowContext(ctx, s.q(`SELECT
		COALESCE(SUM(CASE WHEN destroyed_at IS NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN destroyed_at IS NOT NULL THEN 1 ELSE 0 END), 0)
		FROM `+s.table+` WHERE org = ?`), s.org).Scan(&st.Live, &st.Destroyed)
	if err != nil {
		return st, fmt.Errorf("keystore: stats: %w", err)
	}
	return st, nil
}

// Rewrap wraps every live key again under the primary key of kek, which
// must still open the current wrapping (a keyset with a new primary and the
// old key beside it): data keys, and so the data, stay as they are. The
// store uses kek from then on. It returns how many keys were rewrapped.
func (s *Store) Rewrap(ctx context.Context, kek *seal.Sealer) (int, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT owner, wrapped FROM `+s.table+` WHERE org = ? AND destroyed_at IS NULL`), s.org)
	if err != nil {
		return 0, fmt.Errorf("keystore: rewrap: %w", err)
	}
	type row struct {
		owner   string
		wrapped []byte
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.owner, &r.wrapped); err != nil {
			rows.Close()
			return 0, fmt.Errorf("keystore: rewrap: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("keystore: rewrap: %w", err)
	}
	n := 0
	for _, r := range all {
		k, err := kek.Open(r.wrapped, s.wrapAD(r.owner))
		if err != nil {
			return n, fmt.Errorf("keystore: rewrap: the new keyset does not open the key of %s: %w", r.owner, err)
		}
		w, err := kek.Seal(k, s.wrapAD(r.owner))
		clear(k)
		if err != nil {
			return n, fmt.Errorf("keystore: rewrap: %w", err)
		}
		if _, err := s.db.ExecContext(ctx, s.q(`UPDATE `+s.table+` SET wrapped = ? WHERE org = ? AND owner = ? AND destroyed_at IS NULL`), w, s.org, r.owner); err != nil {
			return n, fmt.Errorf("keystore: rewrap: %w", err)
		}
		n++
	}
	s.kek.Store(kek)
	return n, nil
}

// WrappedBy counts the live keys by the id of the keyset key that wraps
// them (seal.SealedBy), so that a rotation can tell when no key is left
// under an old one.
func (s *Store) WrappedBy(ctx context.Context) (map[uint32]int, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT wrapped FROM `+s.table+` WHERE org = ? AND destroyed_at IS NULL`), s.org)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	defer rows.Close()
	out := map[uint32]int{}
	for rows.Next() {
		var w []byte
		if err := rows.Scan(&w); err != nil {
			return nil, fmt.Errorf("keystore: %w", err)
		}
		id, _ := seal.SealedBy(w)
		out[id]++
	}
	return out, rows.Err()
}

// OwnerSealed reports whether a ciphertext was sealed under an owner's key
// (by Seal), rather than with the data keyset alone, as values were before
// the key store.
func OwnerSealed(ciphertext []byte) bool { return bytes.HasPrefix(ciphertext, magic) }
