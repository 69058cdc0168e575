package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/scan"
)

func newRedactCmd() *cobra.Command {
	var (
		out, mode, saltFile, allowPath string
		minConfidence                  float64
		decode                         bool
	)
	cmd := &cobra.Command{
		Use:   "redact [PATH|-] [--out FILE|DIR] --mode mask|hash|tag [--salt-file F]",
		Short: "Write a file, a directory or standard input with the personal information found replaced",
		Long: `Redact copies its input with every value the detectors find replaced, and
every other byte unchanged: --mode mask keeps the value's shape
(138****5678), hash writes the category and the first 16 hex digits of
HMAC-SHA256 with the salt read from --salt-file (basic.phone:3f0c…), tag
writes the category ([basic.phone]). Values already written masked and
values on the --allow list stay. Input is read line by line with bounded
memory; gzip input gives gzip output.

A file or standard input goes to --out FILE or standard output; a directory
to --out DIR, file by file under the same relative paths (binary files are
skipped). The count of values replaced goes to standard error.`,
		Example: `  custos redact app.log --mode mask --out app.redacted.log
  custos redact logs/ --out redacted/ --mode hash --salt-file salt.key
  kubectl logs pod/api | custos redact - --mode tag`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := "-"
			if len(args) == 1 {
				in = args[0]
			}
			opt := scan.RedactOptions{Mode: mode, MinConfidence: minConfidence, Decode: decode}
			if saltFile != "" {
				salt, err := os.ReadFile(saltFile)
				if err != nil {
					return err
				}
				opt.Salt = salt
			}
			if allowPath != "" {
				a, err := scan.LoadAllowList(allowPath)
				if err != nil {
					return err
				}
				opt.Allow = a
			}
			total := 0
			if in == "-" {
				n, err := redactTo(cmd.InOrStdin(), cmd.OutOrStdout(), out, opt)
				if err != nil {
					return err
				}
				total = n
			} else if st, err := os.Stat(in); err != nil {
				return err
			} else if st.IsDir() {
				if out == "" {
					return errors.New("redacting a directory needs --out DIR")
				}
				err := filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
					if err != nil {
						return err
					}
					if d.IsDir() || !d.Type().IsRegular() {
						return nil
					}
					rel, _ := filepath.Rel(in, p)
					dst := filepath.Join(out, rel)
					if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
						return err
					}
					n, err := redactFile(p, cmd.OutOrStdout(), dst, opt)
					if errors.Is(err, scan.ErrBinary) {
						fmt.Fprintf(cmd.ErrOrStderr(), "skipped %s: binary\n", p)
						return nil
					}
					total += n
					return err
				})
				if err != nil {
					return err
				}
			} else {
				n, err := redactFile(in, cmd.OutOrStdout(), out, opt)
				if err != nil {
					return err
				}
				total = n
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d values replaced\n", total)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "write to FILE (or DIR for a directory) instead of standard output")
	f.StringVar(&mode, "mode", scan.ModeMask, "what replaces a value: mask, hash or tag")
	f.StringVar(&saltFile, "salt-file", "", "file holding the secret salt for --mode hash")
	f.StringVar(&allowPath, "allow", "", "file of values to leave (one a line, compared normalised)")
	f.Float64Var(&minConfidence, "min-confidence", 0, "replace only values found with at least this confidence (0..1)")
	f.BoolVar(&decode, "decode", false, "replace base64 that holds personal information too, whole")
	return cmd
}

func redactFile(in string, stdout io.Writer, out string, opt scan.RedactOptions) (int, error) {
	f, err := os.Open(in)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return redactTo(f, stdout, out, opt)
}

// redactTo writes the redaction of r to out, or to stdout when out is
// empty or "-"; a file is written whole or not at all.
func redactTo(r io.Reader, stdout io.Writer, out string, opt scan.RedactOptions) (int, error) {
	if out == "" || out == "-" {
		return scan.Redact(r, stdout, opt)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".custos-redact-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := scan.Redact(r, tmp, opt)
	if err != nil {
		tmp.Close()
		return n, err
	}
	if err := tmp.Close(); err != nil {
		return n, err
	}
	return n, os.Rename(tmp.Name(), out)
}
