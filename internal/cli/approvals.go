package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/approval"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// withApprovals runs fn with the approval workflow on the configured
// database. With the data keyset the rights-request service comes too,
// so destructions can run; without it they are refused, and the rest
// (listing, deciding on exports) works on the database alone.
func withApprovals(cmd *cobra.Command, fn func(ctx context.Context, cfg config.Config, ap *approval.Service, ops *operator.Service) error) error {
	c, err := loadConfig(cmd.Flags())
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	opt := approval.Options{Logger: log}
	var st *store.Store
	if c.DataKeyset.IsSet() {
		s, err := server.OpenServices(ctx, c, log)
		if err != nil {
			return err
		}
		st, opt.Subjects, opt.Requests = s.Store, s.Consent, s.Requests
	} else if st, err = openStore(ctx, c, false); err != nil {
		return err
	}
	defer st.Close()
	ops, err := operator.New(st, operator.Options{})
	if err != nil {
		return err
	}
	return fn(ctx, c, approval.New(st, opt), ops)
}

// cliPlace says where a command-line step came from, for the audit
// trail: the host and the operating-system account.
func cliPlace() string {
	name, host := cliUserHost()
	return "cli host " + host + " user " + name
}

// signIn authenticates the operator a decision is taken for: the
// username from --as (or asked on the terminal), the password from
// --password-file (or asked on the terminal, not echoed). It goes
// through the console's sign-in, so lockout, disabled accounts and the
// audit trail apply as they do there; the session ends with the command.
func signIn(ctx context.Context, cmd *cobra.Command, ops *operator.Service) (approval.Operator, func(), error) {
	username, _ := cmd.Flags().GetString("as")
	file, _ := cmd.Flags().GetString("password-file")
	var password string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return approval.Operator{}, nil, fmt.Errorf("password file: %w", err)
		}
		password, _, _ = strings.Cut(string(b), "\n")
		password = strings.TrimSuffix(password, "\r")
	}
	if username == "" || password == "" {
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return approval.Operator{}, nil, errors.New("deciding needs an operator's sign-in: give --as USERNAME and --password-file FILE, or run on a terminal to be asked")
		}
		defer tty.Close()
		if username == "" {
			if username, err = prompt(ctx, tty, "Operator username: ", false); err != nil {
				return approval.Operator{}, nil, err
			}
		}
		if password == "" {
			if password, err = prompt(ctx, tty, "Password for "+username+": ", true); err != nil {
				return approval.Operator{}, nil, err
			}
		}
	}
	place := cliPlace()
	token, o, err := ops.SignIn(ctx, place, username, password)
	if err != nil {
		return approval.Operator{}, nil, err
	}
	end := func() { ops.SignOut(context.WithoutCancel(ctx), place, token) }
	return approval.Operator{ID: o.ID, Role: o.Role, Place: place}, end, nil
}

// prompt asks on the terminal and reads one line; secret turns echo off
// meanwhile (with stty, so no terminal library is needed) and back on
// even when the user interrupts.
func prompt(ctx context.Context, tty *os.File, question string, secret bool) (string, error) {
	fmt.Fprint(tty, question)
	if secret {
		stty := func(arg string) error {
			c := exec.CommandContext(context.WithoutCancel(ctx), "stty", arg)
			c.Stdin = tty
			return c.Run()
		}
		if err := stty("-echo"); err != nil {
			return "", errors.New("cannot turn off the terminal's echo to ask for the password: give --password-file FILE")
		}
		defer func() {
			stty("echo")
			fmt.Fprintln(tty)
		}()
	}
	type line struct {
		s   string
		err error
	}
	read := make(chan line, 1)
	go func() {
		s, err := bufio.NewReader(io.LimitReader(tty, 4096)).ReadString('\n')
		read <- line{strings.TrimRight(s, "\r\n"), err}
	}()
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt)
	defer signal.Stop(interrupt)
	select {
	case l := <-read:
		if l.err != nil && !errors.Is(l.err, io.EOF) {
			return "", fmt.Errorf("read from the terminal: %w", l.err)
		}
		return l.s, nil
	case <-interrupt:
		return "", errors.New("interrupted")
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// scope says in a few words what a batch covers.
func scope(a approval.Approval) string {
	if a.Kind == approval.KindHoldLift {
		return "hold " + a.Params.Hold
	}
	if a.Kind == approval.KindDiscontinue {
		return "service " + a.Params.Service
	}
	if a.Params.Scope == approval.ScopeLedger {
		return "ledger " + a.Params.From + ".." + a.Params.To
	}
	return fmt.Sprintf("%d subject(s)", len(a.Params.Subjects))
}

// state says where an approval stands, with what the list shows besides.
func state(a approval.Approval) string {
	s := a.State
	switch {
	case a.Expired:
		s += " (expired)"
	case a.Kind == approval.KindDestruction && a.State == approval.StateApproved:
		s += fmt.Sprintf(" (%d/%d done", a.Done(), len(a.Params.Subjects))
		if a.Running {
			s += ", running"
		}
		s += ")"
	}
	return s
}

// ranDestruction tells how a destruction's run ended.
func ranDestruction(cmd *cobra.Command, a approval.Approval) {
	if a.State == approval.StateExecuted {
		failed := 0
		for _, o := range a.Outcomes {
			if o.Error != "" {
				failed++
			}
		}
		fmt.Fprintf(cmd.OutOrStdout(), "destruction %s finished: %d subject(s), %d not erased (see 'custos approvals show %s')\n", a.ID, a.Done(), failed, a.ID)
		return
	}
	fmt.Fprintf(cmd.OutOrStdout(), "destruction %s stopped after %d of %d subject(s); carry on with 'custos approvals resume %s'\n", a.ID, a.Done(), len(a.Params.Subjects), a.ID)
}

// noDatastores refuses to run a destruction from a command line that
// would miss the datastores the server reaches: the erasure would stop
// at Custos's own data.
func noDatastores(ctx context.Context, cfg config.Config, ap *approval.Service, id string) error {
	if cfg.Dataset == "" {
		return nil
	}
	a, err := ap.Get(ctx, id)
	if err != nil {
		return err
	}
	if a.Kind == approval.KindDestruction {
		return errors.New("this configuration names datastores (--dataset) that the command line does not reach: approve or resume destructions on the console")
	}
	return nil
}

func newApprovalsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "approvals",
		Short: "List, decide on and resume batch exports and destructions (two operators)",
		Long: `Approvals are batch exports (subjects' data, or the consent ledger for a
period) and batch destructions, asked for on the console, which run only once
a second operator approves them. These commands apply the console's rules:
deciding or resuming signs in as an operator (--as USERNAME, the password from
--password-file or asked on the terminal, never a flag), the requester cannot
decide on their own request, nor can an account whose password the requester
set (or that set the requester's), auditors only read, and every step is
audited. Exports are downloaded on the console only, by their requester.
Lifts of legal holds ('custos holds lift') are approvals too: approving one
lifts the hold.`,
	}
	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "List approvals, newest first",
		Long:  `List prints the newest 200 approvals: id, kind, what they cover, state (with a destruction's progress, or "expired" for an export past its 7 days), who asked and who decided.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, _ := cmd.Flags().GetBool("json")
			return withApprovals(cmd, func(ctx context.Context, _ config.Config, ap *approval.Service, _ *operator.Service) error {
				all, err := ap.List(ctx, 200)
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(cmd.OutOrStdout()).Encode(all)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tKIND\tSCOPE\tSTATE\tREQUESTED BY\tDECIDED BY\tCREATED")
				for _, a := range all {
					decided := a.DecidedBy
					if decided == "" {
						decided = "-"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Kind, scope(a), state(a), a.RequestedBy, decided, a.CreatedAt.UTC().Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().Bool("json", false, "print JSON")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show an approval as JSON",
		Long:  `Show prints one approval as JSON: what it covers, the reason given, who asked and who decided, and what it did (a destruction's outcome per subject, an export's record count).`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApprovals(cmd, func(ctx context.Context, _ config.Config, ap *approval.Service, _ *operator.Service) error {
				a, err := ap.Get(ctx, args[0])
				if err != nil {
					return err
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(a)
			})
		},
	}
	// decide signs the operator in and runs step on their authority.
	decide := func(cmd *cobra.Command, id string, step func(ctx context.Context, ap *approval.Service, by approval.Operator) error) error {
		return withApprovals(cmd, func(ctx context.Context, cfg config.Config, ap *approval.Service, ops *operator.Service) error {
			if err := noDatastores(ctx, cfg, ap, id); err != nil {
				return err
			}
			by, end, err := signIn(ctx, cmd, ops)
			if err != nil {
				return err
			}
			defer end()
			return step(ctx, ap, by)
		})
	}
	approve := &cobra.Command{
		Use:   "approve ID --as USERNAME [--password-file FILE] [--note TEXT]",
		Short: "Approve another operator's batch; a destruction runs at once",
		Long: `Approve signs in as the operator given with --as and approves the batch on
their authority. An export can then be downloaded by its requester on the
console, once, within 7 days. A destruction runs at once: one deletion request
per subject, through the usual workflow (legal holds apply, recipients are
told); it needs the data keyset. If the run stops before the end, carry on
with 'custos approvals resume ID'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			note, _ := cmd.Flags().GetString("note")
			return decide(cmd, args[0], func(ctx context.Context, ap *approval.Service, by approval.Operator) error {
				a, err := ap.Decide(ctx, by, args[0], true, note)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "approved %s\n", a.ID)
				if a.Kind == approval.KindHoldLift {
					fmt.Fprintf(cmd.OutOrStdout(), "legal hold %s lifted\n", a.Params.Hold)
				}
				if a.Kind == approval.KindDestruction {
					ranDestruction(cmd, a)
				}
				return nil
			})
		},
	}
	approve.Flags().String("note", "", "a note kept with the decision")
	refuse := &cobra.Command{
		Use:   "refuse ID --reason TEXT --as USERNAME [--password-file FILE]",
		Short: "Refuse another operator's batch, saying why",
		Long:  `Refuse signs in as the operator given with --as and rejects the batch on their authority, keeping the reason with the decision. Nothing runs.`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reason, _ := cmd.Flags().GetString("reason")
			if strings.TrimSpace(reason) == "" {
				return errors.New("say why with --reason")
			}
			return decide(cmd, args[0], func(ctx context.Context, ap *approval.Service, by approval.Operator) error {
				a, err := ap.Decide(ctx, by, args[0], false, reason)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "refused %s\n", a.ID)
				return nil
			})
		},
	}
	refuse.Flags().String("reason", "", "why the batch is refused")
	resume := &cobra.Command{
		Use:   "resume ID --as USERNAME [--password-file FILE]",
		Short: "Carry on an approved destruction that stopped before the end",
		Long: `Resume signs in as the operator given with --as and carries on an approved
destruction from the first subject not yet dealt with; it needs the data
keyset. A run still in progress elsewhere holds the destruction for up to 31
minutes; until then resuming is refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return decide(cmd, args[0], func(ctx context.Context, ap *approval.Service, by approval.Operator) error {
				a, err := ap.Resume(ctx, by, args[0])
				if err != nil {
					return err
				}
				ranDestruction(cmd, a)
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{approve, refuse, resume} {
		c.Flags().String("as", "", "the operator deciding (asked on the terminal if not given)")
		c.Flags().String("password-file", "", "a file whose first line is the operator's password (asked on the terminal if not given)")
	}
	for _, c := range []*cobra.Command{list, show, approve, refuse, resume} {
		dbFlags(c)
	}
	cmd.AddCommand(list, show, approve, refuse, resume)
	return cmd
}
