package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/custos-privacy/custos/internal/approval"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/keep"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/retention"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

func newRetentionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "retention",
		Short: "Plan and run retention sweeps of the organisation's databases",
		Long: `The dataset annotation (--dataset) binds each retention rule of the policy to
the collections it governs: the field that starts the period (clock) or the
event that ends it, and what happens at the end (delete, erase, anonymise).
A running server sweeps every day at --retention-at (03:00 China time by
default), one instance of several; these commands plan and run the same
sweep now. See docs/retention.md.`,
	}
	var recordsJSON bool
	records := &cobra.Command{
		Use:   "records [--json]",
		Short: "Show what Custos keeps in its own database, for how long, and what ends it",
		Long: `Records prints the table of Custos's own records (sessions, codes, messages,
export bundles, vault values, rights requests, the ledger and the audit trail,
retention runs): how long each is kept, what ends it, and the setting that
changes the period, with its default and legal minimum.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if recordsJSON {
				return writeIndented(cmd.OutOrStdout(), keep.Records)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RECORD\tKEPT\tSETTING\tDEFAULT\tMINIMUM")
			for _, r := range keep.Records {
				setting, def, minimum := "-", "-", "-"
				if r.Setting != "" {
					setting, def = "--"+r.Setting, r.Default
				}
				if r.Minimum != nil {
					minimum = fmt.Sprintf("%d %s", r.Minimum.Count, r.Minimum.Unit)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kept, setting, def, minimum)
			}
			return tw.Flush()
		},
	}
	records.Flags().BoolVar(&recordsJSON, "json", false, "print the table as JSON")
	var asJSON bool
	plan := &cobra.Command{
		Use:   "plan [--json]",
		Short: "Show, per datastore, collection and rule, the rows due now, the oldest and those held; change nothing",
		Long: `Plan lists every collection the dataset binds to a retention rule of the policy
in force. For those bound to a clock: the instant before which rows are past
their period (China time), how many rows are due, how many of those legal
holds keep, and the oldest. For those bound to an event: what ends their
data. Nothing is changed; the counts are exact at the moment of the plan.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRetention(cmd, func(ctx context.Context, r *retention.Service) error {
				p, err := r.Plan(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeIndented(cmd.OutOrStdout(), p)
				}
				writePlan(cmd.OutOrStdout(), p)
				return nil
			})
		},
	}
	plan.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	dbFlags(plan)
	var runJSON bool
	run := &cobra.Command{
		Use:   "run [--json]",
		Short: "Sweep now: delete, erase or anonymise every row past its retention that no hold keeps",
		Long: `Run does now what the server does daily: plans, takes the organisation's sweep
(refused while another run holds it, on this or another instance), and sweeps
each target in batches of 500 rows, each its own short transaction. Each
target is audited as soon as it is done. A run stopped midway (Ctrl-C, a
crash) leaves the rows it changed changed; the next run carries on and changes
nothing twice.

Progress goes to standard error: a bar with rows per second and the time
left on a terminal, JSON lines otherwise. The report goes to standard output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRetention(cmd, func(ctx context.Context, r *retention.Service) error {
				rep, err := r.Run(ctx, cliActor(), progressWriter(cmd.ErrOrStderr()))
				if errors.Is(err, retention.ErrRunning) {
					return err
				}
				if runJSON {
					if werr := writeIndented(cmd.OutOrStdout(), rep); werr != nil {
						return werr
					}
				} else {
					writeSweepReport(cmd.OutOrStdout(), rep)
				}
				return err
			})
		},
	}
	run.Flags().BoolVar(&runJSON, "json", false, "print the report as JSON")
	dbFlags(run)
	runs := &cobra.Command{
		Use:   "runs [--limit N] [--json]",
		Short: "List the latest retention runs, newest first",
		Long: `Runs lists the organisation's latest retention runs: done, failed (stopped by
an error or an interruption; the next run carries on), or abandoned (its
instance stopped while holding the sweep, and another took it over).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			limit, _ := cmd.Flags().GetInt("limit")
			asJSON, _ := cmd.Flags().GetBool("json")
			return withRetention(cmd, func(ctx context.Context, r *retention.Service) error {
				rs, err := r.Runs(ctx, limit)
				if err != nil {
					return err
				}
				if asJSON {
					return writeIndented(cmd.OutOrStdout(), rs)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
				fmt.Fprintln(tw, "RUN\tSTATE\tINSTANCE\tSTARTED\tFINISHED")
				for _, x := range rs {
					fin := "-"
					if !x.Finished.IsZero() {
						fin = chinaTime(x.Finished)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", x.ID, x.State, x.Instance, chinaTime(x.Started), fin)
				}
				return tw.Flush()
			})
		},
	}
	runs.Flags().Int("limit", 20, "how many runs")
	runs.Flags().Bool("json", false, "print the runs, with their reports, as JSON")
	dbFlags(runs)
	for _, c := range []*cobra.Command{plan, run, runs} {
		if f := c.Flags().Lookup("dataset"); f != nil {
			f.Hidden = false
		}
	}
	discontinue := &cobra.Command{
		Use:   "discontinue --service ID [--reason TEXT --as USERNAME | --approval ID --as USERNAME]",
		Short: "Erase what a discontinued service alone collected, once a second operator approves",
		Long: `Discontinue ends a service's data: every category the service collects and no
other service of the policy in force does, wherever the dataset holds it. A
collection all of whose personal fields hold such categories is deleted; in
the others those fields are erased. Legal holds keep every collection they
cover whole.

Three steps, two operators:

  custos retention discontinue --service S                          # the plan; nothing changes
  custos retention discontinue --service S --reason TEXT --as ALICE # ask for approval
  custos approvals approve ID --as BOB                              # a second operator
  custos retention discontinue --service S --approval ID --as ALICE # erase

The run refuses a plan that differs from the one approved (the policy or the
dataset changed since), holds the organisation's sweep like a retention run,
audits each collection and issues a signed certificate of what it erased.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			service, _ := cmd.Flags().GetString("service")
			reason, _ := cmd.Flags().GetString("reason")
			approvalID, _ := cmd.Flags().GetString("approval")
			if service == "" {
				return errors.New("--service is required")
			}
			return withServices(cmd, func(ctx context.Context, s *server.Services) error {
				if s.Retention == nil {
					return errNoDataset(cmd)
				}
				d, err := s.Retention.PlanDiscontinue(ctx, service)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				writeDiscontinuation(out, d)
				if reason == "" && approvalID == "" {
					fmt.Fprintf(out, "nothing changed; ask for approval with --reason TEXT --as USERNAME\n")
					return nil
				}
				ops, err := operator.New(s.Store, operator.Options{})
				if err != nil {
					return err
				}
				by, end, err := signIn(ctx, cmd, ops)
				if err != nil {
					return err
				}
				defer end()
				log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
				ap := approval.New(s.Store, approval.Options{Logger: log, Subjects: s.Consent, Requests: s.Requests})
				if approvalID == "" {
					a, err := ap.Request(ctx, by, approval.Input{Kind: approval.KindDiscontinue, Service: service, Plan: d.Hash(), Reason: reason})
					if err != nil {
						return err
					}
					fmt.Fprintf(out, "asked for approval %s; a second operator approves with 'custos approvals approve %s', then run this command with --approval %s\n", a.ID, a.ID, a.ID)
					return nil
				}
				var rep retention.Report
				_, err = ap.Discontinue(ctx, by, approvalID, func(ctx context.Context, p approval.Params) (any, error) {
					if p.Service != service {
						return nil, fmt.Errorf("approval %s ends service %s, not %s", approvalID, p.Service, service)
					}
					var err error
					rep, err = s.Retention.RunDiscontinue(ctx, audit.Actor{ID: "operator:" + by.ID, Role: by.Role, Place: by.Place}, service, p.Plan)
					return map[string]any{"run": rep.Run, "certificates": rep.Certificates}, err
				})
				if rep.Run != "" {
					writeSweepReport(out, rep)
				}
				return err
			})
		},
	}
	discontinue.Flags().String("service", "", "the service of the policy in force to end")
	discontinue.Flags().String("reason", "", "why the service ends; asks a second operator to approve")
	discontinue.Flags().String("approval", "", "the approved approval to carry out")
	discontinue.Flags().String("as", "", "the operator acting (asked on the terminal if not given)")
	discontinue.Flags().String("password-file", "", "read the operator's password from this file instead of the terminal")
	dbFlags(discontinue)
	for _, c := range []*cobra.Command{plan, run, runs, discontinue} {
		if f := c.Flags().Lookup("dataset"); f != nil {
			f.Hidden = false
		}
	}
	cmd.AddCommand(plan, run, runs, discontinue, records)
	return cmd
}

// writeDiscontinuation prints what ending a service erases.
func writeDiscontinuation(w io.Writer, d retention.Discontinuation) {
	fmt.Fprintf(w, "service %s: categories collected by no other service: %s\n", d.Service, strings.Join(d.Categories, ", "))
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "DATASTORE\tCOLLECTION\tACTION\tFIELDS\tROWS\tHELD")
	for _, t := range d.Targets {
		fields := strings.Join(t.Fields, ",")
		if fields == "" {
			fields = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", t.Datastore, t.Collection, t.Action, fields, t.Rows, t.Held)
	}
	tw.Flush()
	fmt.Fprintf(w, "plan %s\n", d.Hash())
}

// withRetention runs fn with the retention service of the configured dataset.
func withRetention(cmd *cobra.Command, fn func(ctx context.Context, r *retention.Service) error) error {
	return withServices(cmd, func(ctx context.Context, s *server.Services) error {
		if s.Retention == nil {
			return errNoDataset(cmd)
		}
		return fn(ctx, s.Retention)
	})
}

// errNoDataset says where the dataset annotation a command needs is given:
// an organisation's is in its own directory, never --dataset.
func errNoDataset(cmd *cobra.Command) error {
	if id, _ := cmd.Flags().GetString("org"); id != "" && id != store.DefaultOrg {
		return fmt.Errorf("organisation %s has no dataset annotation: put it at orgs/%s/%s under --secrets-dir", id, id, config.OrgDatasetFile)
	}
	return errors.New("no dataset annotation: give --dataset PATH (CUSTOS_DATASET), the annotation that binds retention rules to the databases")
}

func chinaTime(t time.Time) string { return t.In(calendar.China).Format("2006-01-02 15:04") }

func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writePlan prints a plan as a table; times are China's.
func writePlan(w io.Writer, p retention.Plan) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tDATASTORE\tCOLLECTION\tACTION\tDUE BEFORE\tDUE\tHELD\tOLDEST")
	var notes []string
	for _, l := range p.Lines {
		if !l.Swept() {
			how := "by the account's cancellation request"
			switch l.Keeper {
			case retention.NotObserved:
				how = "not observed by Custos: the organisation acts on it"
			case retention.ByWithdrawal:
				how = fmt.Sprintf("swept per person who withdrew consent: %d to sweep, %d held", l.People, l.Held)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t-\t-\t-\n", l.Rule, l.Datastore, l.Collection, l.Action, "event "+l.Event)
			notes = append(notes, fmt.Sprintf("%s/%s under %s ends at %s: %s", l.Datastore, l.Collection, l.Rule, l.Event, how))
			continue
		}
		oldest := "-"
		if l.Oldest != nil {
			oldest = l.Oldest.In(calendar.China).Format("2006-01-02")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", l.Rule, l.Datastore, l.Collection, l.Action, chinaTime(*l.Cutoff), l.Due, l.Held, oldest)
		if l.Unreadable > 0 {
			notes = append(notes, fmt.Sprintf("%s/%s: %d rows have a %s SQLite cannot read as a time; they are never due until fixed", l.Datastore, l.Collection, l.Unreadable, l.Clock))
		}
		if len(l.Holds) > 0 {
			notes = append(notes, fmt.Sprintf("%s/%s under %s: held by %s", l.Datastore, l.Collection, l.Rule, strings.Join(l.Holds, ", ")))
		}
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintln(w, "  "+n)
	}
}

// writeSweepReport prints what a run did.
func writeSweepReport(w io.Writer, rep retention.Report) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tDATASTORE\tCOLLECTION\tACTION\tROWS\tHELD")
	var total int64
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", r.Rule, r.Datastore, r.Collection, r.Action, r.Rows, r.Held)
		total += r.Rows
	}
	tw.Flush()
	if rep.Error != "" {
		fmt.Fprintf(w, "run %s stopped after %d rows: %s\n", rep.Run, total, rep.Error)
		return
	}
	fmt.Fprintf(w, "run %s: %d rows in %d collections\n", rep.Run, total, len(rep.Results))
}

// progressWriter reports a run's progress on w: a bar redrawn in place
// on a terminal, a JSON line at most every second otherwise.
func progressWriter(w io.Writer) func(retention.Progress) {
	f, ok := w.(*os.File)
	tty := ok && term.IsTerminal(int(f.Fd()))
	start, last := time.Now(), time.Time{}
	var current string
	var since time.Time
	return func(p retention.Progress) {
		key := p.Target.Rule + "/" + p.Target.Datastore + "/" + p.Target.Collection
		if key != current {
			current, since = key, time.Now()
		}
		now := time.Now()
		if !tty {
			if now.Sub(last) < time.Second && p.Rows+p.Held < p.Due {
				return
			}
			last = now
			line, _ := json.Marshal(map[string]any{"rule": p.Target.Rule, "datastore": p.Target.Datastore, "collection": p.Target.Collection,
				"rows": p.Rows, "held": p.Held, "due": p.Due, "target": p.Index, "targets": p.Targets, "elapsed_s": now.Sub(start).Seconds()})
			fmt.Fprintf(w, "%s\n", line)
			return
		}
		rate := float64(p.Rows) / max(now.Sub(since).Seconds(), 1e-3)
		eta := "-"
		if left := p.Due - p.Rows - p.Held; left > 0 && rate > 0 {
			eta = (time.Duration(float64(left)/rate) * time.Second).Round(time.Second).String()
		}
		const width = 24
		filled := width
		if p.Due > 0 {
			filled = int(min(p.Rows+p.Held, p.Due) * width / p.Due)
		}
		fmt.Fprintf(w, "\r[%s%s] %d/%d %s  %d/%d rows  %.0f rows/s  ETA %s   ", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
			p.Index, p.Targets, key, p.Rows, p.Due, rate, eta)
		if p.Rows+p.Held >= p.Due {
			fmt.Fprintln(w)
		}
	}
}
