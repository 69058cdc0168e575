package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/org"
	"github.com/custos-privacy/custos/internal/policy"
	"github.com/custos-privacy/custos/internal/retention"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

func newOrgsCmd() *cobra.Command {
	orgs := &cobra.Command{
		Use:   "orgs",
		Short: "Register, list, disable and enable the organisations of a deployment",
		Long: `A deployment holds one or more organisations, each a controller with its own
subjects, consent ledger, rights requests, operators, API keys and audit trail;
every row in the database carries its organisation, and no query reaches
across. The organisation 'default' is the one that runs the deployment and
owns everything stored before there were several; it always exists.

These commands change the registry and record each change on the default
organisation's audit trail. See docs/organisations.md.`,
	}
	create := &cobra.Command{
		Use:   "create ID --name NAME [--host HOST]...",
		Short: "Register an organisation and make its secrets",
		Long: `Create registers an organisation under ID (2 to 40 lower-case letters, digits
and single hyphens, starting with a letter), with its name as its notice
names the controller and the host names its privacy center, banner, console
and API answer on, and starts its audit trail and consent ledger, empty.

With a secrets directory (--secrets-dir, CUSTOS_SECRETS_DIR) it also makes the
organisation's own identity key, data keyset and receipt key in orgs/ID under
it, as secrets init does for the deployment: no key of one organisation opens
or links another's data. Commands act for the organisation with --org ID.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, _ := cmd.Flags().GetString("name")
			hosts, _ := cmd.Flags().GetStringSlice("host")
			c, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			id := args[0]
			if err := org.ValidateID(id); err != nil {
				return err
			}
			var made string
			if c.SecretsDir != "" {
				dir := c.OrgSecretsDir(id)
				if _, err := os.Stat(dir); err == nil {
					return fmt.Errorf("%s exists: organisation %s has secrets already", dir, id)
				}
				if _, err := secrets.Init(dir, false); err != nil {
					return err
				}
				made = dir
			}
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				o, err := org.New(st).Create(ctx, cliActor(), id, name, hosts...)
				if err != nil {
					if made != "" {
						os.RemoveAll(made)
					}
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created organisation %s (%s)\n", o.ID, o.Name)
				if made != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "its secrets are in %s: back them up as the deployment's (docs/operations.md)\n", made)
				} else {
					fmt.Fprintf(cmd.ErrOrStderr(), "no secrets directory: make the organisation's secrets with custos secrets init DIR/orgs/%s\n", o.ID)
				}
				return nil
			})
		},
	}
	create.Flags().String("name", "", "the organisation's name, as its notice names the controller")
	create.Flags().StringSlice("host", nil, "a host name the organisation answers on (repeat, or separate with commas)")
	create.MarkFlagRequired("name")
	dbFlags(create)
	create.Flags().MarkHidden("org")
	hostsCmd := &cobra.Command{
		Use:   "hosts ID [HOST]...",
		Short: "Set the host names an organisation answers on",
		Long: `Hosts replaces the host names an organisation's privacy center, banner,
console and API answer on; with no HOST it answers on none. A host belongs to
one organisation; the deployment's own answers on every host no other claims.
Running servers follow the change within their poll interval.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				o, err := org.New(st).SetHosts(ctx, cliActor(), args[0], args[1:])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "organisation %s answers on: %s\n", o.ID, hostList(o.Hosts))
				return nil
			})
		},
	}
	dbFlags(hostsCmd)
	hostsCmd.Flags().MarkHidden("org")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the organisations",
		Long:  `List prints every organisation's id, status, creation time and name.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				all, err := org.New(st).List(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tCREATED\tHOSTS\tNAME")
				for _, o := range all {
					created := "-" // the default organisation predates the registry
					if o.CreatedAt.UnixMicro() != 0 {
						created = o.CreatedAt.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.ID, o.Status, created, hostList(o.Hosts), o.Name)
				}
				return tw.Flush()
			})
		},
	}
	dbFlags(list)
	list.Flags().MarkHidden("org")
	status := func(use, short, long string, change func(r *org.Registry, ctx context.Context, id string) (org.Organisation, bool, error)) *cobra.Command {
		c := &cobra.Command{
			Use:   use + " ID",
			Short: short,
			Long:  long,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
					o, changed, err := change(org.New(st), ctx, args[0])
					if err != nil {
						return err
					}
					if !changed {
						fmt.Fprintf(cmd.OutOrStdout(), "organisation %s is %s already\n", o.ID, o.Status)
						return nil
					}
					fmt.Fprintf(cmd.OutOrStdout(), "organisation %s is %s\n", o.ID, o.Status)
					return nil
				})
			},
		}
		dbFlags(c)
		c.Flags().MarkHidden("org")
		return c
	}
	var force bool
	disable := status("disable", "Disable an organisation; its data stays",
		`Disable marks an organisation disabled; its data stays in the database,
untouched, and enable marks it active again. The deployment's own
organisation cannot be disabled.

A disabled organisation is not served: nobody can answer its open rights
requests while their deadlines run. Disable refuses while any is open,
saying how many and when the first is due; --force disables it anyway,
and the audit entry records how many were left open.`,
		func(r *org.Registry, ctx context.Context, id string) (org.Organisation, bool, error) {
			return r.Disable(ctx, cliActor(), id, force)
		})
	disable.Flags().BoolVar(&force, "force", false, "disable the organisation although rights requests are open")
	enable := status("enable", "Enable a disabled organisation",
		`Enable marks a disabled organisation active again.`,
		func(r *org.Registry, ctx context.Context, id string) (org.Organisation, bool, error) {
			return r.Enable(ctx, cliActor(), id)
		})
	orgs.AddCommand(create, list, hostsCmd, disable, enable, newOrgRetentionCmd(), newGroupCmd(), newEntrustCmd(), newEntrustmentsCmd(), newEndEntrustmentCmd(), newProcessorRecordCmd())
	return orgs
}

func newGroupCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "group ID GROUP",
		Short: "Put an organisation in a group of companies",
		Long: `Group puts an organisation in a group of companies; "" takes it out.
Affiliates of one group share the identity people sign in with (one deepin ID
across UnionTech and its affiliates), each remaining the controller of what
it collects: a rights request made at one affiliate's privacy center reaches
every affiliate that holds the person's data, where it joins that
affiliate's queue on its own deadline. The default organisation may be in a
group. Running servers follow the change within their poll interval.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				o, err := org.New(st).SetGroup(ctx, cliActor(), args[0], args[1])
				if err != nil {
					return err
				}
				if o.Group == "" {
					fmt.Fprintf(cmd.OutOrStdout(), "organisation %s is in no group\n", o.ID)
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "organisation %s is in group %s\n", o.ID, o.Group)
				}
				return nil
			})
		},
	}
	dbFlags(c)
	c.Flags().MarkHidden("org")
	return c
}

func newEntrustCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "entrust --controller ID --processor ID --categories C,... --purposes P,...",
		Short: "Record that a controller entrusts a processor with personal information",
		Long: `Entrust records a controller's instruction to a processor to handle personal
information on its behalf (PIPL art. 21, GDPR art. 28): the categories and
purposes, the instructions, the sub-processors, the term, and the processor's
deadline to assist the controller with a rights request (--assist, "5
working_days" by default).

From then on (running servers follow within their poll interval), a rights
request made at the processor's privacy center by a person the controller
holds goes to the controller's queue on the controller's deadline; the processor keeps a task to assist,
due by --assist, and the person is told which organisation controls their
data. Both organisations must be registered; the default organisation may be
either.

Where the processor keeps the controller's data in its own databases, its
dataset marks those collections held_for: FIELD (the field naming the
customer a row is held for), and --customer-key is this controller's value
of it. The end of the entrustment then deletes or returns exactly those
rows.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			var in org.EntrustInput
			in.Controller, _ = f.GetString("controller")
			in.Processor, _ = f.GetString("processor")
			in.Categories, _ = f.GetStringSlice("categories")
			in.Purposes, _ = f.GetStringSlice("purposes")
			in.SubProcessors, _ = f.GetStringSlice("sub-processors")
			in.Instructions, _ = f.GetString("instructions")
			in.Assist, _ = f.GetString("assist")
			in.StartsOn, _ = f.GetString("starts")
			in.EndsOn, _ = f.GetString("ends")
			in.CustomerKey, _ = f.GetString("customer-key")
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				e, err := org.New(st).Entrust(ctx, cliActor(), in)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "entrustment %s: %s processes for %s; assistance due in %d %s\n", e.ID, e.Processor, e.Controller, e.AssistCount, e.AssistUnit)
				return nil
			})
		},
	}
	f := c.Flags()
	f.String("controller", "", "the organisation that controls the data")
	f.String("processor", "", "the organisation that processes it on the controller's behalf")
	f.StringSlice("categories", nil, "the categories of personal information entrusted")
	f.StringSlice("purposes", nil, "the purposes of the processing")
	f.StringSlice("sub-processors", nil, "the sub-processors the controller allowed")
	f.String("instructions", "", "the controller's instructions, in a sentence or two")
	f.String("assist", "5 working_days", "the processor's deadline to assist with a rights request: N working_days or N calendar_days")
	f.String("starts", "", "the first day of the term, YYYY-MM-DD (today when unset)")
	f.String("ends", "", "the last day of the term, YYYY-MM-DD (open-ended when unset)")
	f.String("customer-key", "", "the value the processor's databases hold for this controller in the collections its dataset marks held_for")
	c.MarkFlagRequired("controller")
	c.MarkFlagRequired("processor")
	dbFlags(c)
	f.MarkHidden("org")
	return c
}

func newEntrustmentsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "entrustments [ID]",
		Short: "List the entrustments, or those an organisation is a party to",
		Long:  `Entrustments prints every entrustment, or those organisation ID is a party to.`,
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				all, err := org.New(st).Entrustments(ctx, id)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tCONTROLLER\tPROCESSOR\tSTATE\tTERM\tASSIST\tCATEGORIES\tPURPOSES")
				for _, e := range all {
					term := e.StartsOn + ".." + e.EndsOn
					if e.State == store.EntrustmentEnded {
						term += " (" + e.EndAction + ")"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d %s\t%s\t%s\n", e.ID, e.Controller, e.Processor, e.State, term,
						e.AssistCount, e.AssistUnit, strings.Join(e.Categories, ","), strings.Join(e.Purposes, ","))
				}
				return tw.Flush()
			})
		},
	}
	dbFlags(c)
	c.Flags().MarkHidden("org")
	return c
}

func newProcessorRecordCmd() *cobra.Command {
	var lang, format, out string
	c := &cobra.Command{
		Use:   "record [ID]",
		Short: "Write the record of processing an organisation carries out for controllers (GDPR art. 30(2))",
		Long: `Record writes the processor's record of processing (GDPR art. 30(2), PIPL art. 21)
of organisation ID (default: the deployment's own) from its entrustments: who
the processor is, its protection contact and security measures from its
manifest in force, and for each controller it processes for, the
controller's name and contact, the categories of processing and of personal
information, the instructions, sub-processors, transfers abroad and the term,
named as the controller's manifest in force names them.`,
		Example: `  custos orgs record --db /var/lib/custos/custos.db --lang zh-CN -o processor-record.md`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := store.DefaultOrg
			if len(args) == 1 {
				id = args[0]
			}
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				reg := org.New(st)
				if _, err := reg.Get(ctx, id); err != nil {
					return err
				}
				processor, err := publishedManifest(ctx, st.ForOrg(id))
				if err != nil {
					return fmt.Errorf("organisation %s: %w", id, err)
				}
				all, err := reg.Entrustments(ctx, id)
				if err != nil {
					return err
				}
				var ents []policy.Entrusted
				for _, e := range all {
					if e.Processor != id {
						continue
					}
					ctl, err := reg.Get(ctx, e.Controller)
					if err != nil {
						return err
					}
					m, _ := publishedManifest(ctx, st.ForOrg(e.Controller)) // nil: named by the registry alone
					ents = append(ents, policy.Entrusted{ID: e.ID, Categories: e.Categories, Purposes: e.Purposes, Instructions: e.Instructions,
						SubProcessors: e.SubProcessors, StartsOn: e.StartsOn, EndsOn: e.EndsOn, State: e.State, EndAction: e.EndAction,
						ControllerName: ctl.Name, Controller: m})
				}
				rec, err := policy.BuildProcessorRecord(processor, ents, lang)
				if err != nil {
					return err
				}
				var buf bytes.Buffer
				if err := policy.WriteProcessorRecord(&buf, rec, format); err != nil {
					return err
				}
				return writeOutput(cmd.OutOrStdout(), out, buf.Bytes())
			})
		},
	}
	c.Flags().StringVar(&lang, "lang", "en", "language: zh-CN or en")
	c.Flags().StringVar(&format, "format", "markdown", "format: markdown or json")
	c.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of standard output")
	dbFlags(c)
	c.Flags().MarkHidden("org")
	return c
}

// publishedManifest is the manifest in force of the organisation st is a
// handle on.
func publishedManifest(ctx context.Context, st *store.Store) (*manifest.Manifest, error) {
	m, err := org.Published(ctx, st)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("no policy is published (custos policy publish)")
	}
	return m, err
}

func newEndEntrustmentCmd() *cobra.Command {
	var certificate, returnDir string
	c := &cobra.Command{
		Use:   "end-entrustment ID --action delete|return",
		Short: "End an entrustment: record the controller's instruction and carry it out on the processor's records",
		Long: `End-entrustment records that an entrustment ended, with the controller's
instruction for the data the processor held (PIPL art. 21): delete it or
return it. From then on (running servers follow within their poll interval),
requests no longer go from the processor to the controller.

With the processor's secrets (--secrets-dir), it then carries the instruction
out on the records Custos keeps for the processor: the open tasks to assist
the controller close, and the particulars of the requests passed to the
controller alone are erased by destroying their keys. It writes a certificate
of what was done, signed with the processor's receipt key (a compact JWS,
verifiable against the processor's GET /v1/keys/receipts), to --certificate
or standard output.

When the entrustment names a customer key (orgs entrust --customer-key), it
first carries the instruction out in the processor's own databases, given its
dataset (--dataset): in every collection the dataset marks held_for, the rows
whose held_for field holds the key are deleted in bounded batches; when the
instruction is to return the data, each collection's rows are first written
to --return-dir as DATASTORE.COLLECTION.jsonl (synced to disk before any of
them is deleted). A collection a legal hold covers is left whole and reported
held. That part is audited, recorded as a retention run and certified like a
sweep; the certificate above lists it collection by collection. Copies in the
processor's other systems are outside it, and the certificate says so. Run
again on an ended entrustment, it carries the instruction out again (deleted
rows are gone; a return appends what is left) and certifies anew.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			action, _ := cmd.Flags().GetString("action")
			var e org.Entrustment
			err := withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				reg := org.New(st)
				var err error
				e, err = reg.EndEntrustment(ctx, cliActor(), args[0], action)
				var f *fault.Error
				if errors.As(err, &f) && f.Code == "entrustment_ended" {
					e, err = reg.Entrustment(ctx, args[0])
				}
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "entrustment %s ended: %s to %s the data\n", e.ID, e.Processor, e.EndAction)
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			if e.Processor != store.DefaultOrg {
				if cfg, err = cfg.ForOrg(e.Processor); err != nil {
					return fmt.Errorf("the processor's records were not touched: %w", err)
				}
			}
			if !cfg.DataKeyset.IsSet() || !cfg.ReceiptKey.IsSet() {
				return fmt.Errorf("the processor's records were not touched: its data keyset and receipt key are needed (--secrets-dir); run this again with them")
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			svcs, err := server.OpenServices(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer svcs.Close()
			// The databases first: the certificate below names what was
			// deleted there, and a run stopped midway is simply run again.
			var swept retention.Report
			if e.CustomerKey != "" {
				if svcs.Retention == nil {
					return fmt.Errorf("the processor's databases were not touched: entrustment %s names the customer key its dataset's held_for collections hold; give the processor's dataset (--dataset)", e.ID)
				}
				var ret retention.Returns
				if e.EndAction == "return" {
					if returnDir == "" {
						return fmt.Errorf("the processor's databases were not touched: the controller asked for its data back; name the directory the rows are written to (--return-dir), then hand it over")
					}
					ret = returnFiles(returnDir)
				}
				swept, err = svcs.Retention.EndEntrustment(ctx, cliActor(), e.ID, e.CustomerKey, ret)
				writeSweepReport(cmd.ErrOrStderr(), swept)
				if err != nil {
					return err
				}
			}
			done, err := svcs.Requests.EndEntrustment(ctx, cliActor(), e)
			if err != nil {
				return err
			}
			for _, r := range swept.Results {
				done.Databases = append(done.Databases, dsr.EndedRows{Datastore: r.Datastore, Collection: r.Collection, Returned: e.EndAction == "return", Deleted: r.Rows, Held: r.Held})
			}
			done.SweepCertificates = swept.Certificates
			keys, err := server.LoadKeys(cfg)
			if err != nil {
				return err
			}
			jws, err := keys.Signer.SignDocument(CertificateType, done)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d assistance tasks closed, %d requests' particulars erased; certificate signed with key %s\n",
				done.TasksClosed, done.RequestsErased, keys.Signer.KeyID())
			return writeOutput(cmd.OutOrStdout(), certificate, []byte(jws+"\n"))
		},
	}
	c.Flags().String("action", "", "what the controller instructed: delete or return")
	c.Flags().StringVar(&returnDir, "return-dir", "", "with --action return: write the rows held for the controller here, one DATASTORE.COLLECTION.jsonl each, before deleting them")
	c.Flags().StringVar(&certificate, "certificate", "", "write the signed certificate to FILE instead of standard output")
	c.MarkFlagRequired("action")
	dbFlags(c)
	c.Flags().MarkHidden("org")
	c.Flags().Lookup("dataset").Hidden = false
	return c
}

// returnFiles writes each collection's returned rows to
// DIR/DATASTORE.COLLECTION.jsonl, readable by its owner only. A run again
// after a stop appends: rows already deleted are in the file already, and
// a row written but not yet deleted when the run stopped may appear twice.
func returnFiles(dir string) retention.Returns {
	return func(datastore, collection string) (io.WriteCloser, error) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(filepath.Join(dir, datastore+"."+collection+".jsonl"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		return syncCloser{f}, nil
	}
}

// syncCloser makes a file's Close wait until its contents are on disk:
// the rows it holds are deleted from the database next.
type syncCloser struct{ *os.File }

func (f syncCloser) Close() error {
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		return err
	}
	return f.File.Close()
}

// CertificateType is the JWS type of a certificate of what a processor did
// at the end of an entrustment.
const CertificateType = "custos-entrustment-end+jwt"

func hostList(hosts []string) string {
	if len(hosts) == 0 {
		return "-"
	}
	return strings.Join(hosts, ",")
}

// orgPeriods is c with the periods the organisation st is scoped to keeps
// its records for, where it set its own (custos orgs retention), as a
// server serving it has them: a command run with --org deletes nothing
// the organisation keeps longer than the deployment does.
func orgPeriods(ctx context.Context, st *store.Store, c config.Config) (config.Config, error) {
	if st.Org() == store.DefaultOrg {
		return c, nil
	}
	o, err := org.New(st).Get(ctx, st.Org())
	if err != nil {
		return c, err
	}
	return server.OwnRetention(c, o)
}

func newOrgRetentionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "retention ID [--requests PERIOD] [--audit PERIOD] [--messages DURATION]",
		Short: "Set how long Custos keeps an organisation's request records, audit trail and settled messages",
		Long: `Retention sets an organisation's own periods for the records Custos keeps
for it, where its obligations differ from the deployment's: --requests for
the records of its closed rights requests (at least 3 years, PIPL art. 56),
--audit for its audit trail and decision records (at least 3 years, and only
with the deployment's checkpoints going to a file, --checkpoints FILE); each
a period such as "5 years" or "forever". --messages is how long the messages
sent for it (codes, notices) stay readable once settled, a duration such as
72h. "" (or leaving the flag out) is the deployment's setting
(--request-retention, --audit-retention, --outbox-retention).
The deployment's own organisation follows the server's settings. Running
servers serve the organisation anew with them within their poll interval,
and commands run with --org ID (requests expire, audit cut, outbox purge)
use them in place of the deployment's.
See docs/retention.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			var in org.Retention
			in.Requests, _ = cmd.Flags().GetString("requests")
			in.Audit, _ = cmd.Flags().GetString("audit")
			in.Messages, _ = cmd.Flags().GetString("messages")
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				o, err := org.New(st).WithCheckpoints(c.Checkpoints).SetRetention(ctx, cliActor(), args[0], in)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "organisation %s keeps request records %s, its audit trail %s and settled messages %s\n", o.ID,
					orDeployment(o.Retention.Requests), orDeployment(o.Retention.Audit), orDeployment(o.Retention.Messages))
				return nil
			})
		},
	}
	cmd.Flags().String("requests", "", "how long the records of its closed rights requests are kept (\"\": the deployment's)")
	cmd.Flags().String("audit", "", "how long its audit trail and decision records are kept (\"\": the deployment's)")
	cmd.Flags().String("messages", "", "how long the messages sent for it stay readable once settled, e.g. 72h (\"\": the deployment's)")
	dbFlags(cmd)
	cmd.Flags().MarkHidden("org")
	if f := cmd.Flags().Lookup("checkpoints"); f != nil {
		f.Hidden = false
	}
	return cmd
}

// orDeployment names an organisation's own period, or the deployment's.
func orDeployment(p string) string {
	if p == "" {
		return "as the deployment does"
	}
	return p
}
