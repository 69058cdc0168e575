package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/apikey"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/org"
	"github.com/custos-privacy/custos/internal/seal"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// withStore runs fn with the configured store; the identity key is loaded
// when present, since it also keys the audit chain.
func withStore(cmd *cobra.Command, needKeys bool, fn func(ctx context.Context, st *store.Store) error) error {
	c, err := loadConfig(cmd.Flags())
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openStore(ctx, c, needKeys)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(ctx, st)
}

// openStore opens the configured store, with the keys when needKeys or
// when the identity key is configured.
func openStore(ctx context.Context, c config.Config, needKeys bool) (*store.Store, error) {
	var keys server.Keys
	if needKeys || c.IdentityKey.IsSet() {
		var err error
		if keys, err = server.LoadKeys(c); err != nil {
			return nil, err
		}
	}
	return server.OpenStore(ctx, c, keys, false, nil)
}

func dbFlags(cmd *cobra.Command) {
	cfg := config.Default()
	cfg.RegisterFlags(cmd.Flags())
	hideServerFlags(cmd.Flags())
	cmd.Flags().String("org", store.DefaultOrg, "the organisation to act for; its secrets are read from orgs/ID under --secrets-dir (see custos orgs)")
}

func newKeysCmd() *cobra.Command {
	keys := &cobra.Command{
		Use:   "keys",
		Short: "Create, list and revoke API keys",
		Long: `API keys authenticate callers of the API. Each key has one role:
admin (everything), operator (subjects and consents), auditor (audit trail and
read-only consent history) or service (an application registering subjects,
recording consents and asking for decisions). Only a hash of each key is
stored; the key itself is printed once, when it is created.`,
	}
	create := &cobra.Command{
		Use:   "create --role admin|operator|auditor|service [--name N]",
		Short: "Create an API key and print it once",
		Long: `Create makes a new API key with the given role, stores its hash and prints
the key on standard output. It cannot be shown again: store it in your
secret manager. The creation is recorded in the audit trail.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			role, _ := cmd.Flags().GetString("role")
			name, _ := cmd.Flags().GetString("name")
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				k, err := apikey.New(st, apikey.Options{}).Create(ctx, cliActor(), name, role)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "created key %s (role %s); it is shown only now:\n", k.ID, k.Role)
				fmt.Fprintln(cmd.OutOrStdout(), k.Secret)
				return nil
			})
		},
	}
	create.Flags().String("role", "", "role: admin, operator, auditor or service")
	create.Flags().String("name", "", "what the key is for")
	create.MarkFlagRequired("role")
	dbFlags(create)
	list := &cobra.Command{
		Use:   "list",
		Short: "List API keys (ids, names, roles; never the keys)",
		Long:  `List prints every key's id, role, name, creation time and revocation time.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				ks, err := apikey.New(st, apikey.Options{}).List(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tROLE\tNAME\tCREATED\tREVOKED")
				for _, k := range ks {
					rev := "-"
					if k.Revoked() {
						rev = k.RevokedAt.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, k.Name, k.CreatedAt.Format(time.RFC3339), rev)
				}
				return tw.Flush()
			})
		},
	}
	dbFlags(list)
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key",
		Long: `Revoke stops a key from authenticating. Running servers stop accepting it
within a few seconds. The revocation is recorded in the audit trail.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				if _, err := apikey.New(st, apikey.Options{}).Revoke(ctx, cliActor(), args[0]); err != nil {
					return fmt.Errorf("revoke %s: %w", args[0], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
				return nil
			})
		},
	}
	dbFlags(revoke)
	keys.AddCommand(create, list, revoke)
	return keys
}

func newSecretsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Create the secret keys a server needs",
		Long: `A server needs three secrets: the identity key (keys the hashes identities
are looked up by, and the audit chain), the data keyset (seals identity values
that must be kept) and the receipt key (signs consent receipts). Losing the
identity key or data keyset makes stored identities unusable: back them up.`,
	}
	initCmd := &cobra.Command{
		Use:   "init DIR [--force]",
		Short: "Write a new identity key, data keyset and receipt key into DIR",
		Long: `Init creates DIR (mode 0700) and writes identity.key, data.keyset.json and
receipt.pem (mode 0600). It refuses to overwrite existing keys unless --force
is given, since data written under the old keys depends on them. Point the
server at DIR with --secrets-dir or CUSTOS_SECRETS_DIR.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			force, _ := cmd.Flags().GetBool("force")
			f, err := secrets.Init(args[0], force)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\nwrote %s\nwrote %s\n", f.IdentityKey, f.DataKeyset, f.ReceiptKey)
			return nil
		},
	}
	initCmd.Flags().Bool("force", false, "overwrite existing keys")
	cmd.AddCommand(initCmd, newRotateCmd(), newResealCmd())
	return cmd
}

func newResealCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reseal",
		Short: "Seal values kept before the key store under their owners' keys",
		Long: `Reseal finds every value sealed with the data keyset alone, as Custos did
before each person's values had a key of their own (identity values, request
details, export bundles, queued messages), and seals it again under its
owner's key in the key store, so that erasing the person reaches it in
backups taken from then on. Messages also lose the template values (one-time
codes among them) they kept in the clear. A value whose owner was erased
meanwhile is emptied. Run it once after upgrading, with the server running or
not; running it again does nothing more. Backups taken before it still hold
the old values: replace them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			keys, err := server.LoadKeys(c)
			if err != nil {
				return err
			}
			if keys.Sealer == nil {
				return errors.New("no data keyset: set CUSTOS_DATA_KEYSET_FILE or --secrets-dir")
			}
			st, err := server.OpenStore(cmd.Context(), c, keys, false, nil)
			if err != nil {
				return err
			}
			defer st.Close()
			ks, err := server.OpenKeystore(cmd.Context(), c, keys, st)
			if err != nil {
				return err
			}
			errOut := cmd.ErrOrStderr()
			rep, err := server.Reseal(cmd.Context(), st, ks, func(seen int) { fmt.Fprintf(errOut, "looked at %d values\n", seen) })
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "resealed %d values; emptied %d of erased owners; %d did not open and were left\n", rep.Resealed, rep.Dropped, rep.Failed)
			if rep.Failed > 0 {
				return fmt.Errorf("%d values did not open with this data keyset", rep.Failed)
			}
			return nil
		},
	}
	dbFlags(cmd)
	return cmd
}

func newRotateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate the data keyset or the identity key",
		Long: `Rotate replaces a key the stored data depends on, without losing that data:
the data keyset (which wraps the per-person keys) in two steps without
downtime, or the identity key (which keys identity hashes, vault tokens, the
audit trail and the consent ledger) in one step with the instances stopped.`,
	}
	dk := &cobra.Command{
		Use:   "data-keyset --stage|--promote",
		Short: "Rotate the data keyset in two steps, without downtime",
		Long: `The data keyset wraps the per-person keys of the key store. It rotates in two
steps, so that no running server meets a key it cannot unwrap:

  1. custos secrets rotate data-keyset --stage
     adds a new key to the keyset file, not yet used to wrap. Restart every
     instance (one at a time) so that all of them can unwrap with it.
  2. custos secrets rotate data-keyset --promote
     makes the new key the one that wraps, and wraps every key of the key
     store again under it. Restart every instance so that keys they create
     are wrapped under it too, then run --promote again: it wraps again what
     instances created meanwhile, and reports when no key is left under an
     older key.

The keyset file is replaced atomically; back up the new one (docs/operations.md).
The older keys stay in the keyset, opening values sealed under them before
the key store existed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			stage, _ := cmd.Flags().GetBool("stage")
			promote, _ := cmd.Flags().GetBool("promote")
			if stage == promote {
				return errors.New("give one of --stage or --promote")
			}
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			path, err := keysetFile(cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if stage {
				next, id, err := seal.Stage(cfg.DataKeyset.Reveal())
				if err != nil {
					return err
				}
				if err := secrets.Replace(path, next); err != nil {
					return err
				}
				fmt.Fprintf(out, "staged key %d in %s; restart every instance, then run --promote\n", id, path)
				return nil
			}
			next, id, err := seal.Promote(cfg.DataKeyset.Reveal())
			if err != nil {
				return err
			}
			kek, err := seal.New(next)
			if err != nil {
				return err
			}
			dsn := cfg.KeystoreDSN()
			if dsn == "" {
				return config.ErrNoKeystore
			}
			ks, err := keystore.Open(cmd.Context(), dsn, kek, keystore.Options{})
			if err != nil {
				return err
			}
			defer ks.Close()
			// The file first: a key wrapped under the new key must never
			// exist while the file cannot unwrap it.
			if err := secrets.Replace(path, next); err != nil {
				return err
			}
			n, err := ks.Rewrap(cmd.Context(), kek)
			if err != nil {
				return err
			}
			by, err := ks.WrappedBy(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "key %d wraps from now on (%s); wrapped %d keys again\n", id, path, n)
			if left := len(by) - min(by[id], 1); left > 0 || by[id] != n {
				fmt.Fprintf(out, "keys under older keys remain: restart every instance and run --promote again\n")
			} else {
				fmt.Fprintf(out, "no key is left under an older key\n")
			}
			return nil
		},
	}
	dk.Flags().Bool("stage", false, "add a new key that unwraps but does not wrap yet")
	dk.Flags().Bool("promote", false, "make the newest key the one that wraps, and wrap every key again")
	dbFlags(dk)
	ik := &cobra.Command{
		Use:   "identity-key",
		Short: "Move every identity hash, vault token and both chains to a new identity key",
		Long: `The identity key keys the hashes identities are looked up by, the vault's
tokens, the audit trail and the consent ledger. Stop every instance, then:

  custos secrets rotate identity-key

adds a new key to the identity key file (one key per line, oldest first).
Every stored identity hash and vault token is hashed once more under the new
key, which needs no identity value, so identities kept only as hashes move
too; the trail and the ledger go on under the new key from a transition
entry that the old key chains and the new key proves. All of it is one
transaction: a crash leaves everything under the old key, and running the
command again finishes the job. Then start the instances. One still running
with the old file fails its writes (the identity key was rotated) rather than
chaining them under the old key. Privacy-center sessions end and vault tokens
change. Keep the older lines: they verify what was chained before, and a
hash under the new key is computed through them. Back up the new file. With checkpoints configured
(CUSTOS_CHECKPOINTS) a signed checkpoint is written right after.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return rotateIdentityKey(cmd) },
	}
	dbFlags(ik)
	cmd.AddCommand(dk, ik)
	return cmd
}

// keysetFile is the file the data keyset was read from.
func keysetFile(cfg config.Config) (string, error) {
	return secretFile(cfg, cfg.DataKeyset, secrets.DataKeysetFile, "data keyset", "CUSTOS_DATA_KEYSET_FILE")
}

// secretFile is the file a secret was read from, for a command that
// rewrites it: one given in the environment cannot be rewritten. name is
// its file in a secrets directory; what and env name it in errors.
func secretFile(cfg config.Config, sec config.Secret, name, what, env string) (string, error) {
	src := sec.Source()
	switch {
	case src == "":
		return "", fmt.Errorf("no %s: set %s or --secrets-dir", what, env)
	case src == "secrets dir":
		return filepath.Join(cfg.SecretsDir, name), nil
	case strings.HasPrefix(src, "file "):
		return strings.TrimPrefix(src, "file "), nil
	}
	return "", fmt.Errorf("the %s comes from %s, which cannot be rewritten: give it as a file (%s or --secrets-dir)", what, src, env)
}

func newPublishCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "publish PATH [--effective-at TIME] [--db URL]",
		Short: "Publish a manifest as a new policy version, in force at once or announced",
		Long: `Publish validates the manifest and records it as a new policy version.
Against the version published before it computes the diff (see 'custos policy
diff'): when a change is material, consents to the purposes it touches become
stale (checks answer reconsent_required until the subject consents again),
under acceptance: express_consent the other purposes it touches need the new
version accepted (policy_acceptance_required), and a notice of the change is
queued for every subject it affects, in their language.

A version takes effect at --effective-at (RFC 3339), else at the manifest's
policy.effective date (00:00 China time) when that is still to come, else at
once. Until then it is announced: the privacy center and the banner show it
as upcoming, and every server brings it into force at that instant on its
own clock. A material change cannot take effect before the notice the
manifest promises (policy.updates.notice_days).

Publishing the same manifest again does nothing; a version label is never
reused for different content. Running servers pick the version up within
their poll interval.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := loadManifest(cmd, args[0]); err != nil {
				return err
			}
			source, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var opt consent.PublishOptions
			if at, _ := cmd.Flags().GetString("effective-at"); at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return fmt.Errorf("--effective-at: want an RFC 3339 time such as 2027-01-01T00:00:00+08:00: %w", err)
				}
				opt.EffectiveAt = t
			}
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				a := cliActor()
				opt.Check = org.New(st).PolicyCheck(st.Org())
				p, err := consent.Publish(ctx, st, a, args[0], source, opt, func() audit.Entry {
					return audit.NewEntry(time.Now(), a, "", "", "", "", nil)
				})
				if err != nil {
					return err
				}
				if p.Created && p.Upcoming {
					fmt.Fprintf(cmd.OutOrStdout(), "announced version %s: it takes effect at %s\n", p.Version, p.EffectiveAt.Format(time.RFC3339))
				}
				switch {
				case !p.Created:
					fmt.Fprintf(cmd.OutOrStdout(), "version %s is already published\n", p.Version)
				case p.Material:
					fmt.Fprintf(cmd.OutOrStdout(), "published version %s (material change; re-consent needed for: %s)\n", p.Version, strings.Join(p.Reconsent, ", "))
				default:
					fmt.Fprintf(cmd.OutOrStdout(), "published version %s (no material change)\n", p.Version)
				}
				return nil
			})
		},
	}
	cmd.Flags().String("effective-at", "", "when the version takes effect (RFC 3339); default: the manifest's policy.effective date, or now")
	dbFlags(cmd)
	return cmd
}
