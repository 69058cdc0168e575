package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/store"
)

func newCertificatesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "certificates",
		Aliases: []string{"certificate"},
		Short:   "Verify, list and show signed erasure certificates",
		Long: `Each retention sweep and each erasure a rights request carries out yields
a certificate: which collections of which datastores it changed, how (delete,
erase, anonymise, restrict), which fields and how many rows. It names and
counts; it never holds a value. The server signs it with the receipt key, so
anyone with the key set served at /v1/keys/receipts can check it offline.`,
	}
	list := &cobra.Command{
		Use:   "list [--request ID] [--rule ID] [--limit N] [--json]",
		Short: "List the organisation's erasure certificates, newest first",
		Long: `List prints the erasure certificates kept for the organisation (--org),
newest first: id, kind, the request or retention rule, when the erasure
finished, rows and collections. --request and --rule narrow the list.`,
		Args: cobra.NoArgs,
		RunE: runCertificatesList,
	}
	list.Flags().String("request", "", "only the certificates of this rights request")
	list.Flags().String("rule", "", "only the certificates of this retention rule")
	list.Flags().Int("limit", 100, "at most this many")
	list.Flags().Bool("json", false, "print the certificates as JSON")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Print one erasure certificate as JSON, as verify reads it",
		Long: `Show prints the certificate with id ID as the API serves it: save it to a
file and hand it over with the key set of /v1/keys/receipts, and anyone can
check it with custos certificates verify.`,
		Args: cobra.ExactArgs(1),
		RunE: runCertificateShow,
	}
	for _, c := range []*cobra.Command{list, show} {
		dbFlags(c)
	}
	cmd.AddCommand(newCertificateVerifyCmd(), list, show)
	return cmd
}

func runCertificatesList(cmd *cobra.Command, args []string) error {
	var f store.CertificateFilter
	f.Request, _ = cmd.Flags().GetString("request")
	f.Rule, _ = cmd.Flags().GetString("rule")
	f.Limit, _ = cmd.Flags().GetInt("limit")
	asJSON, _ := cmd.Flags().GetBool("json")
	return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
		cs, err := st.Certificates(ctx, f)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		if asJSON {
			if cs == nil {
				cs = []certificate.Certificate{}
			}
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(cs)
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tFOR\tFINISHED\tROWS\tCOLLECTIONS")
		for _, c := range cs {
			what := "rule " + c.Rule
			if c.Kind == certificate.KindRequest {
				what = "request " + c.Request
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", c.ID, c.Kind, what, c.Finished.Format(time.RFC3339), c.Rows(), collections(c))
		}
		return tw.Flush()
	})
}

func runCertificateShow(cmd *cobra.Command, args []string) error {
	return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
		c, err := st.Certificate(ctx, args[0])
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no certificate %s in organisation %s (custos certificates list)", args[0], st.Org())
		}
		if err != nil {
			return err
		}
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	})
}

func newCertificateVerifyCmd() *cobra.Command {
	verify := &cobra.Command{
		Use:   "verify FILE --keys JWKS_FILE [--json]",
		Short: "Check an erasure certificate's signature offline, against a JWK Set",
		Long: `Verify reads a certificate (the JSON GET /v1/certificates/{certificate_id} returns) and
checks its form and its signature with the key its kid names in a JWK Set
file, such as the one served at /v1/keys/receipts. It needs no database and
no secret.

Exit status: 0 when the certificate verifies, 1 when it is malformed, was
changed after signing or is signed by a key the set does not hold, 2 when a
file cannot be read.`,
		Args: cobra.ExactArgs(1),
		RunE: runCertificateVerify,
	}
	verify.Flags().String("keys", "", "a JWK Set file holding the public key the certificate was signed with (required)")
	verify.Flags().Bool("json", false, "print the result and the certificate as JSON")
	verify.MarkFlagRequired("keys")
	return verify
}

func runCertificateVerify(cmd *cobra.Command, args []string) error {
	keysPath, _ := cmd.Flags().GetString("keys")
	asJSON, _ := cmd.Flags().GetBool("json")
	data, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	jwks, err := os.ReadFile(keysPath)
	if err != nil {
		return err
	}
	c, err := certificate.Parse(data)
	if err == nil {
		err = certificate.Verify(c, jwks)
	}
	out := cmd.OutOrStdout()
	if asJSON {
		res := struct {
			Verified    bool                     `json:"verified"`
			Error       string                   `json:"error,omitempty"`
			Certificate *certificate.Certificate `json:"certificate,omitempty"`
		}{Verified: err == nil}
		if err != nil {
			res.Error = verifyFailure(err, c.KeyID)
		} else {
			res.Certificate = &c
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	}
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "custos: %s does NOT verify: %s\n", args[0], verifyFailure(err, c.KeyID))
		return exitError{1}
	}
	if !asJSON {
		writeCertificateSummary(out, c)
	}
	return nil
}

// verifyFailure says why a certificate was refused, in words an auditor
// can act on. A certificate's errors never quote its content.
func verifyFailure(err error, kid string) string {
	switch {
	case errors.Is(err, certificate.ErrSignature):
		return "the signature does not match: the certificate was changed after it was signed, or signed with another key of the same id"
	case errors.Is(err, certificate.ErrUnknownKey):
		return "it is signed with key " + kid + ", which the key set does not hold"
	default:
		return err.Error()
	}
}

// writeCertificateSummary prints the one line a verified certificate earns.
func writeCertificateSummary(w io.Writer, c certificate.Certificate) {
	what := "rule " + c.Rule
	if c.Kind == certificate.KindRequest {
		what = "request " + c.Request
	}
	if c.Org != "" {
		what += " of org " + c.Org
	}
	fmt.Fprintf(w, "certificate %s verified: %s %s, %d rows in %d collections, signed by kid %s\n",
		c.ID, c.Kind, what, c.Rows(), collections(c), c.KeyID)
}

// collections counts the distinct collections a certificate names: one
// may appear under two actions.
func collections(c certificate.Certificate) int {
	seen := map[[2]string]bool{}
	for _, t := range c.Targets {
		seen[[2]string{t.Datastore, t.Collection}] = true
	}
	return len(seen)
}
