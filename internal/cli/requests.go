package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/server"
)

func withRequests(cmd *cobra.Command, fn func(ctx context.Context, d *dsr.Service) error) error {
	return withServices(cmd, func(ctx context.Context, s *server.Services) error { return fn(ctx, s.Requests) })
}

func printView(cmd *cobra.Command, v dsr.View) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newRequestsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "requests",
		Short: "Work on data-subject rights requests",
		Long: `Requests lists and acts on rights requests (access, copy, portability,
correction, deletion, withdrawal of consent, account cancellation,
restriction, objection, explanations, complaints, a deceased person's
relative), with the same rules as the API: every transition is audited and
the subject is notified. Due dates follow the policy's deadlines on the PRC
working-day calendar where it says working days.`,
	}
	list := &cobra.Command{
		Use:   "list [--state S] [--due-by YYYY-MM-DD] [--overdue] [--limit N] [--cursor CURSOR | --all-pages] [--json]",
		Short: "List open requests, soonest due first",
		Long: `List prints open requests (or those in --state) with their due dates and days left; --overdue shows those past due, --due-by those due by a date. Provisional due dates (a year without published holiday data) are marked.

It prints one page of --limit requests (500); when more follow it says so on standard error with the --cursor that lists the next page. --all-pages prints every page; --overdue reads every page too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			state, _ := cmd.Flags().GetString("state")
			dueBy, _ := cmd.Flags().GetString("due-by")
			overdue, _ := cmd.Flags().GetBool("overdue")
			asJSON, _ := cmd.Flags().GetBool("json")
			limit, _ := cmd.Flags().GetInt("limit")
			after, _ := cmd.Flags().GetString("cursor")
			allPages, _ := cmd.Flags().GetBool("all-pages")
			if limit < 0 || limit > 1000 {
				return fmt.Errorf("--limit is 1 to 1000, or 0 for 500")
			}
			if allPages && after != "" {
				return fmt.Errorf("--cursor and --all-pages: choose one")
			}
			return withRequests(cmd, func(ctx context.Context, d *dsr.Service) error {
				f := dsr.Filter{DueBy: dueBy, Limit: limit, After: after}
				if state != "" {
					f.States = []string{state}
				}
				vs := []dsr.View{}
				for {
					p, err := d.ListPage(ctx, f)
					if err != nil {
						return err
					}
					vs = append(vs, p.Requests...)
					if p.Next == "" {
						break
					}
					// Overdue requests can be on any page of the open ones.
					if !allPages && !overdue {
						fmt.Fprintf(cmd.ErrOrStderr(), "more requests follow: --cursor %s\n", p.Next)
						break
					}
					f.After = p.Next
				}
				if asJSON {
					return json.NewEncoder(cmd.OutOrStdout()).Encode(vs)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tTYPE\tSTATE\tSUBJECT\tDUE\tDAYS LEFT\tFLAGS")
				for _, v := range vs {
					if overdue && v.DaysLeft >= 0 {
						continue
					}
					due := v.DueDate
					if v.DueProvisional {
						due += " (provisional)"
					}
					flags := ""
					if v.Flags.Repeated {
						flags = "repeated:" + v.Flags.FeePolicy
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", v.ID, v.Type, v.State, v.SubjectID, due, v.DaysLeft, flags)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().String("state", "", "only requests in this state")
	list.Flags().String("due-by", "", "only requests due on or before this date")
	list.Flags().Bool("overdue", false, "only requests past their due date")
	list.Flags().Bool("json", false, "print JSON")
	list.Flags().Int("limit", 0, "requests a page, 1 to 1000 (500 when 0)")
	list.Flags().String("cursor", "", "list the page after the one that ended with this cursor")
	list.Flags().Bool("all-pages", false, "list every page")
	show := &cobra.Command{
		Use: "show ID", Short: "Show a request with its history", Args: cobra.ExactArgs(1),
		Long: `Show prints a request as JSON: type, state, due date and the rule behind it, flags and every transition.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRequests(cmd, func(ctx context.Context, d *dsr.Service) error {
				v, err := d.Get(ctx, args[0])
				if err != nil {
					return err
				}
				return printView(cmd, v)
			})
		},
	}
	act := func(use, short, long string, flags func(*cobra.Command), fn func(ctx context.Context, cmd *cobra.Command, d *dsr.Service, id string) (dsr.View, error)) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Long: long, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withRequests(cmd, func(ctx context.Context, d *dsr.Service) error {
					v, err := fn(ctx, cmd, d, args[0])
					if err != nil {
						return err
					}
					return printView(cmd, v)
				})
			}}
		if flags != nil {
			flags(c)
		}
		dbFlags(c)
		return c
	}
	str := func(cmd *cobra.Command, name string) string { v, _ := cmd.Flags().GetString(name); return v }
	verify := act("verify ID --evidence TEXT", "Record that the operator verified the requester's identity",
		`Verify records how the operator verified the identity (the evidence: a reference, never a copy of an ID card) and moves the request to verified.`,
		func(c *cobra.Command) { c.Flags().String("evidence", "", "how the identity was verified") },
		func(ctx context.Context, cmd *cobra.Command, d *dsr.Service, id string) (dsr.View, error) {
			return d.OperatorVerify(ctx, cliActor(), id, str(cmd, "evidence"))
		})
	approve := act("approve ID", "Start work on a verified request", `Approve moves a verified request to in progress.`, nil,
		func(ctx context.Context, cmd *cobra.Command, d *dsr.Service, id string) (dsr.View, error) {
			return d.Approve(ctx, cliActor(), id)
		})
	refuse := act("refuse ID --ground G --explanation TEXT", "Refuse on a statutory ground",
		`Refuse closes a request on one of the policy's refusal grounds, with an explanation sent to the subject.`,
		func(c *cobra.Command) {
			c.Flags().String("ground", "", "a refusal ground id from the policy")
			c.Flags().String("explanation", "", "what the subject is told")
		},
		func(ctx context.Context, cmd *cobra.Command, d *dsr.Service, id string) (dsr.View, error) {
			return d.Refuse(ctx, cliActor(), id, str(cmd, "ground"), str(cmd, "explanation"))
		})
	extend := act("extend ID --reason TEXT", "Extend the deadline as the policy allows",
		`Extend extends the deadline once by the policy's extension, telling the subject why; where the policy requires notice within the first period it must happen before the original due date.`,
		func(c *cobra.Command) { c.Flags().String("reason", "", "why more time is needed") },
		func(ctx context.Context, cmd *cobra.Command, d *dsr.Service, id string) (dsr.View, error) {
			return d.Extend(ctx, cliActor(), id, str(cmd, "reason"))
		})
	complete := act("complete ID [--explanation TEXT] [--legal-hold ID]", "Carry out and close a request",
		`Complete carries the request out on Custos's data (export bundle, erasure, restriction, withdrawal…) and closes it; an account cancellation is scheduled after the policy's cooling-off period instead. --legal-hold names a policy legal hold that blocks deletion.`,
		func(c *cobra.Command) {
			c.Flags().String("explanation", "", "what the subject is told")
			c.Flags().String("legal-hold", "", "a legal hold id that blocks deletion")
		},
		func(ctx context.Context, cmd *cobra.Command, d *dsr.Service, id string) (dsr.View, error) {
			return d.Complete(ctx, cliActor(), id, dsr.CompleteInput{Explanation: str(cmd, "explanation"), LegalHold: str(cmd, "legal-hold")})
		})
	runDue := &cobra.Command{
		Use: "run-due", Short: "Carry out account cancellations whose cooling-off period ended", Args: cobra.NoArgs,
		Long: `Run-due does now what the server's scheduler does every minute: completes account cancellations whose cooling-off period has passed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRequests(cmd, func(ctx context.Context, d *dsr.Service) error {
				n, err := d.RunDue(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d cancellation(s) carried out\n", n)
				return nil
			})
		},
	}
	transmit := &cobra.Command{
		Use: "transmit", Short: "Send the portability exports due to the third parties people named", Args: cobra.NoArgs,
		Long: `Transmit does now what the server does every minute: one attempt at each portability export due to go to the endpoint its request names, signed with the webhook secret (CUSTOS_WEBHOOK_SECRET[_FILE]); failures are retried later with backoff, refusals end the transmission and are told to the person.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRequests(cmd, func(ctx context.Context, d *dsr.Service) error {
				n, err := d.Transmit(ctx)
				fmt.Fprintf(cmd.OutOrStdout(), "%d delivered, %d to retry, %d failed\n", n.Delivered, n.Retrying, n.Failed)
				return err
			})
		},
	}
	cal := &cobra.Command{
		Use: "calendar FILE...", Short: "Check holiday-cn year files and show the calendar version", Args: cobra.MinimumNArgs(1),
		Long: `Calendar parses holiday-cn year files (as published by the State Council, in the holiday-cn format) on top of the built-in data and prints the resulting calendar version. Load them into a running server with POST /v1/calendar.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var files [][]byte
			for _, p := range args {
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				files = append(files, b)
			}
			c, err := calendar.Builtin().With(files...)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), c.Version())
			return nil
		},
	}
	expire := &cobra.Command{
		Use:   "expire [--request-retention 3y]",
		Short: "Delete the records of requests closed longer ago than --request-retention, now",
		Long: `Expire does now what every server does hourly: deletes the requests closed
(completed, refused, cancelled, withdrawn, forwarded) longer ago than
--request-retention (CUSTOS_REQUEST_RETENTION, default 3 years, at least 3
years: PIPL art. 56), with their history, one-time code, export bundles and
recipient notices, in batches, each audited with its count. A person's
requests stay while a legal hold names them. "forever" deletes nothing.
custos retention records shows what else Custos keeps and for how long.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			if _, err := c.RequestPeriod(); err != nil {
				return err
			}
			return withServices(cmd, func(ctx context.Context, s *server.Services) error {
				c, err := orgPeriods(ctx, s.Store, c)
				if err != nil {
					return err
				}
				period, err := c.RequestPeriod()
				if err != nil {
					return err
				}
				n, err := s.Requests.ExpireRequests(ctx, cliActor(), period)
				if err != nil {
					return fmt.Errorf("%w (%d deleted before the error)", err, n)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d request(s) kept %s since closing deleted\n", n, period)
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{list, show, runDue, transmit, expire} {
		dbFlags(c)
	}
	if f := expire.Flags().Lookup("request-retention"); f != nil {
		f.Hidden = false
	}
	cmd.AddCommand(list, show, verify, approve, refuse, extend, complete, runDue, transmit, expire, cal)
	return cmd
}
