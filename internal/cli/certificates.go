package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/certificate"
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
	cmd.AddCommand(newCertificateVerifyCmd())
	return cmd
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
