// Command client is what a Go service does with Custos, in the order it
// does it: register a person at sign-up, keep their email address in the
// vault, record the consent they gave, check a purpose before each
// processing, and take a rights request.
//
// Run it against the demo server (`go run ./cmd/custos serve --demo`,
// which prints an admin key):
//
//	CUSTOS_API_KEY=cus_… go run ./examples/client -subject u-1042 -purpose analytics
//
// The key comes from CUSTOS_API_KEY or the file named by
// CUSTOS_API_KEY_FILE, never from a flag: flags show in process lists and
// shell history. A service key may do the first four steps; taking a
// rights request needs an operator or admin key.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/custos-privacy/custos/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

// notice is the text the person was shown when asked; its hash goes into
// the ledger, so that what they agreed to can be proven later.
const notice = "We would like to measure how you use the app, to improve it. You can change your mind at any time under Settings > Privacy."

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	baseURL := fs.String("url", envOr(getenv, "CUSTOS_URL", "http://127.0.0.1:8080"), "Custos server `URL` (env CUSTOS_URL)")
	subject := fs.String("subject", "u-1042", "the application's own opaque `id` of the person (never an email or phone number)")
	email := fs.String("email", "", "the person's email `address`, registered as an identity and kept for notices (optional)")
	purpose := fs.String("purpose", "analytics", "the `purpose` to record consent for and to check")
	lang := fs.String("lang", "en", "the `language` of the notice shown: zh-CN or en")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key, err := apiKey(getenv)
	if err != nil {
		return err
	}
	c, err := client.New(*baseURL, client.WithAPIKey(key), client.WithUserAgent("custos-example-client/1"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	// 1. At sign-up: register the person under the application's own id.
	// Registering again is a conflict, which a retried sign-up can ignore.
	in := client.SubjectInput{SubjectID: *subject, AgeBand: "adult", Language: *lang}
	if *email != "" {
		in.Identities = []client.IdentityInput{{Kind: client.KindEmail, Value: *email, Keep: true}}
	}
	// A service key is told the id of what it registered, not the record:
	// reading a subject needs an operator or admin key, and is audited.
	switch w, err := c.CreateSubject(ctx, in); {
	case errors.Is(err, client.CodeSubjectConflict):
		fmt.Fprintf(out, "subject %s: already registered\n", *subject)
	case err != nil:
		return fmt.Errorf("register the subject: %w", err)
	default:
		fmt.Fprintf(out, "subject %s: registered\n", w.SubjectID)
	}

	// 2. Keep the address the app must be able to read back (to send
	// sign-in codes) in the vault rather than in the app's own database:
	// sealed under the person's own key, so erasing them erases it
	// everywhere. The app keeps the token, which matches equal addresses
	// without holding any; a read names its purpose and is in clear only
	// for the roles the manifest names for it.
	if *email != "" {
		w, err := c.PutVault(ctx, *subject, "email", *email)
		switch {
		case errors.Is(err, client.ErrNotFound):
			fmt.Fprintln(out, "vault: the policy in force keeps no email field; skipped")
		case err != nil:
			return fmt.Errorf("keep the email address: %w", err)
		default:
			fmt.Fprintf(out, "vault: email kept, token %s\n", w.Token)
			v, err := c.GetVault(ctx, *subject, "email", "account_registration")
			if err != nil {
				return fmt.Errorf("read the email address: %w", err)
			}
			if v.Masked {
				fmt.Fprintf(out, "vault: email for account_registration, masked for this key: %s\n", v.Value)
			} else {
				fmt.Fprintln(out, "vault: email for account_registration, in clear for this key")
			}
		}
	}

	// 3. Record the choice the person made on the consent screen.
	events, err := c.RecordConsent(ctx, *subject, client.ConsentInput{
		Grant:      []string{*purpose},
		Method:     client.MethodAppDialog,
		Language:   *lang,
		NoticeHash: client.NoticeHash(notice),
	})
	var apiErr *client.Error
	switch {
	case errors.Is(err, client.CodeUnknownPurpose) && errors.As(err, &apiErr):
		return fmt.Errorf("%q is not a purpose the policy asks consent for; it has: %s", *purpose, strings.Join(apiErr.Allowed, ", "))
	case err != nil:
		return fmt.Errorf("record consent: %w", err)
	}
	for _, e := range events {
		fmt.Fprintf(out, "consent: %s %s under policy %s (event %s)\n", e.Action, e.Purpose, e.PolicyVersion, e.ID)
	}

	// 4. Before processing, every time: ask. The answer follows
	// withdrawals, restrictions and policy changes at once. No answer is
	// not a yes.
	res, err := c.Check(ctx, client.CheckInput{SubjectID: *subject, Purposes: []string{*purpose}})
	if err != nil {
		return fmt.Errorf("check %s: %w", *purpose, err)
	}
	if d, _ := res.Decision(*purpose); d.Allowed {
		fmt.Fprintf(out, "check: %s allowed (%s): processing\n", *purpose, d.Reason)
	} else {
		fmt.Fprintf(out, "check: %s not allowed (%s): skipped\n", *purpose, d.Reason)
	}

	// 5. The person asks, through the app they are signed in to, for a
	// copy of their data: an operator's request, with the sign-in as the
	// evidence of who they are.
	r, err := c.SubmitRequest(ctx, client.RequestInput{
		Type:         client.RightAccess,
		Language:     *lang,
		SubjectID:    *subject,
		Verification: client.VerificationOperator,
		Evidence:     "signed in to the app (session), request made in Settings > Privacy",
	})
	switch {
	case errors.Is(err, client.ErrForbidden):
		fmt.Fprintln(out, "access request: this key's role may not take requests; use an operator or admin key")
		return nil
	case err != nil:
		return fmt.Errorf("submit an access request: %w", err)
	}
	fmt.Fprintf(out, "access request %s: %s, due %s (%s)\n", r.ID, r.State, r.DueDate, r.Deadline)
	return nil
}

// apiKey reads the key from CUSTOS_API_KEY or CUSTOS_API_KEY_FILE.
func apiKey(getenv func(string) string) (string, error) {
	if k := getenv("CUSTOS_API_KEY"); k != "" {
		return k, nil
	}
	if f := getenv("CUSTOS_API_KEY_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("read CUSTOS_API_KEY_FILE: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", errors.New("set CUSTOS_API_KEY or CUSTOS_API_KEY_FILE to a Custos API key")
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
