package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/policy"
)

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Render privacy policies from a manifest and compare versions",
		Long: `Policy works on the policy a manifest describes: render it in each language,
list the promises it makes and what keeps each, compare two versions, publish
a version to the database, and queue the notices of material changes.`,
	}
	cmd.AddCommand(newRenderCmd(), newDiffCmd(), newPromisesCmd(), newPublishCmd(), newNotifyCmd())
	return cmd
}

func newRenderCmd() *cobra.Command {
	var lang, format, out string
	cmd := &cobra.Command{
		Use:   "render PATH",
		Short: "Render the privacy policy described by a manifest",
		Long: `Render writes the complete privacy policy described by the manifest at PATH,
in the structure of GB/T 35273-2020 Appendix D: collection and use per service,
cookies and SDKs, sharing, protection, storage and cross-border transfers,
rights and deadlines, minors, updates, contact and complaints, definitions.

Markdown suits repositories and review; HTML is a self-contained, printable
page with a table of contents.`,
		Example: `  custos policy render examples/starter/custos.yaml --lang en --format html -o policy.html`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadManifest(cmd, args[0])
			if err != nil {
				return err
			}
			doc, err := policy.Render(m, lang)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := policy.Write(&buf, doc, format); err != nil {
				return err
			}
			return writeOutput(cmd.OutOrStdout(), out, buf.Bytes())
		},
	}
	cmd.Flags().StringVar(&lang, "lang", "zh-CN", "language: zh-CN, zh-Hant or en (the manifest must be published in it)")
	cmd.Flags().StringVar(&format, "format", "markdown", "format: markdown or html")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of standard output")
	return cmd
}

// loadManifest loads a manifest, printing its problems and exiting 1 when it is invalid.
func loadManifest(cmd *cobra.Command, path string) (*manifest.Manifest, error) {
	m, err := manifest.Load(path)
	if ps, ok := err.(manifest.Problems); ok {
		for _, p := range ps {
			fmt.Fprintln(cmd.ErrOrStderr(), p)
		}
		return nil, exitError{1}
	}
	return m, err
}

// writeOutput writes data to path atomically, or to stdout when path is empty.
func writeOutput(stdout io.Writer, path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".custos-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
