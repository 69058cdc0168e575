package cli

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/checkpoint"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify and export the tamper-evident audit trail",
		Long: `Every state change and every disclosure of personal information through
Custos appends an entry to the audit trail: who (key or user) in which role,
when, from where, what action on which object, for which purpose, with which
outcome. Entries are hash-chained under a key derived from the identity key,
and so is the consent ledger; signed checkpoints of both chains' heads,
written outside the database, catch what a chain alone cannot.`,
	}
	cmd.AddCommand(newAuditVerifyCmd(), newAuditCheckpointCmd(), newAuditExportCmd(), newAuditCutCmd())
	return cmd
}

func newAuditVerifyCmd() *cobra.Command {
	verify := &cobra.Command{
		Use:   "verify [--checkpoints FILE] [--anchor SEQ:HASH] [--since-checkpoint] [--json]",
		Short: "Check the audit trail, the consent ledger and the consent state for any change",
		Long: `Verify reads the database in one snapshot and checks:

  - the audit trail: every entry's hash and link, and its end against the
    recorded head (an entry edited, deleted, inserted or moved);
  - the consent ledger, chained the same way (an event edited, deleted,
    inserted or moved);
  - the current consent state, which decisions read, recomputed from the
    ledger row by row (a state missing, extra or different);
  - with --checkpoints FILE (or CUSTOS_CHECKPOINTS naming a file), every
    checkpoint's signature, and that both chains still pass through every
    head a checkpoint recorded: a tail cut together with its head, or a
    chain recomputed from scratch, is found this way.

Checkpoints are verified with the receipt key's public half; keys used before
it are given with --checkpoint-keys, a JWK Set such as /v1/keys/receipts
served. --anchor SEQ:HASH checks one head of the trail recorded by hand (as
printed by an earlier verify).

With --since-checkpoint, verify reads only what was written after the
latest head given (the last checkpoint in --checkpoints, or --anchor): the
trail's entries and the ledger's events after it and their link to it, the
recorded heads, and the current state of the subjects and purposes those
events touched. Its cost follows what was written since, not the length of
the chains, so it can run every few minutes on a trail of hundreds of
millions of entries. A change made before that head is NOT read this way
(the signed head vouches for what it covers as it was when signed): run
the full verification as well, daily or weekly.

Exit status: 0 when everything holds, 1 when something does not.`,
		Args: cobra.NoArgs,
		RunE: runAuditVerify,
	}
	verify.Flags().String("anchor", "", "a head of the trail SEQ:HASH recorded earlier that the trail must still contain")
	verify.Flags().String("checkpoint-keys", "", "a JWK Set file of further public keys checkpoints may be signed with (keys replaced since)")
	verify.Flags().Bool("since-checkpoint", false, "check only what was written after the latest checkpoint or --anchor (changes before it are not read)")
	verify.Flags().Bool("json", false, "print the report as JSON")
	dbFlags(verify)
	if f := verify.Flags().Lookup("checkpoints"); f != nil {
		f.Hidden = false
		f.Usage = "a checkpoint file (JSON lines) the server wrote; both chains must still pass through every head it records (CUSTOS_CHECKPOINTS)"
	}
	return verify
}

func runAuditVerify(cmd *cobra.Command, args []string) error {
	var anchors audit.Anchors
	if s, _ := cmd.Flags().GetString("anchor"); s != "" {
		seqStr, hashStr, ok := strings.Cut(s, ":")
		seq, err1 := strconv.ParseInt(seqStr, 10, 64)
		h, err2 := hex.DecodeString(hashStr)
		if !ok || err1 != nil || err2 != nil || len(h) != 32 {
			return fmt.Errorf("--anchor must be SEQ:HEX (as printed by an earlier verify)")
		}
		anchors.Trail = append(anchors.Trail, audit.Anchor{Seq: seq, Hash: h, From: "--anchor"})
	}
	asJSON, _ := cmd.Flags().GetBool("json")
	since, _ := cmd.Flags().GetBool("since-checkpoint")
	c, err := loadConfig(cmd.Flags())
	if err != nil {
		return err
	}
	if since && len(anchors.Trail) == 0 && c.Checkpoints == "" {
		return fmt.Errorf("--since-checkpoint starts at the latest checkpoint: give --checkpoints FILE or --anchor SEQ:HASH")
	}
	trail, err := configuredTrail(cmd, c)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openStore(ctx, c, true)
	if err != nil {
		return err
	}
	defer st.Close()
	var checked int64
	progress := func(n int64) {
		checked += n
		if checked%50000 < n {
			fmt.Fprintf(cmd.ErrOrStderr(), "checked %d entries and events\n", checked)
		}
	}
	verify := trail(st).Verify
	if since {
		verify = trail(st).VerifyFrom
	}
	rep, err := verify(ctx, &anchors, progress)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		writeReport(cmd.OutOrStdout(), rep)
	}
	if !rep.OK {
		return exitError{1}
	}
	return nil
}

func newAuditCutCmd() *cobra.Command {
	cut := &cobra.Command{
		Use:   "cut [--audit-retention 3y] [--checkpoints FILE]",
		Short: "Delete the beginning of the audit trail past --audit-retention, now",
		Long: `Cut does now what every server does hourly when --audit-retention
(CUSTOS_AUDIT_RETENTION) gives a period (at least 3 years: PIPL art. 56;
"forever", the default, cuts nothing): it finds, among the signed
checkpoints in --checkpoints FILE, the last one whose entry is older than
the period and still matches the trail, records it as the trail's start,
and deletes the entries up to it in batches, each audited with its count.
The trail's first entry and its key rotations stay. Legal holds in force
keep what they cover: a hold's period keeps the entries from its start on;
a hold without a start (on a person, a category) keeps the whole trail;
holds naming a datastore cover the organisation's databases, not the
trail. custos audit verify then checks the trail from its
start. See docs/retention.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			if _, err := c.AuditPeriod(); err != nil {
				return err
			}
			trail, err := configuredTrail(cmd, c)
			if err != nil {
				return err
			}
			return withStore(cmd, true, func(ctx context.Context, st *store.Store) error {
				c, err := orgPeriods(ctx, st, c)
				if err != nil {
					return err
				}
				period, err := c.AuditPeriod()
				if err != nil {
					return err
				}
				log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
				got, err := server.CutTrail(ctx, trail(st), hold.New(st, hold.Options{Logger: log}), period, cliActor(), time.Now())
				out := cmd.OutOrStdout()
				switch {
				case err != nil:
					return fmt.Errorf("%w (%d deleted before the error)", err, got.Deleted)
				case period.Forever:
					fmt.Fprintln(out, "the audit retention is forever: nothing is cut")
				case got.Whole():
					fmt.Fprintf(out, "not cut: %d legal hold(s) in force keep the whole trail\n", got.Held)
				case got.Start == 0 && got.HeldFrom != nil:
					fmt.Fprintf(out, "nothing to cut: %d legal hold(s) keep the entries from %s on, and no signed checkpoint is older\n", got.Held, instantText(*got.HeldFrom))
				case got.Start == 0:
					fmt.Fprintf(out, "nothing to cut: no signed checkpoint is older than %s\n", period)
				default:
					fmt.Fprintf(out, "%d entries kept %s deleted; the trail starts after entry %d\n", got.Deleted, period, got.Start)
					if got.HeldFrom != nil {
						fmt.Fprintf(out, "%d legal hold(s) keep the entries from %s on\n", got.Held, instantText(*got.HeldFrom))
					}
				}
				return nil
			})
		},
	}
	dbFlags(cut)
	for _, name := range []string{"checkpoints", "audit-retention"} {
		if f := cut.Flags().Lookup(name); f != nil {
			f.Hidden = false
		}
	}
	return cut
}

// configuredTrail is checkpointTrail for c's checkpoints, under the keys
// c names.
func configuredTrail(cmd *cobra.Command, c config.Config) (func(*store.Store) *audit.Trail, error) {
	keys, err := server.LoadKeys(c)
	if err != nil {
		return nil, err
	}
	return checkpointTrail(cmd, c.Checkpoints, keys)
}

// checkpointTrail returns how to open the trail verify, cut and evidence
// read: against the checkpoint file when one is named, with the keys
// given and any --checkpoint-keys. Checkpoints sent to an endpoint are
// for the operator to collect into a file first.
func checkpointTrail(cmd *cobra.Command, target string, keys server.Keys) (func(*store.Store) *audit.Trail, error) {
	plain := func(st *store.Store) *audit.Trail { return audit.NewTrail(st) }
	if target == "" {
		return plain, nil
	}
	sink, err := checkpoint.Open(target)
	if err != nil {
		return nil, err
	}
	f, ok := sink.(*checkpoint.File)
	if !ok {
		fmt.Fprintf(cmd.ErrOrStderr(), "checkpoints go to %s: collect them into a file and pass it with --checkpoints FILE to check them\n", sink)
		return plain, nil
	}
	known := checkpoint.Keys{}
	if keys.Checkpoints != nil {
		known = keys.Checkpoints.Keys()
	}
	if path, _ := cmd.Flags().GetString("checkpoint-keys"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		more, err := checkpoint.ParseJWKS(b)
		if err != nil {
			return nil, err
		}
		maps.Copy(known, more)
	}
	if len(known) == 0 {
		return nil, fmt.Errorf("checkpoints are verified with the receipt key: set CUSTOS_RECEIPT_KEY_FILE or --secrets-dir, or give --checkpoint-keys")
	}
	src := checkpoint.FileAnchors(f.Path, known)
	return func(st *store.Store) *audit.Trail { return audit.NewTrail(st).WithAnchors(src) }, nil
}

// writeReport prints the problems, then one line for each thing checked.
func writeReport(w io.Writer, rep audit.Report) {
	var trail, ledger, state, checkpoints int
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "%s: %s\n", p.Kind, p.Text)
		switch {
		case strings.HasPrefix(p.Kind, "ledger_"):
			ledger++
		case strings.HasPrefix(p.Kind, "state_"):
			state++
		case strings.HasPrefix(p.Kind, "checkpoint_"):
			checkpoints++
		default:
			trail++
		}
	}
	status := func(problems int, good, bad string) string {
		if problems > 0 {
			return bad
		}
		return good
	}
	after := func(since int64, noun string) string {
		if since > 0 {
			return fmt.Sprintf(" after %s %d", noun, since)
		}
		return ""
	}
	fmt.Fprintf(w, "audit chain %s: %d entries%s, head %d:%s\n", status(trail, "intact", "BROKEN"), rep.Entries, after(rep.Since, "entry"), rep.HeadSeq, rep.HeadHash)
	l := rep.Ledger
	before := ""
	if l.Unchained > 0 {
		before = fmt.Sprintf(" (and %d recorded before the chain began)", l.Unchained)
	}
	fmt.Fprintf(w, "consent ledger %s: %d events%s%s, head %d:%s\n", status(ledger, "intact", "BROKEN"), l.Events, after(l.Since, "event"), before, l.HeadSeq, l.HeadHash)
	pairs := "subject and purpose pairs"
	if l.Since > 0 {
		pairs += " touched since"
	}
	fmt.Fprintf(w, "consent state %s: %d %s\n", status(state, "agrees with the ledger", "DIFFERS from the ledger"), l.States, pairs)
	if rep.Anchors > 0 || checkpoints > 0 {
		fmt.Fprintf(w, "checkpoints %s: %d heads checked\n", status(checkpoints, "verified", "BROKEN"), rep.Anchors)
	}
}

func newAuditCheckpointCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checkpoint [--checkpoints FILE|URL]",
		Short: "Write a signed checkpoint of both chains' heads now",
		Long: `Checkpoint reads the heads of the audit trail and of the consent ledger,
signs them with the receipt key and appends the checkpoint to --checkpoints
(CUSTOS_CHECKPOINTS): a file, or an https:// URL it is POSTed to. A server
with checkpoints configured writes one at start, every --checkpoint-every and
at shutdown; this writes one now, e.g. before and after maintenance.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			if c.Checkpoints == "" {
				return fmt.Errorf("say where checkpoints go: --checkpoints FILE|URL or CUSTOS_CHECKPOINTS")
			}
			keys, err := server.LoadKeys(c)
			if err != nil {
				return err
			}
			if keys.Checkpoints == nil {
				return fmt.Errorf("checkpoints are signed with the receipt key: set CUSTOS_RECEIPT_KEY_FILE or --secrets-dir")
			}
			sink, err := checkpoint.Open(c.Checkpoints)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			st, err := openStore(ctx, c, true)
			if err != nil {
				return err
			}
			defer st.Close()
			name, host := cliUserHost()
			w := &checkpoint.Writer{Heads: st, Signer: keys.Checkpoints, Sink: sink, Instance: "cli:" + name + " host " + host}
			cp, err := w.Write(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "checkpoint written to %s: audit head %d:%x, ledger head %d:%x\n", sink, cp.Trail.Seq, cp.Trail.Hash, cp.Ledger.Seq, cp.Ledger.Hash)
			return nil
		},
	}
	dbFlags(cmd)
	if f := cmd.Flags().Lookup("checkpoints"); f != nil {
		f.Hidden = false
	}
	return cmd
}

func newAuditExportCmd() *cobra.Command {
	export := &cobra.Command{
		Use:   "export [--since TIME] [-o FILE]",
		Short: "Export audit entries as JSON lines",
		Long: `Export writes audit entries, oldest first, one JSON object per line, from
--since (RFC 3339 time or YYYY-MM-DD) or from the beginning. Entries carry
subject ids, never identity values.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var since time.Time
			if s, _ := cmd.Flags().GetString("since"); s != "" {
				var err error
				if since, err = time.Parse(time.RFC3339, s); err != nil {
					if since, err = time.Parse(time.DateOnly, s); err != nil {
						return fmt.Errorf("--since must be an RFC 3339 time or YYYY-MM-DD")
					}
				}
			}
			out, _ := cmd.Flags().GetString("output")
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				w := bufio.NewWriter(cmd.OutOrStdout())
				var f *os.File
				if out != "" && out != "-" {
					var err error
					if f, err = os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err != nil {
						return err
					}
					defer f.Close()
					w = bufio.NewWriter(f)
				}
				enc, trail := json.NewEncoder(w), audit.NewTrail(st)
				var after int64
				n := 0
				for {
					page, err := trail.Entries(ctx, audit.Filter{After: after, Since: since, Limit: 5000})
					if err != nil {
						return err
					}
					for _, e := range page {
						if err := enc.Encode(e); err != nil {
							return err
						}
					}
					n += len(page)
					if len(page) < 5000 {
						break
					}
					after = page[len(page)-1].Seq
					fmt.Fprintf(cmd.ErrOrStderr(), "exported %d entries\n", n)
				}
				if err := w.Flush(); err != nil {
					return err
				}
				if f != nil {
					if err := f.Sync(); err != nil {
						return err
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "exported %d entries to %s\n", n, out)
				}
				return nil
			})
		},
	}
	export.Flags().String("since", "", "export entries at or after this time")
	export.Flags().StringP("output", "o", "", "write to FILE instead of standard output")
	dbFlags(export)
	return export
}
