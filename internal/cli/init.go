package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/custos-privacy/custos/internal/scaffold"
)

func newInitCmd() *cobra.Command {
	var (
		o           scaffold.Options
		langs, out  string
		from        string
		force       bool
		examplesTxt = strings.Join(scaffold.Examples(), ", ")
	)
	cmd := &cobra.Command{
		Use:   "init [--org NAME] [--org-en NAME] [--jurisdiction CN|EU] [--lang zh-CN,en] [--email ADDR] [-o FILE] [--force]",
		Short: "Write a first privacy manifest, from a few answers or from an example",
		Long: `Init writes a small manifest that validates, renders in every language it
names and serves as it is: the organisation as controller, its privacy email
as the contact and the channel for rights requests and complaints, one
service collecting a few categories for three purposes (an account on
contract, security logs, a newsletter on consent), retention for each, the
rights the law grants with its response deadline, the treatment of minors,
and where the information is stored.

--jurisdiction picks the law's defaults:
  CN  PIPL: requests answered in 15 working days on the PRC calendar, a
      guardian's consent under 14, security logs kept 6 months
      (Cybersecurity Law art. 21), the PIPL rights incl. account cancellation
  EU  GDPR: one month, extendable by two with notice in the first, a parent's
      consent under 16, security on legitimate interests, restriction and
      objection among the rights

The policy says only what the manifest carries, so init does not pass off
its defaults as the organisation's word: every value it chose is marked
"# review:" on the line above it. Check each, change it, delete the marker.

Names and the email come from the flags; run in a terminal, init asks for
any that are missing (a name in each language of --lang). It never
overwrites a file unless --force is given; -o - writes to standard output.

--from NAME copies one of the example manifests instead, complete manifests
of real published policies to read or adapt:
  ` + examplesTxt,
		Example: `  custos init --org 示例科技 --org-en "Example Tech" --email privacy@example.cn
  custos init --jurisdiction EU --lang en --org "Example GmbH" --email privacy@example.eu -o policy/custos.yaml
  custos init --from starter -o starter.yaml
  custos init            # in a terminal: asks for the names and the email`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if from != "" {
				for _, f := range []string{"org", "org-en", "jurisdiction", "lang", "email", "date"} {
					if cmd.Flags().Changed(f) {
						return fmt.Errorf("--from copies an example as it is: it takes no --%s", f)
					}
				}
				data, err := scaffold.Example(from)
				if err != nil {
					return err
				}
				if err := writeNew(cmd.OutOrStdout(), out, data, force); err != nil {
					return err
				}
				if out != "-" {
					fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: the %s example; its REVIEW.md (examples/%s/) says where each value comes from\n", out, from, from)
				}
				return nil
			}
			if langs != "" {
				for _, l := range strings.Split(langs, ",") {
					o.Languages = append(o.Languages, strings.TrimSpace(l))
				}
			}
			if out != "-" && !force {
				// Say so before asking anything.
				if _, err := os.Stat(out); err == nil {
					return existsError(out)
				}
			}
			if isTerminal(cmd.InOrStdin()) {
				ask := prompter{in: bufio.NewReader(cmd.InOrStdin()), out: cmd.ErrOrStderr()}
				if err := ask.missing(&o, !cmd.Flags().Changed("jurisdiction")); err != nil {
					return err
				}
			}
			o = o.Defaults(time.Now())
			if m := o.Missing(); len(m) > 0 {
				return fmt.Errorf("missing --%s (run in a terminal, custos init asks for it)", strings.Join(m, ", --"))
			}
			data, err := scaffold.Manifest(o)
			if err != nil {
				return err
			}
			if err := writeNew(cmd.OutOrStdout(), out, data, force); err != nil {
				return err
			}
			if out != "-" {
				n := strings.Count(string(data), "# review:")
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%s, %s): %d places marked \"# review:\" to check before publishing\nnext: custos validate %s; custos policy render %s --lang %s\n",
					out, o.Jurisdiction, strings.Join(o.Languages, ", "), n, out, out, o.Languages[0])
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Org, "org", "", "the organisation's name in Chinese (with --lang en alone: its name)")
	f.StringVar(&o.OrgEn, "org-en", "", "the organisation's name in English")
	f.StringVar(&o.Jurisdiction, "jurisdiction", "", "the law whose defaults to use: CN (PIPL) or EU (GDPR) (default CN)")
	f.StringVar(&langs, "lang", "", "languages of the policy, the first prevailing: zh-CN, en or both (default zh-CN,en)")
	f.StringVar(&o.Email, "email", "", "the address for privacy questions, rights requests and complaints")
	f.StringVar(&o.Date, "date", "", "the policy's date, YYYY-MM-DD (default today)")
	f.StringVarP(&out, "output", "o", "custos.yaml", "file to write (- for standard output)")
	f.BoolVar(&force, "force", false, "overwrite the file if it exists")
	f.StringVar(&from, "from", "", "copy an example manifest instead: "+examplesTxt)
	return cmd
}

func existsError(path string) error {
	return fmt.Errorf("%s exists: give --force to overwrite it", path)
}

// writeNew writes data to path ("-": stdout), refusing to replace a file
// unless force is set. Without force the file is created exclusively, so a
// file that appears meanwhile is not overwritten either.
func writeNew(stdout io.Writer, path string, data []byte, force bool) error {
	if path == "-" || force {
		return writeOutput(stdout, path, data)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return existsError(path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// isTerminal reports whether r is an interactive terminal: prompts go only
// to a person, never into a pipe or a script's input.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	// A character device is not enough: /dev/null is one, and a script
	// that redirects from it must not be asked anything.
	return term.IsTerminal(int(f.Fd()))
}

// prompter asks for the answers init still needs, one line each.
type prompter struct {
	in  *bufio.Reader
	out io.Writer
}

// missing asks for every answer o lacks: the jurisdiction (when askJur),
// a name in each language the manifest will carry, and the email. An empty
// answer leaves the default, or the flag missing.
func (p prompter) missing(o *scaffold.Options, askJur bool) error {
	if askJur {
		j, err := p.ask("Jurisdiction, CN (PIPL) or EU (GDPR) [CN]: ")
		if err != nil {
			return err
		}
		o.Jurisdiction = strings.ToUpper(j)
	}
	langs := o.Languages
	if len(langs) == 0 {
		langs = scaffold.Options{}.Defaults(time.Time{}).Languages
	}
	has := func(l string) bool { return slices.Contains(langs, l) }
	var err error
	if o.Org == "" && has("zh-CN") {
		if o.Org, err = p.ask("Organisation name in Chinese (组织名称): "); err != nil {
			return err
		}
	}
	if o.OrgEn == "" && has("en") && (has("zh-CN") || o.Org == "") {
		if o.OrgEn, err = p.ask("Organisation name in English: "); err != nil {
			return err
		}
	}
	if o.Email == "" {
		if o.Email, err = p.ask("Email for privacy questions and rights requests: "); err != nil {
			return err
		}
	}
	return nil
}

// ask prints a prompt and reads one line; end of input is an empty answer.
func (p prompter) ask(prompt string) (string, error) {
	fmt.Fprint(p.out, prompt)
	line, err := p.in.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimSpace(line), nil
}
