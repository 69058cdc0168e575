package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/checkpoint"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/vault"
)

// rotateIdentityKey adds a key to the identity key file and moves the
// database to it (store.Store.RotateKey). The new file is staged beside
// the old one first (FILE.next) and renamed over it once the database has
// moved, so that whatever step a crash interrupts, running the command
// again ends in the same state: a staged file is reused, and a database
// already moved is only told apart by the trail's head (store.ErrRotated).
func rotateIdentityKey(cmd *cobra.Command) error {
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		return err
	}
	path, err := identityKeyFile(cfg)
	if err != nil {
		return err
	}
	chain, err := secrets.DecodeIdentityKeys(cfg.IdentityKey.Reveal())
	if err != nil {
		return fmt.Errorf("identity key: %w", err)
	}
	staged := path + ".next"
	next, err := stagedKey(staged, chain)
	if err != nil {
		return err
	}
	if next == nil {
		next = secrets.NewIdentityKey()
		if err := secrets.Replace(staged, secrets.EncodeIdentityKeys(append(chain, next))); err != nil {
			return err
		}
	}
	keys, err := server.LoadKeys(cfg)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	st, err := server.OpenStore(ctx, cfg, keys, false, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	a := cliActor()
	shown := map[string]int64{}
	got, err := st.RotateKey(ctx, store.KeyRotation{
		AuditKey: server.AuditKey(next),
		Rehash:   func(h []byte) []byte { return identity.Rehash(next, h) },
		Retoken:  func(t string) (string, error) { return vault.Retoken(server.VaultKey(next), t) },
		// Progress by tenths of a table, on standard error: a large
		// database keeps the instances stopped for minutes.
		Progress: func(table string, done, total int64) {
			if tenth := done * 10 / total; tenth > shown[table] {
				shown[table] = tenth
				fmt.Fprintf(cmd.ErrOrStderr(), "rehashing %s: %d of %d\n", table, done, total)
			}
		},
		Entry: audit.Entry{At: time.Now(), Actor: a.ID, Role: a.Role, Place: a.Place},
	})
	out := cmd.OutOrStdout()
	switch {
	case errors.Is(err, store.ErrRotated):
		fmt.Fprintf(out, "the database already goes on under the new key (an earlier run was interrupted)\n")
	case err != nil:
		return fmt.Errorf("rotate identity key: %w (the staged file %s is kept; run the command again)", err, staged)
	default:
		fmt.Fprintf(out, "rehashed %d identities and %d identities awaiting a code; %d vault tokens changed; the audit trail and the consent ledger go on under key %s from entry %d\n",
			got.Identities, got.Codes, got.Tokens, audit.KeyID(server.AuditKey(next)), got.Entry.Seq)
	}
	if err := os.Rename(staged, path); err != nil {
		return fmt.Errorf("rotate identity key: the database moved to the new key but %s could not replace %s: %w; move it there by hand before starting any instance", staged, path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	fmt.Fprintf(out, "wrote %s (%d keys, oldest first); back it up, then start every instance\n", path, len(chain)+1)
	// A signed checkpoint right after the transition anchors it outside
	// the database, under the receipt key rather than either chain key.
	if cfg.Checkpoints != "" && keys.Checkpoints != nil {
		sink, err := checkpoint.Open(cfg.Checkpoints)
		if err != nil {
			return fmt.Errorf("the key rotated, but no checkpoint was written: %w", err)
		}
		name, host := cliUserHost()
		w := &checkpoint.Writer{Heads: st, Signer: keys.Checkpoints, Sink: sink, Instance: "cli:" + name + " host " + host}
		cp, err := w.Write(ctx)
		if err != nil {
			return fmt.Errorf("the key rotated, but no checkpoint was written: %w", err)
		}
		fmt.Fprintf(out, "checkpoint written to %s: audit head %d, ledger head %d\n", sink, cp.Trail.Seq, cp.Ledger.Seq)
	}
	return nil
}

// stagedKey is the new key of a file staged by an interrupted run: one
// more key after chain. nil when nothing is staged.
func stagedKey(staged string, chain [][]byte) ([]byte, error) {
	b, err := os.ReadFile(staged)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	keys, err := secrets.DecodeIdentityKeys(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", staged, err)
	}
	if len(keys) != len(chain)+1 {
		return nil, fmt.Errorf("%s holds %d keys, not the %d of the identity key file and one more: remove it if no rotation is under way", staged, len(keys), len(chain))
	}
	for i, k := range chain {
		if !bytes.Equal(keys[i], k) {
			return nil, fmt.Errorf("%s does not begin with the keys of the identity key file: remove it if no rotation is under way", staged)
		}
	}
	return keys[len(chain)], nil
}

// identityKeyFile is the file the identity key was read from.
func identityKeyFile(cfg config.Config) (string, error) {
	return secretFile(cfg, cfg.IdentityKey, secrets.IdentityKeyFile, "identity key", "CUSTOS_IDENTITY_KEY_FILE")
}
