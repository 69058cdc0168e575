package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/promise"
)

func newPromisesCmd() *cobra.Command {
	var format, lang string
	var strict bool
	var datasetPath string
	cmd := &cobra.Command{
		Use:   "promises PATH [--dataset FILE]",
		Short: "List every promise the rendered policy makes and what keeps it",
		Long: `Promises lists every promise the policy rendered from the manifest at PATH
makes (rights and deadlines, consent and separate consent, minors, browser
signals, retention, recipients' notices, security measures, incident notices,
cross-border transfers, update notices) with its keeper:

  enforced        a Custos component keeps it; the test that proves it is named
  configured      a Custos component keeps it once the deployment sets something
  organisational  a measure Custos cannot check, stated as the organisation's
  not_kept        Custos could keep it, but nothing does yet; the reason is given

A manifest read on its own cannot say how the deployment is configured, so
promises kept by sending messages are listed as configured; the admin
console shows the same map with the running deployment's status.

With --dataset, the dataset annotation of the organisation's databases says
what keeps each retention rule there: the daily sweep for rules bound to a
clock, the account's cancellation request for rules that end with the
account; a rule bound to nothing is not kept.

With --strict the command exits 1 when any promise is not kept, naming each.`,
		Example: `  custos policy promises examples/starter/custos.yaml
  custos policy promises examples/deepin/custos.yaml --format json
  custos policy promises custos.yaml --strict
  custos policy promises custos.yaml --dataset dataset.yaml --strict`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "text", "json", "markdown":
			default:
				return fmt.Errorf("unsupported format %q: want text, json or markdown", format)
			}
			if lang != "en" && lang != "zh-CN" {
				return fmt.Errorf("unsupported language %q: want zh-CN or en", lang)
			}
			m, err := loadManifest(cmd, args[0])
			if err != nil {
				return err
			}
			var ds *dataset.Dataset
			if datasetPath != "" {
				if ds, err = dataset.Load(datasetPath); err != nil {
					return err
				}
				if problems := ds.Validate(m); len(problems) > 0 {
					return problems
				}
			}
			ps := promise.MapWith(m, nil, ds)
			var buf bytes.Buffer
			switch format {
			case "json":
				enc := json.NewEncoder(&buf)
				enc.SetIndent("", "  ")
				if err := enc.Encode(ps); err != nil {
					return err
				}
			case "markdown":
				writePromisesMarkdown(&buf, ps, lang)
			default:
				writePromisesText(&buf, ps, lang)
			}
			if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
				return err
			}
			if unkept := promise.Unkept(ps); strict && len(unkept) > 0 {
				for _, p := range unkept {
					fmt.Fprintf(cmd.ErrOrStderr(), "not kept: %s (%s): %s\n", p.ID, p.Field, p.Why)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%d promise(s) not kept\n", len(unkept))
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "format: text, json or markdown")
	cmd.Flags().StringVar(&datasetPath, "dataset", "", "dataset annotation binding the retention rules to the organisation's databases")
	cmd.Flags().StringVar(&lang, "lang", "en", "language of what each promise says: zh-CN or en")
	cmd.Flags().BoolVar(&strict, "strict", false, "exit 1 when any promise Custos could keep is not kept")
	return cmd
}

var keeperOrder = []promise.Keeper{promise.NotKept, promise.Configured, promise.Enforced, promise.Organisational}

// keeperDetail is what a promise's keeper line says after the promise.
func keeperDetail(p promise.Promise) string {
	switch p.Keeper {
	case promise.Enforced:
		return p.Component + " — " + p.Test
	case promise.Configured:
		return p.Component + " — needs " + p.Needs
	}
	return p.Why
}

func writePromisesText(w io.Writer, ps []promise.Promise, lang string) {
	counts := promise.Counts(ps)
	fmt.Fprintf(w, "%d promise(s): %d enforced, %d configured, %d organisational, %d not kept\n",
		len(ps), counts[promise.Enforced], counts[promise.Configured], counts[promise.Organisational], counts[promise.NotKept])
	for _, k := range keeperOrder {
		if counts[k] == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", k)
		for _, p := range ps {
			if p.Keeper == k {
				fmt.Fprintf(w, "  %-28s %s\n  %-28s %s\n", p.ID, p.Says.In(lang), "", keeperDetail(p))
			}
		}
	}
}

func writePromisesMarkdown(w io.Writer, ps []promise.Promise, lang string) {
	counts := promise.Counts(ps)
	fmt.Fprintf(w, "# Promises\n\n%d promise(s): %d enforced, %d configured, %d organisational, %d not kept.\n\n",
		len(ps), counts[promise.Enforced], counts[promise.Configured], counts[promise.Organisational], counts[promise.NotKept])
	fmt.Fprintln(w, "| Promise | Field | Keeper | Kept by / why |")
	fmt.Fprintln(w, "|---|---|---|---|")
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, k := range keeperOrder {
		for _, p := range ps {
			if p.Keeper == k {
				fmt.Fprintf(w, "| %s | `%s` | %s | %s |\n", cell(p.Says.In(lang)), p.Field, p.Keeper, cell(keeperDetail(p)))
			}
		}
	}
}
