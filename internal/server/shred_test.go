package server_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/testdb"
)

// person is a subject of the shredding tests and what is known of them.
type person struct {
	id, email, phone string
}

var (
	erased = person{"u-erased", "mei.zhou@example.com", "+8613911112222"}
	kept   = person{"u-kept", "omar.haddad@example.org", "+8613933334444"}
)

// shredEnv is a server with its data and key store on one kind of database.
type shredEnv struct {
	srv    *server.Server
	db     *sql.DB // the data database, as an operator (or a thief) sees it
	backup func(t *testing.T) *sql.DB
	files  []string // on SQLite, the files holding the data and the keys
	outbox string   // the development message sink, where codes are read
}

func newShredEnv(t *testing.T, backend string) *shredEnv {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	secretsDir := filepath.Join(dir, "secrets")
	if _, err := secrets.Init(secretsDir, false); err != nil {
		t.Fatal(err)
	}
	e := &shredEnv{outbox: filepath.Join(dir, "sink")}
	env := map[string]string{
		"CUSTOS_MANIFEST":    starterManifest,
		"CUSTOS_SECRETS_DIR": secretsDir,
		"CUSTOS_NOTIFY_DIR":  e.outbox,
	}
	var dsn string
	switch backend {
	case "sqlite":
		dsn = filepath.Join(dir, "custos.db")
		env["CUSTOS_DB"] = dsn
		e.files = []string{dsn, dsn + "-wal", filepath.Join(dir, "custos-keys.db"), filepath.Join(dir, "custos-keys.db-wal")}
	case "postgres":
		dsn = testdb.Postgres(t)
		env["CUSTOS_DB"] = dsn
		env["CUSTOS_KEYSTORE"] = testdb.Postgres(t)
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if e.srv, err = server.New(ctx, cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.srv.Close() })
	// The database as its administrator sees it: past row-level security.
	driver, open := "pgx", testdb.PostgresAdmin(t, dsn)
	if backend == "sqlite" {
		driver, open = "sqlite", "file:"+dsn+"?mode=ro"
	}
	if e.db, err = sql.Open(driver, open); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	e.backup = func(t *testing.T) *sql.DB {
		t.Helper()
		if backend == "sqlite" {
			path := filepath.Join(t.TempDir(), "backup.db")
			if _, err := e.db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
				t.Fatal(err)
			}
			b, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		}
		// A copy of every table holding sealed values, in a schema of its
		// own: what a restore of a dump taken now would hold.
		for _, table := range sealedTables {
			if _, err := e.db.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS backup`); err != nil {
				t.Fatal(err)
			}
			if _, err := e.db.ExecContext(ctx, `CREATE TABLE backup.`+table+` AS SELECT * FROM `+table); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() { e.db.ExecContext(context.Background(), `DROP SCHEMA backup CASCADE`) })
		b, err := sql.Open("pgx", open+"&search_path=backup")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	return e
}

var sealedTables = []string{"identities", "requests", "bundles", "outbox", "vault_values"}

// register creates p with both identities kept, then has them exported
// (an export bundle, sealed) and told so (messages in the outbox).
func (e *shredEnv) register(t *testing.T, p person) {
	t.Helper()
	ctx := t.Context()
	op := consent.Actor{ID: "test", Role: "operator", Place: "test"}
	if _, err := e.srv.Service().CreateSubject(ctx, op, consent.SubjectInput{ID: p.id, Language: "en", Identities: []consent.IdentityInput{
		{Kind: "email", Value: p.email, Keep: true}, {Kind: "phone", Value: p.phone, Keep: true},
	}}); err != nil {
		t.Fatal(err)
	}
	// The application keeps the address in the vault too.
	if _, err := e.srv.Vault().Put(ctx, consent.Actor{ID: "app", Role: "service", Place: "test"}, p.id, "email", p.email); err != nil {
		t.Fatal(err)
	}
	v, err := e.srv.Requests().SubmitOperator(ctx, op, dsr.Input{Type: "access", Language: "en", SubjectID: p.id,
		Verification: "operator", Evidence: "seen in person", Details: json.RawMessage(`{"note":"` + p.email + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Requests().Approve(ctx, op, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Requests().Complete(ctx, op, v.ID, dsr.CompleteInput{}); err != nil {
		t.Fatal(err)
	}
	// And a public request, verified by a code sent to the phone.
	acc, err := e.srv.Requests().SubmitPublic(ctx, consent.Actor{ID: "public", Role: "public", Place: "test"},
		dsr.Input{Type: "withdraw_consent", Language: "en", Identity: &consent.IdentityInput{Kind: "phone", Value: p.phone}})
	if err != nil {
		t.Fatal(err)
	}
	e.deliver(t)
	if _, err := e.srv.Requests().Verify(ctx, consent.Actor{ID: "public", Role: "public", Place: "test"}, acc.ID, acc.AccessToken, e.lastCode(t, p.phone)); err != nil {
		t.Fatal(err)
	}
	e.deliver(t)
}

// deliver sends what is due, once the codes queued so far are in the
// outbox.
func (e *shredEnv) deliver(t *testing.T) {
	t.Helper()
	e.srv.Requests().Drain()
	if _, _, err := e.srv.Dispatcher().RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
}

var codePattern = regexp.MustCompile(`\b\d{6}\b`)

// lastCode is the last one-time code the sink holds for to.
func (e *shredEnv) lastCode(t *testing.T, to string) string {
	t.Helper()
	code := ""
	for _, m := range e.sent(t) {
		if m.To == to {
			if c := codePattern.FindString(m.Text); c != "" {
				code = c
			}
		}
	}
	if code == "" {
		t.Fatalf("no code was sent to the subject's phone")
	}
	return code
}

// sent is every message the development sink holds.
func (e *shredEnv) sent(t *testing.T) []notify.Message {
	t.Helper()
	return sinkMessages(t, e.outbox)
}

// sinkMessages is every message the development sink in dir holds.
func sinkMessages(t *testing.T, dir string) []notify.Message {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, notify.FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing was sent yet
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []notify.Message
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m notify.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func (e *shredEnv) erase(t *testing.T, p person) {
	t.Helper()
	ctx := t.Context()
	op := consent.Actor{ID: "test", Role: "operator", Place: "test"}
	v, err := e.srv.Requests().SubmitOperator(ctx, op, dsr.Input{Type: "deletion", Language: "en", SubjectID: p.id, Verification: "operator", Evidence: "seen in person"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Requests().Approve(ctx, op, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Requests().Complete(ctx, op, v.ID, dsr.CompleteInput{}); err != nil {
		t.Fatal(err)
	}
	e.deliver(t)
}

// sealedValue is one value held sealed in a database, and how it is opened.
type sealedValue struct {
	what, subject string
	open          func(ctx context.Context) ([]byte, error)
}

// sealedValues reads every sealed value of db, as someone holding a copy of
// it and the deployment's secrets would, with the current key store.
func (e *shredEnv) sealedValues(t *testing.T, db *sql.DB) []sealedValue {
	t.Helper()
	ctx := t.Context()
	ks, svc := e.srv.Keystore(), e.srv.Service()
	var out []sealedValue
	query := func(q string, scan func(*sql.Rows) (sealedValue, error)) {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	query(`SELECT subject_id, kind, sealed FROM identities WHERE sealed IS NOT NULL`, func(r *sql.Rows) (sealedValue, error) {
		var sub, kind string
		var sealed []byte
		err := r.Scan(&sub, &kind, &sealed)
		return sealedValue{"identity " + kind, sub, func(ctx context.Context) ([]byte, error) { return svc.OpenIdentity(ctx, sub, kind, sealed) }}, err
	})
	query(`SELECT id, subject_id, details FROM requests WHERE details IS NOT NULL`, func(r *sql.Rows) (sealedValue, error) {
		var id, sub string
		var sealed []byte
		err := r.Scan(&id, &sub, &sealed)
		return sealedValue{"request details", sub, func(ctx context.Context) ([]byte, error) {
			return ks.Open(ctx, keystore.Request(id), sealed, []byte("request:"+id))
		}}, err
	})
	query(`SELECT id, subject_id, sealed FROM bundles`, func(r *sql.Rows) (sealedValue, error) {
		var id, sub string
		var sealed []byte
		err := r.Scan(&id, &sub, &sealed)
		return sealedValue{"export bundle", sub, func(ctx context.Context) ([]byte, error) {
			return ks.Open(ctx, keystore.Subject(sub), sealed, []byte("bundle:"+id))
		}}, err
	})
	query(`SELECT subject_id, field, sealed FROM vault_values`, func(r *sql.Rows) (sealedValue, error) {
		var sub, field string
		var sealed []byte
		err := r.Scan(&sub, &field, &sealed)
		return sealedValue{"vault value", sub, func(ctx context.Context) ([]byte, error) {
			return ks.Open(ctx, keystore.Subject(sub), sealed, []byte("vault\x00"+sub+"\x00"+field))
		}}, err
	})
	query(`SELECT o.id, COALESCE(NULLIF(o.subject_id, ''), r.subject_id, ''), o.to_sealed FROM outbox o LEFT JOIN requests r ON r.id = o.request_id WHERE length(o.to_sealed) > 0`, func(r *sql.Rows) (sealedValue, error) {
		var id, sub string
		var sealed []byte
		err := r.Scan(&id, &sub, &sealed)
		return sealedValue{"message", sub, func(ctx context.Context) ([]byte, error) {
			p, err := notify.OpenPayload(ctx, ks, notify.Delivery{ID: id, Sealed: sealed})
			return []byte(p.To), err
		}}, err
	})
	return out
}

// TestErasureReachesBackups: a backup of the data taken before a person's
// erasure, restored beside the key store as it is after, yields nothing
// readable about them — identities, request particulars, export bundles,
// messages, vault values — while everyone else's values still open.
func TestErasureReachesBackups(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := t.Context()
			e := newShredEnv(t, backend)
			e.register(t, erased)
			e.register(t, kept)
			backup := e.backup(t)

			before := e.sealedValues(t, backup)
			for _, v := range before {
				if _, err := v.open(ctx); err != nil {
					t.Fatalf("before the erasure, %s of %s does not open: %v", v.what, v.subject, err)
				}
			}
			e.erase(t, erased)

			seen := map[string]int{}
			for _, v := range e.sealedValues(t, backup) {
				seen[v.subject+" "+v.what]++
				_, err := v.open(ctx)
				switch v.subject {
				case erased.id:
					if err == nil {
						t.Errorf("the backup's %s of the erased subject still opens", v.what)
					}
				case kept.id:
					if err != nil {
						t.Errorf("the backup's %s of another subject no longer opens: %v", v.what, err)
					}
				}
			}
			// The test means something only if each kind was there to try.
			for _, p := range []person{erased, kept} {
				for _, what := range []string{"identity email", "identity phone", "request details", "export bundle", "message", "vault value"} {
					if seen[p.id+" "+what] == 0 {
						t.Errorf("the backup holds no %s of %s to try", what, p.id)
					}
				}
			}
			// The live database holds nothing of the erased person that
			// opens, but the message telling them the erasure is done.
			for _, v := range e.sealedValues(t, e.db) {
				if v.subject != erased.id {
					continue
				}
				b, err := v.open(ctx)
				if err == nil && !(v.what == "message" && string(b) != "") {
					t.Errorf("the live %s of the erased subject still opens", v.what)
				}
			}
		})
	}
}

// TestNothingInTheClear: after people registered, asked for their data,
// verified a request by code and one of them was erased, the database and
// key store files hold no address, phone number or code in the clear.
func TestNothingInTheClear(t *testing.T) {
	e := newShredEnv(t, "sqlite")
	e.register(t, erased)
	e.register(t, kept)
	// The erased person's identity rows, as stored: keyed hashes, which
	// with the identity key confirm a guessed address, and sealed values.
	var rows [][]byte
	r, err := e.db.QueryContext(t.Context(), `SELECT hash, sealed FROM identities WHERE subject_id = ?`, erased.id)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var h, sealed []byte
		if err := r.Scan(&h, &sealed); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, h, sealed)
	}
	r.Close()
	if len(rows) != 4 {
		t.Fatalf("the erased person has %d identity values stored, want 4", len(rows))
	}
	e.erase(t, erased)

	var secrets []string
	for _, p := range []person{erased, kept} {
		secrets = append(secrets, p.email, p.phone, strings.TrimPrefix(p.phone, "+"), p.phone[3:])
	}
	codes := 0
	for _, m := range e.sent(t) {
		if c := codePattern.FindString(m.Text); c != "" && strings.Contains(m.Text, "code") {
			secrets = append(secrets, "\"code\":\""+c+"\"", c)
			codes++
		}
	}
	if codes == 0 {
		t.Fatal("no code was sent: the scenario did not run")
	}
	for _, f := range e.files {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			if bytes.Contains(b, row) {
				t.Errorf("%s still holds a deleted identity row of the erased person", filepath.Base(f))
			}
		}
		for _, s := range secrets {
			// A six-digit code can occur by chance in binary data; look for
			// it only in a readable context.
			needle := []byte(s)
			if codePattern.MatchString(s) && len(s) == 6 {
				needle = []byte(fmt.Sprintf("%q", s))
			}
			if bytes.Contains(b, needle) {
				t.Errorf("%s holds %q in the clear", filepath.Base(f), s)
			}
		}
	}
}
