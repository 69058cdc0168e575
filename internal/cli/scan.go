package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/scan"
)

func newScanCmd() *cobra.Command {
	var (
		format, out, failOn, dsnEnv, stdinFormat string
		manifestPath, datasetPath, source        string
		allowPath, maxSize                       string
		excludes                                 []string
		showValues, failOnMasked, full, decode   bool
		minConfidence                            float64
		sample                                   int
	)
	cmd := &cobra.Command{
		Use:   "scan [PATH|DSN|-]... [--format text|jsonl|sarif] [--fail-on any|sensitive|CATEGORY]",
		Short: "Find personal information in files, logs, exports, standard input and databases",
		Long: `Scan reads files and directories (recursively, honouring --exclude patterns and
.custosignore/.gitignore files; binary files skipped; gzip decompressed),
JSON Lines (each string value, reported with its JSON path), CSV (each cell,
reported with its column's header), standard input (-) and databases
(postgres://…, mysql DSNs, file:PATH for SQLite: --sample rows per table, or
every row with --full) and reports each piece of personal information the
detectors find: where it is (file:line:column, columns counted in
characters), its category, the detector and its confidence, and an excerpt
with every value in it masked. Values themselves are never written unless
--show-values is given.

A summary by category and by file ends the output. With --manifest and
--source, scan also lists the categories found that the manifest does not
declare for that source ("drift"): for a datastore of --dataset, the
categories of its annotated collections; for any other source, every
category the manifest's services collect.

Exit status: 0, or 1 when a finding matches --fail-on (values written
masked only with --fail-on-masked), 2 on a usage or read error.`,
		Example: `  custos scan logs/ --exclude '*.tmp' --fail-on sensitive
  custos scan export.csv --format sarif -o scan.sarif
  zcat app.log.gz | custos scan -
  custos scan file:shop.db --full --manifest custos.yaml --dataset dataset.yaml --source shop`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if len(args) == 0 {
				if dsn := os.Getenv(dsnEnv); dsn != "" {
					args = []string{dsn}
				} else {
					return errors.New("give a path, a DSN or - for standard input")
				}
			}
			size, err := parseSize(maxSize)
			if err != nil {
				return err
			}
			var fmtStdin scan.Format
			switch stdinFormat {
			case "text":
				fmtStdin = scan.FormatText
			case "jsonl":
				fmtStdin = scan.FormatJSONL
			case "csv":
				fmtStdin = scan.FormatCSV
			default:
				return fmt.Errorf("unknown --stdin-format %q: want text, jsonl or csv", stdinFormat)
			}
			var m *manifest.Manifest
			var ds *dataset.Dataset
			if manifestPath != "" || source != "" {
				if manifestPath == "" || source == "" {
					return errors.New("--manifest and --source go together")
				}
				if m, err = loadManifest(cmd, manifestPath); err != nil {
					return err
				}
				if datasetPath != "" {
					if ds, err = dataset.Load(datasetPath); err != nil {
						return err
					}
				}
			}
			fail := scan.ParseFailOn(failOn, failOnMasked)
			var dst io.Writer = cmd.OutOrStdout()
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				dst = f
			}
			bw := bufio.NewWriter(dst)
			w, err := scan.NewWriter(bw, format, "")
			if err != nil {
				return err
			}
			opt := scan.Options{Excludes: excludes, MaxSize: size, MinConfidence: minConfidence, ShowValues: showValues, Decode: decode,
				Sample: sample, Full: full}
			if allowPath != "" {
				if opt.Allow, err = scan.LoadAllowList(allowPath); err != nil {
					return err
				}
			}
			if p := scanProgress(cmd.ErrOrStderr()); p != nil {
				opt.Progress = p
			}
			var tally scan.Tally
			failed := false
			s := &scan.Scanner{Options: opt, Emit: func(f scan.Finding) error {
				tally.Add(f)
				failed = failed || fail.Fails(f)
				return w.Finding(f)
			}}
			for _, a := range args {
				if err := scanTarget(ctx, s, a, fmtStdin, cmd.InOrStdin()); err != nil {
					return err
				}
			}
			if opt.Progress != nil {
				fmt.Fprintln(cmd.ErrOrStderr())
			}
			sum := tally.Summary()
			p := s.Progressed()
			sum.Files, sum.Bytes, sum.Skipped = p.Files, p.Bytes, s.Skipped()
			if m != nil {
				declared, basis := scan.Declared(m, ds, source)
				sum.Drift = scan.CompareDeclared(m, source, basis, declared, sum)
			}
			if err := w.Close(sum); err != nil {
				return err
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			if failed {
				return exitError{1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "text", "output format: text, jsonl or sarif")
	f.StringVarP(&out, "output", "o", "", "write the report to FILE instead of standard output")
	f.StringArrayVar(&excludes, "exclude", nil, "skip paths matching this .gitignore-style pattern (repeatable)")
	f.StringVar(&maxSize, "max-size", "", "skip files larger than this (bytes, or with K, M, G)")
	f.BoolVar(&showValues, "show-values", false, "write each value found into the report (the report then holds personal data)")
	f.StringVar(&failOn, "fail-on", "", "exit 1 when a finding matches: any, sensitive or a category id (comma-separated)")
	f.BoolVar(&failOnMasked, "fail-on-masked", false, "let values written masked match --fail-on too")
	f.Float64Var(&minConfidence, "min-confidence", 0, "report only findings with at least this confidence (0..1)")
	f.BoolVar(&decode, "decode", false, "scan the text base64 holds too (JWT claims, cookies, parameters); a value found is reported over the base64")
	f.IntVar(&sample, "sample", scan.DefaultSample, "rows read per table of a database")
	f.BoolVar(&full, "full", false, "read every row of every table (streaming)")
	f.StringVar(&dsnEnv, "dsn-env", "CUSTOS_SCAN_DSN", "environment variable holding a DSN, read when no argument is given")
	f.StringVar(&stdinFormat, "stdin-format", "text", "how to read standard input: text, jsonl or csv")
	f.StringVar(&manifestPath, "manifest", "", "report categories found that this manifest does not declare for --source")
	f.StringVar(&datasetPath, "dataset", "", "dataset annotation naming the datastores --source may be")
	f.StringVar(&source, "source", "", "what was scanned: a datastore id of --dataset, or a name for a log directory")
	f.StringVar(&allowPath, "allow", "", "file of values not to report (one a line, compared normalised; sha256:HEX allowed)")
	return cmd
}

// scanTarget scans one argument: - (standard input), a file or directory,
// or a database DSN.
func scanTarget(ctx context.Context, s *scan.Scanner, a string, stdinFormat scan.Format, stdin io.Reader) error {
	if a == "-" {
		return s.Reader(ctx, "-", stdin, stdinFormat)
	}
	if isSQLiteFile(a) {
		a = "file:" + a
	}
	if isDSN(a) {
		c, err := connector.Open(ctx, connector.Config{DSN: a})
		if err != nil {
			return err
		}
		defer c.Close()
		return s.Database(ctx, c)
	}
	return s.Path(ctx, a)
}

// isDSN tells a database from a path: a URL, sqlite:/file: prefix, a
// MySQL DSN or a PostgreSQL keyword DSN that names no existing file.
func isDSN(a string) bool {
	if _, err := os.Stat(a); err == nil {
		return false
	}
	lower := strings.ToLower(a)
	if strings.HasPrefix(lower, "sqlite:") || strings.HasPrefix(lower, "file:") || strings.Contains(lower, "://") {
		return true
	}
	k := connector.KindOf(a)
	return k == connector.MySQL || k == connector.Postgres
}

// isSQLiteFile reports a file that starts with SQLite's header: named on
// the command line, it is scanned as a database, not skipped as binary.
func isSQLiteFile(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	return n == 16 && string(head) == "SQLite format 3\x00"
}

// parseSize reads 1048576, 512K, 10M or 1G.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	if s == "" {
		return 0, nil
	}
	mult := int64(1)
	for suffix, m := range map[string]int64{"K": 1 << 10, "M": 1 << 20, "G": 1 << 30} {
		if t, ok := strings.CutSuffix(strings.TrimSuffix(s, "B"), suffix); ok {
			s, mult = t, m
		}
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(s, "B"), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--max-size %q: want a number of bytes, optionally with K, M or G", s)
	}
	return n * mult, nil
}

// scanProgress draws files, MB and MB/s on stderr when it is a terminal,
// at most ten times a second.
func scanProgress(stderr io.Writer) func(scan.Progress) {
	f, ok := stderr.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	start := time.Now()
	var last time.Time
	return func(p scan.Progress) {
		now := time.Now()
		if now.Sub(last) < 100*time.Millisecond {
			return
		}
		last = now
		mb := float64(p.Bytes) / (1 << 20)
		fmt.Fprintf(f, "\r%d files, %.1f MB, %.1f MB/s   ", p.Files, mb, mb/max(now.Sub(start).Seconds(), 0.001))
	}
}
