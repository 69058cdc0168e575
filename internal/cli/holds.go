package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/store"
)

// withHolds runs fn with the legal holds of the configured database and
// organisation, and the operators who sign in to act on them.
func withHolds(cmd *cobra.Command, fn func(ctx context.Context, hs *hold.Service, ops *operator.Service) error) error {
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
		ops, err := operator.New(st, operator.Options{})
		if err != nil {
			return err
		}
		return fn(ctx, hold.New(st, hold.Options{Logger: log}), ops)
	})
}

// signedIn signs the operator in (see signIn) and runs step on their
// authority.
func signedIn(ctx context.Context, cmd *cobra.Command, ops *operator.Service, step func(by hold.Operator) error) error {
	by, end, err := signIn(ctx, cmd, ops)
	if err != nil {
		return err
	}
	defer end()
	return step(hold.Operator{ID: by.ID, Role: by.Role, Place: by.Place})
}

// instant reads a flag's time: a date (the start of that day, China
// time) or an RFC 3339 instant; nil when the flag is not given.
func instant(cmd *cobra.Command, flag string) (*time.Time, error) {
	v, _ := cmd.Flags().GetString(flag)
	if v == "" {
		return nil, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, calendar.China); err == nil {
		return &t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("--%s: give a date (YYYY-MM-DD, China time) or an RFC 3339 time", flag)
	}
	return &t, nil
}

// instantText shows a time as instant reads it: a date when it is the
// start of a day in China time, an RFC 3339 instant otherwise.
func instantText(t time.Time) string {
	if c := t.In(calendar.China); c.Equal(time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, calendar.China)) {
		return c.Format(time.DateOnly)
	}
	return t.UTC().Format(time.RFC3339)
}

// holdState says whether a hold holds now.
func holdState(h hold.Hold, now time.Time) string {
	switch {
	case h.LiftedAt != nil:
		return "lifted"
	case !h.Active(now):
		return "expired"
	}
	return "active"
}

func newHoldsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "holds",
		Short: "Place, list and lift legal holds (lifting needs two operators)",
		Long: `A legal hold keeps what it covers from erasure: a subject's data, a datastore
or one of its collections, a category of personal information (and those below
it), data whose retention clock lies in a period, or several of these at once.
While a hold covers a subject, a deletion or account cancellation completes as
a restriction of processing to storage, and the person is told that a legal
hold applies, in the words of the hold's basis; never the authority's
reference. A hold holds until it expires or a second operator approves its
lift ('custos approvals approve'). Placing and asking to lift sign in as an
operator (--as USERNAME, the password from --password-file or asked on the
terminal); auditors only read. Every step is audited. See docs/holds.md.`,
	}
	place := &cobra.Command{
		Use:   "place --reason TEXT --authority REF [--subject ID] [--datastore ID [--collection NAME]] [--category ID] [--from T] [--to T] [--basis ID] [--expires T] --as USERNAME",
		Short: "Place a legal hold",
		Long: `Place records a legal hold on the signed-in operator's authority. Give at least
one of --subject, --datastore, --category, --from and --to; all those given must
match. --reason says why, for operators; --authority is the reference of the
court order, authority request or case. --basis names the policy's legal_holds
entry the hold rests on (court_order, dispute, …): the person is told it.
Times are dates (YYYY-MM-DD, China time) or RFC 3339 instants.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			str := func(name string) string { v, _ := cmd.Flags().GetString(name); return v }
			in := hold.Input{Scope: hold.Scope{SubjectID: str("subject"), Datastore: str("datastore"), Collection: str("collection"), Category: str("category")},
				Reason: str("reason"), Authority: str("authority"), Basis: str("basis")}
			var err error
			if in.Scope.From, err = instant(cmd, "from"); err != nil {
				return err
			}
			if in.Scope.To, err = instant(cmd, "to"); err != nil {
				return err
			}
			if in.Expires, err = instant(cmd, "expires"); err != nil {
				return err
			}
			return withHolds(cmd, func(ctx context.Context, hs *hold.Service, ops *operator.Service) error {
				return signedIn(ctx, cmd, ops, func(by hold.Operator) error {
					h, err := hs.Place(ctx, by, in)
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "placed legal hold %s on %s\n", h.ID, h.Scope.Kind())
					return nil
				})
			})
		},
	}
	for _, f := range [][2]string{
		{"subject", "the subject id the hold covers"},
		{"datastore", "a datastore id of the organisation's dataset annotation"},
		{"collection", "a collection of the datastore (needs --datastore)"},
		{"category", "a category of personal information; covers those below it too"},
		{"from", "the start of the period of the data's retention clock"},
		{"to", "the end of that period (excluded)"},
		{"reason", "why the data must be kept (for operators)"},
		{"authority", "the reference of the court order, authority request or case"},
		{"basis", "the policy's legal_holds id the hold rests on"},
		{"expires", "when the hold ends by itself (left out: when lifted)"},
	} {
		place.Flags().String(f[0], "", f[1])
	}
	list := &cobra.Command{
		Use:   "list [--all] [--json]",
		Short: "List legal holds, newest first",
		Long:  `List prints the holds active now (with --all, lifted and expired ones too): id, state, what the scope narrows by, basis, expiry, and when it was placed.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			all, _ := cmd.Flags().GetBool("all")
			asJSON, _ := cmd.Flags().GetBool("json")
			return withHolds(cmd, func(ctx context.Context, hs *hold.Service, _ *operator.Service) error {
				list, err := hs.List(ctx, all)
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(cmd.OutOrStdout()).Encode(list)
				}
				now := time.Now()
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATE\tSCOPE\tBASIS\tEXPIRES\tPLACED")
				for _, h := range list {
					basis, expires := h.Basis, "-"
					if basis == "" {
						basis = "-"
					}
					if h.Expires != nil {
						expires = h.Expires.UTC().Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, holdState(h, now), h.Scope.Kind(), basis, expires, h.PlacedAt.UTC().Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().Bool("all", false, "list lifted and expired holds too")
	list.Flags().Bool("json", false, "print JSON")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a legal hold as JSON",
		Long:  `Show prints one hold as JSON: its scope, reason, authority, basis, who placed it and when, its expiry, and who lifted it and when.`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHolds(cmd, func(ctx context.Context, hs *hold.Service, _ *operator.Service) error {
				h, err := hs.Get(ctx, args[0])
				if err != nil {
					return err
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(h)
			})
		},
	}
	lift := &cobra.Command{
		Use:   "lift ID --reason TEXT --as USERNAME [--password-file FILE]",
		Short: "Ask to lift a legal hold; a second operator approves it",
		Long: `Lift asks, on the signed-in operator's authority, for the hold to be lifted: an
approval that another operator decides with 'custos approvals approve' or on the
console. Until then the hold holds. The operator who asked cannot approve, nor
can an account whose password they set (or that set theirs).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reason, _ := cmd.Flags().GetString("reason")
			if strings.TrimSpace(reason) == "" {
				return errors.New("say why with --reason")
			}
			return withHolds(cmd, func(ctx context.Context, hs *hold.Service, ops *operator.Service) error {
				return signedIn(ctx, cmd, ops, func(by hold.Operator) error {
					ap, err := hs.RequestLift(ctx, by, args[0], reason)
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "asked to lift %s: approval %s waits for a second operator ('custos approvals approve %s')\n", args[0], ap, ap)
					return nil
				})
			})
		},
	}
	lift.Flags().String("reason", "", "why the hold may be lifted")
	for _, c := range []*cobra.Command{place, lift} {
		c.Flags().String("as", "", "the operator acting (asked on the terminal if not given)")
		c.Flags().String("password-file", "", "a file whose first line is the operator's password (asked on the terminal if not given)")
	}
	for _, c := range []*cobra.Command{place, list, show, lift} {
		dbFlags(c)
	}
	cmd.AddCommand(place, list, show, lift)
	return cmd
}
