package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/pia"
)

func newPIACmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pia",
		Short: "Personal-information protection impact assessments: what needs one, and drafts",
		Long: `PIPL art. 55 asks for an impact assessment before processing sensitive
personal information, making automated decisions, entrusting processing,
providing personal information to other handlers, disclosing it publicly or
providing it abroad. Custos reads which activities of a manifest do so;
custos validate warns of each without a current assessment (see
docs/assessments.md).`,
	}
	triggers := &cobra.Command{
		Use:   "triggers [PATH] [--json]",
		Short: "List the activities of a manifest that need an impact assessment, and why",
		Long: `Triggers lists, for the manifest at PATH, each processing activity (a
purpose, or public_disclosure) that needs an impact assessment under PIPL
art. 55, one line per reason, naming the item of art. 55 and what makes it
so: the sensitive categories, recipients, SDKs, transfers or locations.
Without PATH the manifest is $CUSTOS_MANIFEST, else custos.yaml in the
current directory.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadManifest(cmd, manifestArg(args))
			if err != nil {
				return err
			}
			ts := pia.Triggers(m)
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				if ts == nil {
					ts = []pia.Trigger{}
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(ts)
			}
			for _, t := range ts {
				fmt.Fprintln(cmd.OutOrStdout(), t)
			}
			return nil
		},
	}
	triggers.Flags().Bool("json", false, "print the triggers as JSON")
	var activities []string
	var lang, out string
	draft := &cobra.Command{
		Use:   "draft [PATH] [--activity ID]... [--lang zh-CN|en] [-o FILE]",
		Short: "Write a draft impact assessment (GB/T 39335-2020) and the stanza for the manifest",
		Long: `Draft writes, for the manifest at PATH, a draft impact assessment in
Markdown in the structure of GB/T 39335-2020: its scope, the data map (the
categories, which are sensitive, who collects, receives and stores them, and
for how long), why it is needed (PIPL art. 55), the sources of risk, the
impact on people's rights, the protection measures of security.measures, and
a conclusion left for the assessor. It ends with the YAML to paste under
assessments once the assessment is done, with the digest of the activities
as they are now.

Without --activity the draft covers every activity that needs an assessment.
Without PATH the manifest is $CUSTOS_MANIFEST, else custos.yaml in the
current directory.`,
		Example: `  custos pia draft examples/deepin/custos.yaml --activity content-compliance --lang zh-CN -o pia.md`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if lang != "zh-CN" && lang != "en" {
				return fmt.Errorf("unsupported language %q: want zh-CN or en", lang)
			}
			m, err := loadManifest(cmd, manifestArg(args))
			if err != nil {
				return err
			}
			d, err := pia.NewDraft(m, activities, lang, time.Now())
			if err != nil {
				return err
			}
			var b strings.Builder
			b.WriteString(d.Markdown)
			b.WriteString("\n```yaml\n" + d.YAML + "```\n")
			return writeOutput(cmd.OutOrStdout(), out, []byte(b.String()))
		},
	}
	draft.Flags().StringArrayVar(&activities, "activity", nil, "an activity to assess: a purpose id, or public_disclosure (repeatable; default: every activity that needs an assessment)")
	draft.Flags().StringVar(&lang, "lang", "zh-CN", "language of the report: zh-CN or en")
	draft.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of standard output")
	cmd.AddCommand(triggers, draft)
	return cmd
}

// manifestArg is the manifest a command reads: its argument, else
// $CUSTOS_MANIFEST, else custos.yaml in the current directory.
func manifestArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	if p := os.Getenv("CUSTOS_MANIFEST"); p != "" {
		return p
	}
	return "custos.yaml"
}
