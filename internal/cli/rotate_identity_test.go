package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/vault"
)

// TestRotateIdentityKey: rotation moves an identity kept only as a hash to
// the new key, the trail and the ledger verify through it, a second
// rotation does too, and a run interrupted before or after the database
// moved ends, run again, where an uninterrupted run ends.
func TestRotateIdentityKey(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	secretsDir := filepath.Join(dir, "secrets")
	if _, err := secrets.Init(secretsDir, false); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(secretsDir, secrets.IdentityKeyFile)
	db := filepath.Join(dir, "custos.db")
	t.Setenv("CUSTOS_SECRETS_DIR", secretsDir)
	t.Setenv("CUSTOS_DB", db)
	if out, errOut, code := run(t, "migrate"); code != 0 {
		t.Fatalf("migrate = %d\n%s%s", code, out, errOut)
	}
	chain := func() [][]byte {
		t.Helper()
		b, err := os.ReadFile(keyPath)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := secrets.DecodeIdentityKeys(b)
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	// open is the store as a server with the key file opens it.
	open := func() (*store.Store, *identity.Hasher) {
		t.Helper()
		keys := chain()
		h, err := identity.NewHasher(keys...)
		if err != nil {
			t.Fatal(err)
		}
		var prior [][]byte
		for _, k := range keys[:len(keys)-1] {
			prior = append(prior, server.AuditKey(k))
		}
		st, err := store.Open(ctx, db, store.Options{AuditKey: server.AuditKey(keys[len(keys)-1]), PriorAuditKeys: prior})
		if err != nil {
			t.Fatal(err)
		}
		return st, h
	}
	st, h := open()
	if err := st.CreateSubject(ctx, store.Subject{ID: "u-1", CreatedAt: time.Now(), Identities: []store.Identity{{Kind: "email", Hash: h.Hash("email", "alice@example.com")}}},
		audit.Entry{At: time.Now(), Actor: "test", Role: "admin", Action: "subject.create", Object: "subject:u-1", Outcome: audit.OutcomeOK, Detail: "{}"}); err != nil {
		t.Fatal(err)
	}
	grant := func(st *store.Store, id string) {
		t.Helper()
		ev := store.ConsentEvent{ID: id, SubjectID: "u-1", Purpose: "analytics", Action: store.ActionGrant, VersionSeq: 1, Method: "api", Language: "en", NoticeHash: "n", At: time.Now()}
		if err := st.AppendConsents(ctx, []store.ConsentEvent{ev}, []audit.Entry{{At: time.Now(), Actor: "test", Role: "admin", Action: "consent.grant", Object: "subject:u-1", Outcome: audit.OutcomeOK, Detail: "{}"}}); err != nil {
			t.Fatal(err)
		}
	}
	grant(st, "ev-1")
	tok := "vt_" + strings.Repeat("a", 32)
	if err := st.PutVault(ctx, store.VaultValue{SubjectID: "u-1", Field: "mobile_number", Sealed: []byte("sealed"), Token: tok, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	rotate := func(want string) {
		t.Helper()
		out, errOut, code := run(t, "secrets", "rotate", "identity-key")
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("secrets rotate identity-key = %d\n%s%s\nwant %q", code, out, errOut, want)
		}
	}
	verified := func() {
		t.Helper()
		if out, errOut, code := run(t, "audit", "verify"); code != 0 {
			t.Fatalf("audit verify = %d\n%s%s", code, out, errOut)
		}
	}
	found := func(n int) {
		t.Helper()
		if got := len(chain()); got != n {
			t.Fatalf("the key file holds %d keys, want %d", got, n)
		}
		st, h := open()
		defer st.Close()
		if id, err := st.SubjectByIdentity(ctx, h.Hash("email", "alice@example.com")); err != nil || id != "u-1" {
			t.Fatalf("after rotation the identity is not found: %q, %v", id, err)
		}
		grant(st, "ev-after-"+string(rune('0'+n)))
	}

	cps := filepath.Join(dir, "checkpoints.jsonl")
	t.Setenv("CUSTOS_CHECKPOINTS", cps)
	rotate("1 vault tokens changed")
	found(2)
	{
		st, _ := open()
		v, err := st.VaultValue(ctx, "u-1", "mobile_number")
		st.Close()
		want, _ := vault.Retoken(server.VaultKey(chain()[1]), tok)
		if err != nil || v.Token != want {
			t.Errorf("the vault token after rotation: %q, %v; want %q", v.Token, err, want)
		}
	}
	verified()
	if out, errOut, code := run(t, "audit", "verify", "--checkpoints", cps); code != 0 || !strings.Contains(out, "checkpoints verified: 2 heads checked") {
		t.Fatalf("audit verify --checkpoints after rotation = %d\n%s%s", code, out, errOut)
	}
	t.Setenv("CUSTOS_CHECKPOINTS", "")
	if _, err := os.Stat(keyPath + ".next"); !os.IsNotExist(err) {
		t.Errorf("the staged file is left behind: %v", err)
	}

	// Interrupted after staging, before the database moved: the staged key
	// is the one used.
	staged := append(chain(), secrets.NewIdentityKey())
	if err := secrets.Replace(keyPath+".next", secrets.EncodeIdentityKeys(staged)); err != nil {
		t.Fatal(err)
	}
	rotate("rehashed 1 identities")
	if got := chain(); len(got) != 3 || string(got[2]) != string(staged[2]) {
		t.Fatal("the staged key was not the one rotated to")
	}
	found(3)
	verified()

	// Interrupted after the database moved, before the file was renamed.
	before, _ := os.ReadFile(keyPath)
	rotate("rehashed 1 identities")
	after, _ := os.ReadFile(keyPath)
	os.WriteFile(keyPath, before, 0o600)
	os.WriteFile(keyPath+".next", after, 0o600)
	rotate("already goes on under the new key")
	found(4)
	verified()

	// A staged file that does not continue the key file is refused.
	os.WriteFile(keyPath+".next", secrets.EncodeIdentityKeys([][]byte{secrets.NewIdentityKey()}), 0o600)
	if out, errOut, code := run(t, "secrets", "rotate", "identity-key"); code == 0 || !strings.Contains(errOut, "remove it if no rotation is under way") {
		t.Errorf("rotation with a foreign staged file = %d\n%s%s", code, out, errOut)
	}
	os.Remove(keyPath + ".next")

	// A key from the environment cannot be rewritten.
	t.Setenv("CUSTOS_SECRETS_DIR", "")
	t.Setenv("CUSTOS_IDENTITY_KEY", strings.TrimSpace(string(secrets.EncodeIdentityKeys([][]byte{secrets.NewIdentityKey()}))))
	t.Setenv("CUSTOS_DATA_KEYSET_FILE", filepath.Join(secretsDir, secrets.DataKeysetFile))
	if out, errOut, code := run(t, "secrets", "rotate", "identity-key"); code == 0 || !strings.Contains(errOut, "cannot be rewritten") {
		t.Errorf("rotation of a key from the environment = %d\n%s%s", code, out, errOut)
	}
}
