package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/evidence"
	"github.com/custos-privacy/custos/internal/incident"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/receipt"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

func newEvidenceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "evidence --period FIRST..LAST --out FILE [--manifest PATH]",
		Short: "Write the signed evidence archive of a compliance audit for a period",
		Long: `Evidence writes one tar.gz for the organisation (--org) and the period
FIRST..LAST (China dates, both included) that a personal-information
protection compliance audit asks for: the record of processing activities,
the policy versions in force or published in the period with their
differences, consent figures, rights requests per type answered on time, late
or open past their due date, the verification of the audit trail and the
consent ledger, the impact assessments with what triggers them, the
security incidents discovered in the period with their clocks, delivery
counts and regulator reports, and the cross-border transfer register with the year's counts (transfers/, which
needs the identity key the counts are keyed with).

MANIFEST.json lists every file with its SHA-256 and is signed with the
receipt key, so that custos evidence verify checks the archive offline
against the key set served at /v1/keys/receipts. The archive holds counts,
ids and the organisation's own documents, never a person's information. Its
making is recorded in the audit trail (evidence.create).

The manifest is the policy version in force at the end of the period, or
the one given with --manifest.`,
		Example: `  custos evidence --period 2026-01-01..2026-12-31 --out evidence-2026.tar.gz`,
		Args:    cobra.NoArgs,
		RunE:    runEvidence,
	}
	cmd.Flags().String("period", "", "the period, FIRST..LAST, e.g. 2026-01-01..2026-12-31 (required)")
	cmd.Flags().String("out", "", "the archive to write (required)")
	cmd.Flags().String("checkpoint-keys", "", "a JWK Set file of further public keys checkpoints may be signed with (keys replaced since)")
	dbFlags(cmd)
	if f := cmd.Flags().Lookup("checkpoints"); f != nil {
		f.Hidden = false
		f.Usage = "a checkpoint file (JSON lines) the server wrote: the archive's audit verification checks both chains still pass through every head it records (CUSTOS_CHECKPOINTS)"
	}
	if f := cmd.Flags().Lookup("manifest"); f != nil {
		f.Hidden = false
		f.Usage = "the manifest to describe, instead of the policy version in force at the end of the period"
	}
	verify := &cobra.Command{
		Use:   "verify FILE [--key FILE] [--json]",
		Short: "Check an evidence archive offline: its signature and every file's SHA-256",
		Long: `Verify reads an evidence archive and checks, with no database and no
secret, that MANIFEST.json is signed by the key its kid names and that the
archive holds exactly the files it lists, byte for byte.

--key names a JWK Set file, such as the one served at /v1/keys/receipts, or
a PEM public key. Without it the archive is checked against the key set it
carries: that shows it is whole, not who signed it; compare the key id it
prints with the organisation's key set.

Exit status: 0 when the archive verifies, 1 when it does not, 2 when a file
cannot be read.`,
		Args: cobra.ExactArgs(1),
		RunE: runEvidenceVerify,
	}
	verify.Flags().String("key", "", "a JWK Set or PEM public key file the archive must be signed with")
	verify.Flags().Bool("json", false, "print the result and the archive's manifest as JSON")
	cmd.AddCommand(verify)
	return cmd
}

func runEvidence(cmd *cobra.Command, args []string) error {
	period, _ := cmd.Flags().GetString("period")
	out, _ := cmd.Flags().GetString("out")
	if cmd.Flags().NFlag() == 0 {
		return cmd.Help() // a group too (evidence verify): bare, it explains itself
	}
	if period == "" || out == "" {
		return errors.New(`custos evidence needs --period FIRST..LAST and --out FILE (see custos evidence --help)`)
	}
	manifestPath := ""
	if cmd.Flags().Changed("manifest") {
		// Only as given here: a deployment's CUSTOS_MANIFEST is its current
		// manifest, not necessarily the one in force in the period.
		manifestPath, _ = cmd.Flags().GetString("manifest")
	}
	from, to, err := evidence.ParsePeriod(period)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		return err
	}
	if !cfg.ReceiptKey.IsSet() {
		return errors.New("the evidence archive is signed with the receipt key: set CUSTOS_RECEIPT_KEY_FILE or --secrets-dir")
	}
	signer, err := receipt.NewSigner(cfg.ReceiptKey.Reveal())
	if err != nil {
		return fmt.Errorf("receipt key: %w", err)
	}
	priv, err := secrets.ParseReceiptKey(cfg.ReceiptKey.Reveal())
	if err != nil {
		return fmt.Errorf("receipt key: %w", err)
	}
	var m *manifest.Manifest
	if manifestPath != "" {
		if m, err = loadManifest(cmd, manifestPath); err != nil {
			return err
		}
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := server.LoadKeys(cfg)
	if err != nil {
		return err
	}
	trail, err := checkpointTrail(cmd, cfg.Checkpoints, keys)
	if err != nil {
		return err
	}
	sources := map[string]evidence.Source{
		"incidents": incident.New(st, incident.Options{Policy: func(ctx context.Context) (*manifest.Manifest, error) {
			if m != nil {
				return m, nil
			}
			return server.CurrentManifest(ctx, st)
		}}).EvidenceFiles,
	}
	if len(keys.AuditKey) == 0 {
		fmt.Fprintln(cmd.ErrOrStderr(), "custos: no transfers part: the transfer counts need the identity key (CUSTOS_IDENTITY_KEY_FILE or --secrets-dir)")
	} else {
		ts, err := server.OpenTransfers(ctx, st, keys, m)
		if err != nil {
			return err
		}
		defer ts.Close()
		sources["transfers"] = ts.EvidenceFiles
	}
	var buf bytes.Buffer
	man, err := evidence.Build(ctx, &buf, evidence.Options{
		Org: st.Org(), From: from, To: to, Manifest: m, Records: checkedRecords{st, trail(st)},
		Key: priv, KeyID: signer.KeyID(), Audit: st, Actor: cliActor(), Sources: sources,
	})
	if err != nil {
		return err
	}
	if err := writeOutput(cmd.OutOrStdout(), out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: organisation %s, %s to %s, %d files in %d parts, signed by kid %s\n",
		out, orgName(man.Org), from.Format(time.DateOnly), to.AddDate(0, 0, -1).In(calendar.China).Format(time.DateOnly), len(man.Files), len(man.Parts), man.KeyID)
	return nil
}

func orgName(id string) string {
	if id == "" {
		return store.DefaultOrg
	}
	return id
}

func runEvidenceVerify(cmd *cobra.Command, args []string) error {
	keyPath, _ := cmd.Flags().GetString("key")
	asJSON, _ := cmd.Flags().GetBool("json")
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	var keys []byte
	if keyPath != "" {
		if keys, err = os.ReadFile(keyPath); err != nil {
			return err
		}
	}
	res, err := evidence.Verify(f, keys)
	out := cmd.OutOrStdout()
	if asJSON {
		v := struct {
			Verified bool             `json:"verified"`
			Error    string           `json:"error,omitempty"`
			Result   *evidence.Result `json:"result,omitempty"`
		}{Verified: err == nil}
		if err != nil {
			v.Error = err.Error()
		} else {
			v.Result = &res
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.Encode(v)
	}
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "custos: %s does NOT verify: %s\n", args[0], err)
		return exitError{1}
	}
	if !asJSON {
		man := res.Manifest
		fmt.Fprintf(out, "evidence archive %s verified: organisation %s, %s to %s, %d files in parts %v, signed by kid %s\n",
			args[0], orgName(man.Org), man.From.In(calendar.China).Format(time.DateOnly), man.To.Add(-time.Nanosecond).In(calendar.China).Format(time.DateOnly),
			len(man.Files), man.Parts, man.KeyID)
		if res.KeyFromArchive {
			fmt.Fprintf(out, "checked against the key the archive carries: it is whole; that kid %s is the organisation's, check with --key and the key set of /v1/keys/receipts\n", man.KeyID)
		}
	}
	return nil
}

// checkedRecords are the store's records with the audit verification of
// the trail, which checks the chains against the checkpoint file when one
// is named.
type checkedRecords struct {
	*store.Store
	trail *audit.Trail
}

func (r checkedRecords) VerifyAudit(ctx context.Context, anchors *audit.Anchors, progress func(int64)) (audit.Report, error) {
	return r.trail.Verify(ctx, anchors, progress)
}
