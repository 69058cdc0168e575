package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/incident"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/server"
)

// withIncidents runs fn with the organisation's incidents and the
// operators who sign in to act on them.
func withIncidents(cmd *cobra.Command, fn func(ctx context.Context, svc *incident.Service, ops *operator.Service) error) error {
	return withServices(cmd, func(ctx context.Context, s *server.Services) error {
		ops, err := operator.New(s.Store, operator.Options{})
		if err != nil {
			return err
		}
		return fn(ctx, s.Incidents, ops)
	})
}

// asAdmin signs the operator in and runs step on their authority.
func asAdmin(ctx context.Context, cmd *cobra.Command, ops *operator.Service, step func(by incident.Operator) error) error {
	by, end, err := signIn(ctx, cmd, ops)
	if err != nil {
		return err
	}
	defer end()
	return step(incident.Operator{ID: by.ID, Role: by.Role, Place: by.Place})
}

// bilingual reads the flags NAME-zh and NAME-en.
func bilingual(cmd *cobra.Command, name string) incident.Text {
	zh, _ := cmd.Flags().GetString(name + "-zh")
	en, _ := cmd.Flags().GetString(name + "-en")
	return incident.Text{ZH: zh, EN: en}
}

func addBilingual(c *cobra.Command, name, usage string) {
	c.Flags().String(name+"-zh", "", usage+", in Chinese")
	c.Flags().String(name+"-en", "", usage+", in English")
}

func commaList(cmd *cobra.Command, flag string) []string {
	v, _ := cmd.Flags().GetString(flag)
	var out []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// printClocks prints an incident's clocks, one a line.
func printClocks(cmd *cobra.Command, clocks []incident.Clock) {
	for _, c := range clocks {
		left := time.Duration(c.SecondsLeft) * time.Second
		fmt.Fprintf(cmd.OutOrStdout(), "  %-13s %-9s deadline %s (%s left; %s)\n", c.Name, c.Stage, c.Deadline.UTC().Format(time.RFC3339), left, c.Source)
	}
}

func newIncidentsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "incidents",
		Short: "Open, assess, notify and close security incidents; their reports and clocks",
		Long: `An incident is recorded with its facts (what happened, when it began, was
discovered and contained, its cause), the categories of personal information and
the datastores it reached, and the period of the data concerned. Its clocks run
from its discovery: a relatively serious or graver incident is reported to the
CN regulator within 4 hours (1 for critical information infrastructure), an EU
breach to the supervisory authority within 72 hours (GDPR art. 33), and the
people affected are told within the policy's security.incident.notice_within
(PIPL art. 57, GDPR art. 34). The assessment selects the people affected from
the dataset's databases; commands show how many, and 'subjects' exports their
subject ids, never their identities. Steps that change an incident sign in as
an admin (--as USERNAME). Every step is audited. See docs/incidents.md.`,
	}
	open := &cobra.Command{
		Use:   "open --discovered T --categories IDS --description-zh TEXT|--description-en TEXT [--datastores IDS] [--from T] [--to T] [--began T] [--contained T] --as USERNAME",
		Short: "Open a security incident",
		Long: `Open records an incident on the signed-in admin's authority. Its clocks run from
--discovered. --categories lists the category ids it reached (a parent covers
those below it); --datastores the datastore ids of the dataset annotation (left
out: all); --from and --to bound the period of the data concerned. Times are
dates (YYYY-MM-DD, China time) or RFC 3339 instants.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			in := incident.OpenInput{Description: bilingual(cmd, "description"), Cause: bilingual(cmd, "cause"),
				Categories: commaList(cmd, "categories"), Datastores: commaList(cmd, "datastores")}
			disc, err := instant(cmd, "discovered")
			if err != nil {
				return err
			}
			if disc != nil {
				in.DiscoveredAt = *disc
			}
			for flag, dst := range map[string]**time.Time{"began": &in.BeganAt, "contained": &in.ContainedAt, "from": &in.Window.From, "to": &in.Window.To} {
				if *dst, err = instant(cmd, flag); err != nil {
					return err
				}
			}
			return withIncidents(cmd, func(ctx context.Context, svc *incident.Service, ops *operator.Service) error {
				return asAdmin(ctx, cmd, ops, func(by incident.Operator) error {
					i, err := svc.Open(ctx, by, in)
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "opened incident %s; its clocks:\n", i.ID)
					printClocks(cmd, svc.Clocks(ctx, i))
					return nil
				})
			})
		},
	}
	addBilingual(open, "description", "what happened")
	addBilingual(open, "cause", "why it happened, when known")
	for _, f := range [][2]string{
		{"discovered", "when the incident was discovered: every clock runs from then"},
		{"began", "when it began"},
		{"contained", "when it was contained"},
		{"categories", "category ids it reached, comma-separated"},
		{"datastores", "datastore ids it reached, comma-separated (left out: all)"},
		{"from", "the start of the period of the data concerned"},
		{"to", "the end of that period (excluded)"},
	} {
		open.Flags().String(f[0], "", f[1])
	}
	assess := &cobra.Command{
		Use:   "assess ID --severity J=LEVEL[,J=LEVEL] [--harm-zh|--harm-en TEXT] [--measures-…] [--advice-…] [--remedies-…] [--cause-…] --as USERNAME",
		Short: "Assess an incident and select the people it affects",
		Long: `Assess rates the incident on the scale of each of the policy's jurisdictions
(CN: extremely_serious, serious, relatively_serious, general; EU: high_risk,
risk, no_risk) and records what it means for the people: the possible harm, the
measures taken, what they can do, the remedies. It then selects the people
affected from the dataset's databases and prints how many.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := incident.AssessInput{Severity: map[string]string{}, Cause: bilingual(cmd, "cause"), Harm: bilingual(cmd, "harm"),
				Measures: bilingual(cmd, "measures"), Advice: bilingual(cmd, "advice"), Remedies: bilingual(cmd, "remedies")}
			for _, kv := range commaList(cmd, "severity") {
				j, lv, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("--severity: give JURISDICTION=LEVEL pairs, e.g. CN=serious,EU=high_risk")
				}
				in.Severity[j] = lv
			}
			var err error
			if in.ContainedAt, err = instant(cmd, "contained"); err != nil {
				return err
			}
			return withIncidents(cmd, func(ctx context.Context, svc *incident.Service, ops *operator.Service) error {
				return asAdmin(ctx, cmd, ops, func(by incident.Operator) error {
					i, err := svc.Assess(ctx, by, args[0], in)
					if err != nil {
						return err
					}
					a := i.Affected
					fmt.Fprintf(cmd.OutOrStdout(), "assessed %s: %d people affected (%d records read, %d tied to no one Custos knows)\n", i.ID, a.Subjects, a.Rows, a.Unknown)
					if len(a.Unwindowed) > 0 {
						fmt.Fprintf(cmd.OutOrStdout(), "every record counted, no time field: %s\n", strings.Join(a.Unwindowed, ", "))
					}
					printClocks(cmd, svc.Clocks(ctx, i))
					return nil
				})
			})
		},
	}
	assess.Flags().String("severity", "", "the level per jurisdiction, e.g. CN=serious,EU=high_risk")
	assess.Flags().String("contained", "", "when the incident was contained")
	for _, f := range [][2]string{{"cause", "why it happened"}, {"harm", "its possible harm to the people"}, {"measures", "the measures taken"},
		{"advice", "what the people can do to protect themselves"}, {"remedies", "the remedies open to them"}} {
		addBilingual(assess, f[0], f[1])
	}
	notify := &cobra.Command{
		Use:   "notify ID [--regulator] [--subjects] --as USERNAME",
		Short: "Record the regulator's report and/or queue the notices to the people",
		Long: `Notify records that the regulator has been sent the report (--regulator) and/or
queues a notice to each person the assessment selected (--subjects), in their
language, with what the policy promises a notice says. Notices go through the
outbox; 'show' counts their delivery.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, _ := cmd.Flags().GetBool("regulator")
			subs, _ := cmd.Flags().GetBool("subjects")
			return withIncidents(cmd, func(ctx context.Context, svc *incident.Service, ops *operator.Service) error {
				return asAdmin(ctx, cmd, ops, func(by incident.Operator) error {
					i, err := svc.Notify(ctx, by, args[0], incident.NotifyInput{Regulator: reg, Subjects: subs})
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "incident %s: %s\n", i.ID, i.Timeline[len(i.Timeline)-1].Detail)
					return nil
				})
			})
		},
	}
	notify.Flags().Bool("regulator", false, "the regulator has been sent the report")
	notify.Flags().Bool("subjects", false, "queue the notices to the people affected")
	closeCmd := &cobra.Command{
		Use:   "close ID --as USERNAME",
		Short: "Close an incident: its clocks stop",
		Long:  `Close closes the incident on the signed-in admin's authority. Its record, reports and timeline stay.`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIncidents(cmd, func(ctx context.Context, svc *incident.Service, ops *operator.Service) error {
				return asAdmin(ctx, cmd, ops, func(by incident.Operator) error {
					i, err := svc.Close(ctx, by, args[0])
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "closed incident %s\n", i.ID)
					return nil
				})
			})
		},
	}
	listCmd := &cobra.Command{
		Use:   "list [--all] [--json]",
		Short: "List incidents with their next deadline",
		Long:  `List prints the incidents not closed (with --all, closed ones too), the latest discovered first: id, state, discovery, people affected, and the clock nearest its deadline.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			all, _ := cmd.Flags().GetBool("all")
			asJSON, _ := cmd.Flags().GetBool("json")
			return withIncidents(cmd, func(ctx context.Context, svc *incident.Service, _ *operator.Service) error {
				is, err := svc.List(ctx, all)
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(cmd.OutOrStdout()).Encode(is)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATE\tDISCOVERED\tAFFECTED\tNEXT DEADLINE")
				for _, i := range is {
					affected, next := "-", "-"
					if i.Affected != nil {
						affected = fmt.Sprint(i.Affected.Subjects)
					}
					for _, c := range svc.Clocks(ctx, i) {
						if c.MetAt == nil {
							next = fmt.Sprintf("%s %s (%s)", c.Name, c.Deadline.UTC().Format(time.RFC3339), c.Stage)
							break
						}
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", i.ID, i.State, i.DiscoveredAt.UTC().Format(time.RFC3339), affected, next)
				}
				return tw.Flush()
			})
		},
	}
	listCmd.Flags().Bool("all", false, "list closed incidents too")
	listCmd.Flags().Bool("json", false, "print JSON")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident as JSON, with its clocks and its notices' delivery",
		Long:  `Show prints one incident as JSON: its record, its clocks now, and its notices counted by outbox status.`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIncidents(cmd, func(ctx context.Context, svc *incident.Service, _ *operator.Service) error {
				i, err := svc.Get(ctx, args[0])
				if err != nil {
					return err
				}
				dl, err := svc.Deliveries(ctx, i.ID)
				if err != nil {
					return err
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"incident": i, "clocks": svc.Clocks(ctx, i), "deliveries": dl})
			})
		},
	}
	report := &cobra.Command{
		Use:   "report ID [--lang zh-CN|en] [--format md|html] [--announcement]",
		Short: "Print the regulator report, or the public announcement",
		Long: `Report prints the incident's report to the regulator (facts, severity, counts,
measures, deadlines, timeline) in Markdown or HTML; with --announcement, the
public announcement for when individual notice is impractical (Markdown).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lang, _ := cmd.Flags().GetString("lang")
			format, _ := cmd.Flags().GetString("format")
			kind := incident.KindReport
			if a, _ := cmd.Flags().GetBool("announcement"); a {
				kind = incident.KindAnnouncement
			}
			return withIncidents(cmd, func(ctx context.Context, svc *incident.Service, _ *operator.Service) error {
				b, err := svc.Document(ctx, args[0], kind, lang, format)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(b)
				return err
			})
		},
	}
	report.Flags().String("lang", "zh-CN", "zh-CN or en")
	report.Flags().String("format", "md", "md or html (the announcement is md only)")
	report.Flags().Bool("announcement", false, "print the public announcement instead")
	subjects := &cobra.Command{
		Use:   "subjects ID",
		Short: "Print the subject ids an incident affects, one a line",
		Long:  `Subjects prints the ids of the subjects the assessment selected, in id order: to hand to whoever tells them by other means. Never their identities.`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIncidents(cmd, func(ctx context.Context, svc *incident.Service, _ *operator.Service) error {
				return svc.Subjects(ctx, args[0], func(id string) error {
					_, err := fmt.Fprintln(cmd.OutOrStdout(), id)
					return err
				})
			})
		},
	}
	escalate := &cobra.Command{
		Use:   "escalate",
		Short: "Escalate incident deadlines near or past, now",
		Long: `Escalate runs the pass the server runs every minute: the operators the policy
names in security.incident.escalate are told of each clock of an open incident
that entered its warning window (its last quarter) or passed its deadline, once
per clock and stage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIncidents(cmd, func(ctx context.Context, svc *incident.Service, _ *operator.Service) error {
				es, err := svc.Escalate(ctx)
				for _, e := range es {
					fmt.Fprintf(cmd.OutOrStdout(), "escalated %s %s (%s): %d messages\n", e.Incident, e.Clock, e.Stage, e.Messages)
				}
				if err == nil && len(es) == 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "nothing to escalate")
				}
				return err
			})
		},
	}
	for _, c := range []*cobra.Command{open, assess, notify, closeCmd} {
		c.Flags().String("as", "", "the admin acting (asked on the terminal if not given)")
		c.Flags().String("password-file", "", "a file whose first line is the admin's password (asked on the terminal if not given)")
	}
	all := []*cobra.Command{open, assess, notify, closeCmd, listCmd, show, report, subjects, escalate}
	for _, c := range all {
		dbFlags(c)
	}
	cmd.AddCommand(all...)
	return cmd
}
