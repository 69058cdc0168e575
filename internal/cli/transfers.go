package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/transfer"
)

// withTransfers runs fn with the counts of cross-border transfers of the
// configured database and organisation, under the manifest of --manifest
// or else the policy published.
func withTransfers(cmd *cobra.Command, fn func(ctx context.Context, ts *transfer.Service) error) error {
	c, err := loadConfig(cmd.Flags())
	if err != nil {
		return err
	}
	var m *manifest.Manifest
	if path, _ := cmd.Flags().GetString("manifest"); path != "" {
		if m, err = manifest.Load(path); err != nil {
			return err
		}
	}
	keys, err := server.LoadKeys(c)
	if err != nil {
		return err
	}
	return withStore(cmd, true, func(ctx context.Context, st *store.Store) error {
		ts, err := server.OpenTransfers(ctx, st, keys, m)
		if err != nil {
			return err
		}
		defer ts.Close()
		return fn(ctx, ts)
	})
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printRegister(w io.Writer, reg *transfer.Register) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FLOW\tKIND\tTO\tRECIPIENT\tCATEGORIES\tSENSITIVE\tMECHANISM\tSEPARATE CONSENT")
	for _, f := range reg.Flows {
		to := strings.Join(f.To, ",")
		if to == "" {
			to = "(" + f.Destination + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%v\n", f.ID, f.Kind, to, dash(f.Recipient), dash(strings.Join(f.Categories, ",")),
			dash(strings.Join(f.SensitiveCategories, ",")), dash(f.Mechanism), f.SeparateConsent)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	t := reg.Thresholds
	_, err := fmt.Fprintf(w, "%d flow(s); thresholds: standard contract from %d people, security assessment above %d (sensitive: from %d)\n",
		len(reg.Flows), t.ContractFrom, t.AssessmentAbove, t.SensitiveAssessmentFrom)
	return err
}

func newTransfersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "transfers",
		Short: "Register, count and check cross-border transfers of personal information",
		Long: `The register of cross-border transfers is read from the manifest: every
storage.cross_border entry, and every recipient, SDK and storage location outside
the country of collection (CN). Custos counts the people whose personal
information each transfer carries abroad in a calendar year (China time), from
separate consents to a transfer, allowed decisions on a transfer's purposes and
the transfers the application reports, each person once a year per transfer,
stored as a keyed hash. The counts decide which mechanism the CAC Provisions on
Promoting and Regulating Cross-Border Data Flows (2024) call for. See
docs/transfers.md.`,
	}
	register := &cobra.Command{
		Use:   "register [--manifest PATH] [--json]",
		Short: "Print the register of cross-border transfers",
		Long: `Register prints every transfer of the policy published (or of the manifest
--manifest names, without a database): where it goes, to whom, which categories
(and which of them sensitive), the mechanism declared and whether separate
consent is asked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, _ := cmd.Flags().GetBool("json")
			show := func(reg *transfer.Register) error {
				if asJSON {
					return printJSON(cmd.OutOrStdout(), reg)
				}
				return printRegister(cmd.OutOrStdout(), reg)
			}
			if path, _ := cmd.Flags().GetString("manifest"); path != "" {
				m, err := manifest.Load(path)
				if err != nil {
					return err
				}
				return show(transfer.Build(m))
			}
			return withTransfers(cmd, func(ctx context.Context, ts *transfer.Service) error {
				reg, err := ts.Register(ctx)
				if err != nil {
					return err
				}
				return show(reg)
			})
		},
	}
	counts := &cobra.Command{
		Use:   "counts [--year YEAR] [--json]",
		Short: "Print the people whose information went abroad in a year, per transfer",
		Long: `Counts prints, for the year (this one by default, China time), the people
counted per transfer and in total (each person once, whatever the transfers),
sensitive or not, their projection to 31 December at the year's rate so far, the
mechanism the total calls for, whether the declared one suffices, and the alerts
sent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			year, _ := cmd.Flags().GetInt("year")
			asJSON, _ := cmd.Flags().GetBool("json")
			return withTransfers(cmd, func(ctx context.Context, ts *transfer.Service) error {
				c, err := ts.Counts(ctx, year)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), c)
				}
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "%d: %d people (%d sensitive), projected %d by 31 December\n", c.Year, c.Total.People, c.Total.Sensitive, c.Projected.People)
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "FLOW\tPEOPLE\tSENSITIVE\tPROJECTED\tDECLARED\tNEEDED\tSUFFICES")
				for _, f := range c.Flows {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%v\n", f.Flow, f.People.People, f.Sensitive, f.Projected, dash(f.Declared), dash(f.Needed), f.Sufficient)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				for _, a := range c.Alerts {
					fmt.Fprintf(w, "alert: %s %s at %d people (%s)\n", a.Limit, a.Kind, a.People, a.At.Format("2006-01-02"))
				}
				return nil
			})
		},
	}
	counts.Flags().Int("year", 0, "the calendar year (China time); this one when left out")
	check := &cobra.Command{
		Use:   "check [--manifest PATH]",
		Short: "Report transfers whose declared mechanism no longer suffices for this year's people",
		Long: `Check compares this year's counts with the thresholds and reports, as
PATH:LINE:COL: message, every transfer whose declared mechanism no longer
suffices, at its manifest entry: give --manifest to be pointed at the lines of
the file (otherwise the policy published is checked). 'custos validate' does not
read the database and does not make this check.

Exit status: 0 when every mechanism suffices, 1 when any does not.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTransfers(cmd, func(ctx context.Context, ts *transfer.Service) error {
				ps, err := ts.Problems(ctx)
				if err != nil {
					return err
				}
				for _, p := range ps {
					fmt.Fprintln(cmd.OutOrStdout(), p.String())
				}
				if len(ps) > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "%d transfer(s) need a stronger mechanism\n", len(ps))
					return exitError{1}
				}
				fmt.Fprintln(cmd.OutOrStdout(), "every declared mechanism suffices for this year's people")
				return nil
			})
		},
	}
	packet := &cobra.Command{
		Use:   "packet [--lang zh-CN|en] [--year YEAR] [--manifest PATH] [--out FILE]",
		Short: "Render the standard contract's annex and an impact assessment outline",
		Long: `Packet renders, as Markdown, Annex I of the standard contract on the export of
personal information for every transfer (the parties, categories, purposes,
the people counted, the recipients' countries, retention from the manifest's
rules) and an outline of the personal-information protection impact assessment
for the export. What the manifest does not hold is marked to complete.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lang, _ := cmd.Flags().GetString("lang")
			year, _ := cmd.Flags().GetInt("year")
			out, _ := cmd.Flags().GetString("out")
			if lang != transfer.LangZH && lang != transfer.LangEN {
				return fmt.Errorf("unsupported language %q: zh-CN or en", lang)
			}
			return withTransfers(cmd, func(ctx context.Context, ts *transfer.Service) error {
				b, err := ts.Packet(ctx, lang, year)
				if err != nil {
					return err
				}
				if out == "" {
					_, err = cmd.OutOrStdout().Write(b)
					return err
				}
				return os.WriteFile(out, b, 0o644)
			})
		},
	}
	packet.Flags().String("lang", transfer.LangZH, "zh-CN or en")
	packet.Flags().Int("year", 0, "the calendar year of the counts; this one when left out")
	packet.Flags().String("out", "", "write to this file instead of standard output")
	report := &cobra.Command{
		Use:   "report (--flow ID | --recipient ID) [--occurred-at T] [--subjects-file FILE] [SUBJECT_ID...]",
		Short: "Count the people of a transfer made outside the API",
		Long: `Report counts the people of a transfer the organisation made, as POST
/v1/transfers does for the application: name the transfer by its flow id or its
recipient, and the subjects by id, as arguments or one a line in
--subjects-file ('-' for standard input). Each person counts once a year per
transfer. --occurred-at dates the transfer (YYYY-MM-DD, China time, or RFC 3339;
now by default). The report is audited with its counts, never the subjects.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			flow, _ := cmd.Flags().GetString("flow")
			recipient, _ := cmd.Flags().GetString("recipient")
			in := transfer.ReportInput{Flow: flow, Recipient: recipient, Subjects: args}
			if path, _ := cmd.Flags().GetString("subjects-file"); path != "" {
				ids, err := readLines(cmd, path)
				if err != nil {
					return err
				}
				in.Subjects = append(in.Subjects, ids...)
			}
			if len(in.Subjects) == 0 {
				return errors.New("name the subjects: as arguments or with --subjects-file")
			}
			at, err := instant(cmd, "occurred-at")
			if err != nil {
				return err
			}
			in.OccurredAt = at
			actor := cliActor()
			return withTransfers(cmd, func(ctx context.Context, ts *transfer.Service) error {
				var added, counted int64
				var res transfer.ReportResult
				for start := 0; start < len(in.Subjects); start += transfer.MaxSubjects {
					part := in
					part.Subjects = in.Subjects[start:min(start+transfer.MaxSubjects, len(in.Subjects))]
					if res, err = ts.Report(ctx, transfer.Actor{ID: actor.ID, Role: actor.Role, Place: actor.Place}, part); err != nil {
						return err
					}
					added, counted = added+res.Added, counted+int64(res.Subjects)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %d: %d subject(s) reported, %d new this year\n", res.Flow, res.Year, counted, added)
				return nil
			})
		},
	}
	report.Flags().String("flow", "", "the flow id of the register")
	report.Flags().String("recipient", "", "or the recipient's id")
	report.Flags().String("occurred-at", "", "when the transfer was made")
	report.Flags().String("subjects-file", "", "a file of subject ids, one a line ('-': standard input)")
	for _, c := range []*cobra.Command{register, counts, check, packet, report} {
		dbFlags(c)
		// The server's --manifest flag, shown here with this meaning.
		if f := c.Flags().Lookup("manifest"); f != nil && c != report {
			f.Hidden = false
			f.Usage = "read the register from this manifest file instead of the policy published"
		}
	}
	for _, c := range []*cobra.Command{register, counts} {
		c.Flags().Bool("json", false, "print JSON")
	}
	cmd.AddCommand(register, counts, check, packet, report)
	return cmd
}

// readLines reads the non-empty lines of path, or of standard input for "-".
func readLines(cmd *cobra.Command, path string) ([]string, error) {
	var r io.Reader = cmd.InOrStdin()
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}
