package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/org"
	"github.com/custos-privacy/custos/internal/store"
)

func newOrgsCmd() *cobra.Command {
	orgs := &cobra.Command{
		Use:   "orgs",
		Short: "Register, list, disable and enable the organisations of a deployment",
		Long: `A deployment holds one or more organisations, each a controller with its own
subjects, consent ledger, rights requests, operators, API keys and audit trail;
every row in the database carries its organisation, and no query reaches
across. The organisation 'default' is the one that runs the deployment and
owns everything stored before there were several; it always exists.

These commands change the registry and record each change on the default
organisation's audit trail. See docs/organisations.md.`,
	}
	create := &cobra.Command{
		Use:   "create ID --name NAME",
		Short: "Register an organisation",
		Long: `Create registers an organisation under ID (2 to 40 lower-case letters, digits
and single hyphens, starting with a letter), with its name as its notice
names the controller, and starts its audit trail and consent ledger, empty.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, _ := cmd.Flags().GetString("name")
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				o, err := org.New(st).Create(ctx, cliActor(), args[0], name)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created organisation %s (%s)\n", o.ID, o.Name)
				return nil
			})
		},
	}
	create.Flags().String("name", "", "the organisation's name, as its notice names the controller")
	create.MarkFlagRequired("name")
	dbFlags(create)
	list := &cobra.Command{
		Use:   "list",
		Short: "List the organisations",
		Long:  `List prints every organisation's id, status, creation time and name.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				all, err := org.New(st).List(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tCREATED\tNAME")
				for _, o := range all {
					created := "-" // the default organisation predates the registry
					if o.CreatedAt.UnixMicro() != 0 {
						created = o.CreatedAt.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", o.ID, o.Status, created, o.Name)
				}
				return tw.Flush()
			})
		},
	}
	dbFlags(list)
	status := func(use, short, long string, change func(r *org.Registry, ctx context.Context, id string) (org.Organisation, bool, error)) *cobra.Command {
		c := &cobra.Command{
			Use:   use + " ID",
			Short: short,
			Long:  long,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
					o, changed, err := change(org.New(st), ctx, args[0])
					if err != nil {
						return err
					}
					if !changed {
						fmt.Fprintf(cmd.OutOrStdout(), "organisation %s is %s already\n", o.ID, o.Status)
						return nil
					}
					fmt.Fprintf(cmd.OutOrStdout(), "organisation %s is %s\n", o.ID, o.Status)
					return nil
				})
			},
		}
		dbFlags(c)
		return c
	}
	disable := status("disable", "Disable an organisation; its data stays",
		`Disable marks an organisation disabled; its data stays in the database,
untouched, and enable marks it active again. The deployment's own
organisation cannot be disabled.`,
		func(r *org.Registry, ctx context.Context, id string) (org.Organisation, bool, error) {
			return r.Disable(ctx, cliActor(), id)
		})
	enable := status("enable", "Enable a disabled organisation",
		`Enable marks a disabled organisation active again.`,
		func(r *org.Registry, ctx context.Context, id string) (org.Organisation, bool, error) {
			return r.Enable(ctx, cliActor(), id)
		})
	orgs.AddCommand(create, list, disable, enable)
	return orgs
}
