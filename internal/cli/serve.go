package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// loadConfig reads the typed configuration from the command's flags and the environment.
func loadConfig(fs *pflag.FlagSet) (config.Config, error) {
	cfg, err := config.Load(fs, os.Getenv)
	if err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	// --org: the command acts for that organisation, with its own secrets.
	if id, _ := fs.GetString("org"); id != "" && id != store.DefaultOrg {
		if cfg, err = cfg.ForOrg(id); err != nil {
			return cfg, fmt.Errorf("configuration of organisation %s:\n%w", id, err)
		}
	}
	return cfg, nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// cliActor names the operating-system user running a command in the audit trail.
func cliActor() consent.Actor {
	name, host := cliUserHost()
	return consent.Actor{ID: "cli:" + name, Role: "admin", Place: "cli host " + host}
}

// cliUserHost is the operating-system account running the command
// ("unknown" when it cannot be read) and the host's name.
func cliUserHost() (name, host string) {
	name = "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ = os.Hostname()
	return name, host
}

func newServeCmd() *cobra.Command {
	cfg := config.Default()
	cmd := &cobra.Command{
		Use:   "serve [--manifest PATH] [--db URL] [--addr HOST:PORT] [--demo]",
		Short: "Run the Custos server: consent ledger, purpose checks, audit trail, JSON API",
		Long: `Serve runs the Custos API. It publishes the manifest given with --manifest as
the policy version in force (a new version label whose changes are material
makes the affected consents stale), then answers /v1 requests until SIGINT or
SIGTERM, finishing requests in flight. SIGHUP re-reads the manifest.

The database is a SQLite file (default custos.db) or a postgres:// URL; several
servers may share one PostgreSQL database. The schema must be current: run
'custos migrate' first. Secrets (identity key, data keyset, receipt key) come
from CUSTOS_*_FILE variables or --secrets-dir; 'custos secrets init DIR'
creates them. Every setting can also be given as CUSTOS_<NAME>; see
'custos config'.

--demo runs the fictional Qingyun Notes: both versions of the starter
manifest and ten weeks of sample consents and rights requests, on a SQLite
database in .custos-demo/ beside its secrets, its admin key (the same on every
start) and the messages it would send. Once ready it prints where to go, the
admin key and whom to sign in as. Delete .custos-demo/ to start over.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			var opts []server.Option
			if c.Demo {
				if !cmd.Flags().Changed("db") && os.Getenv("CUSTOS_DB") == "" && os.Getenv("CUSTOS_DB_FILE") == "" {
					c.DB = server.DemoDB
				}
				opts = append(opts, server.WithDemo(server.DemoOptions{Dir: server.DemoDir, History: true}))
			}
			log := newLogger(c, cmd.ErrOrStderr())
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			srv, err := server.New(ctx, c, log, opts...)
			if err != nil {
				return err
			}
			return srv.Serve(ctx, func(addr string) {
				fmt.Fprintf(cmd.OutOrStdout(), "custos listening on http://%s\n", addr)
				if d := srv.Demo(); d != nil {
					d.WriteBanner(cmd.OutOrStdout(), addr)
				}
			})
		},
	}
	cfg.RegisterFlags(cmd.Flags())
	return cmd
}

func newMigrateCmd() *cobra.Command {
	cfg := config.Default()
	cmd := &cobra.Command{
		Use:   "migrate [--db URL]",
		Short: "Bring the database schema up to date",
		Long: `Migrate applies the schema migrations embedded in this binary that the
database has not seen yet, each in its own transaction, and prints them. On
PostgreSQL an advisory lock keeps several instances from migrating at once.
The server refuses to start on a database that is behind (or ahead of) the
binary. --status only reports the versions.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			dsn := c.DB
			if c.DBKind() == config.DBSQLite {
				dsn = c.SQLitePath()
			}
			st, err := store.Open(cmd.Context(), dsn)
			if err != nil {
				return err
			}
			defer st.Close()
			if status, _ := cmd.Flags().GetBool("status"); status {
				applied, latest, err := st.SchemaStatus(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "schema version %d, this build %d\n", applied, latest)
				return nil
			}
			done, err := st.Migrate(cmd.Context())
			for _, m := range done {
				fmt.Fprintf(cmd.OutOrStdout(), "applied %04d_%s\n", m.Version, m.Name)
			}
			if err != nil {
				return err
			}
			if len(done) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "schema is up to date")
			}
			return nil
		},
	}
	cfg.RegisterFlags(cmd.Flags())
	hideServerFlags(cmd.Flags())
	cmd.Flags().Bool("status", false, "only print the schema versions")
	return cmd
}

// hideServerFlags hides the flags that only serve uses, on commands that
// share its configuration.
func hideServerFlags(fs *pflag.FlagSet) {
	for _, name := range []string{"addr", "manifest", "demo", "check-sample", "poll-interval", "max-body", "shutdown-timeout", "trust-proxy",
		"dataset", "notify-dir", "smtp-addr", "smtp-from", "smtp-user", "sms-webhook-url", "public-url", "banner-origins",
		"checkpoints", "checkpoint-every", "outbox-retention", "retention-at", "request-retention", "audit-retention", "cache-subjects", "db-conns"} {
		fs.MarkHidden(name)
	}
}

func newConfigCmd() *cobra.Command {
	cfg := config.Default()
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the configuration in force, secrets redacted",
		Long: `Config prints every setting serve would use, from flags, CUSTOS_* environment
variables, *_FILE files and the secrets directory, with where each came from.
Secrets are shown as [redacted] and a database password as xxxxx. Problems
with the configuration are listed after it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := config.Load(cmd.Flags(), os.Getenv)
			if werr := c.WriteRedacted(cmd.OutOrStdout()); werr != nil {
				return werr
			}
			// Which channels carry one-time codes and notices, live.
			ch := c.Channels()
			fmt.Fprintf(cmd.OutOrStdout(), "message channels:\n  email  %s\n  sms    %s\n", ch["email"], ch["sms"])
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "problems:\n%s\n", indent(err.Error()))
				return exitError{1}
			}
			return nil
		},
	}
	cfg.RegisterFlags(cmd.Flags())
	return cmd
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
