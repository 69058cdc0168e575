package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/pia"
)

func newValidateCmd() *cobra.Command {
	var manifestPath string
	var requireAssessments bool
	cmd := &cobra.Command{
		Use:   "validate PATH... [--manifest PATH] [--require-assessments]",
		Short: "Check manifests and dataset annotations; report every problem as PATH:LINE:COL: message",
		Long: `Validate checks each manifest against the manifest format and the rules of
PIPL, GB/T 35273 and GDPR that a manifest can break on its own: unknown keys,
wrong types, dangling references, sensitive information without separate
consent, purposes without retention, transfers without a mechanism, impossible
deadlines. Every problem is reported, one per line, in file order.

Dataset annotations (files starting "custos_dataset:") and Fides dataset files
("dataset:") are checked too: their format, references that point at nothing,
personal data no identity reaches, passwords written inline, and every category
against the manifest's taxonomy — the one given with --manifest, else the
custos.yaml beside the annotation. An annotation that binds retention rules to
its collections must bind every rule of the manifest and every collection of
personal data: each one missing is reported, at the rule or the collection.

Each processing activity that needs a personal-information protection impact
assessment (PIPL art. 55) without a current one in the manifest's assessments
is reported as a warning, with its reasons; so is an assessment due for
review (its activities changed materially since, or its review period has
passed). Warnings do not change the exit status unless --require-assessments
is given (see docs/assessments.md).

Exit status: 0 when every file is valid, 1 when any has problems.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := false
			report := func(err error) error {
				var ps manifest.Problems
				switch {
				case errors.As(err, &ps):
					bad = true
					for _, p := range ps {
						fmt.Fprintln(cmd.OutOrStdout(), p)
					}
				case err != nil:
					return err
				}
				return nil
			}
			for _, path := range args {
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				switch kindOf(data) {
				case "manifest":
					m, err := manifest.Load(path)
					if err := report(err); err != nil {
						return err
					}
					if m == nil {
						continue
					}
					// Impact assessments missing or due: warnings, unless
					// --require-assessments makes them problems.
					for _, p := range pia.Check(m, time.Now()) {
						if requireAssessments {
							bad = true
							fmt.Fprintln(cmd.OutOrStdout(), p)
						} else {
							fmt.Fprintf(cmd.OutOrStdout(), "%s:%d:%d: warning: %s\n", p.File, p.Pos.Line, p.Pos.Col, p.Message)
						}
					}
				default:
					var d *dataset.Dataset
					if kindOf(data) == "fides" {
						d, err = dataset.ParseFides(path, data)
					} else {
						d, err = dataset.Parse(path, data)
					}
					if err := report(err); err != nil || d == nil {
						if err != nil {
							return err
						}
						continue
					}
					mp := manifestPath
					if mp == "" {
						mp = filepath.Join(filepath.Dir(path), "custos.yaml")
					}
					m, err := manifest.Load(mp)
					if err != nil {
						return fmt.Errorf("%s: the manifest to check categories against: %w", path, err)
					}
					ps := d.Validate(m)
					if len(ps) == 0 && d.BindsRetention() {
						// An annotation that binds retention rules must bind all
						// of them, and every table of personal data to one.
						ps = d.RetentionCoverage(m)
					}
					if len(ps) > 0 {
						if err := report(ps); err != nil {
							return err
						}
					}
				}
			}
			if bad {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&requireAssessments, "require-assessments", false, "report activities without a current impact assessment as problems (exit 1), not warnings")
	cmd.Flags().StringVar(&manifestPath, "manifest", "", "manifest whose categories dataset annotations are checked against")
	return cmd
}

// kindOf tells a manifest from a dataset annotation or a Fides dataset by
// its first top-level key.
func kindOf(data []byte) string {
	for _, line := range bytes.Split(data, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' || bytes.HasPrefix(t, []byte("---")) {
			continue
		}
		switch {
		case bytes.HasPrefix(line, []byte("custos_dataset:")):
			return "dataset"
		case bytes.HasPrefix(line, []byte("dataset:")):
			return "fides"
		}
		return "manifest"
	}
	return "manifest"
}
