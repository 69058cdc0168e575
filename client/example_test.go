package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/custos-privacy/custos/client"
)

// These examples need a running server, so they are compiled, not run.
// TestClient runs the same calls against a real one.

// A service registers a person at sign-up, records the consent they gave
// on the sign-up screen, and asks before each processing whether it may.
func Example() {
	ctx := context.Background()
	c, err := client.New("http://127.0.0.1:8080", client.WithAPIKey(os.Getenv("CUSTOS_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.CreateSubject(ctx, client.SubjectInput{
		SubjectID:  "u-1042",
		Identities: []client.IdentityInput{{Kind: client.KindEmail, Value: "li.na@example.com", Keep: true}},
		AgeBand:    "adult",
		Language:   "en",
	})
	if err != nil && !errors.Is(err, client.CodeSubjectConflict) {
		log.Fatal(err)
	}
	const shown = "We would like to measure how you use Qingyun Notes to improve it."
	if _, err := c.RecordConsent(ctx, "u-1042", client.ConsentInput{
		Grant: []string{"analytics"}, Method: client.MethodAppDialog, Language: "en", NoticeHash: client.NoticeHash(shown),
	}); err != nil {
		log.Fatal(err)
	}
	res, err := c.Check(ctx, client.CheckInput{SubjectID: "u-1042", Purposes: []string{"analytics"}})
	if err != nil {
		log.Fatal(err)
	}
	if res.Allowed("analytics") {
		fmt.Println("send the usage event")
	}
}

func ExampleNew() {
	c, err := client.New("https://custos.internal:8443",
		client.WithAPIKey(os.Getenv("CUSTOS_API_KEY")),
		client.WithUserAgent("billing-service/2.3"),
		client.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}),
		client.WithRetry(client.RetryPolicy{MaxAttempts: 3, BaseDelay: 100 * time.Millisecond, MaxDelay: 2 * time.Second}),
	)
	if err != nil {
		log.Fatal(err)
	}
	_ = c
}

// Ask about every purpose a job needs at once, and act on each answer.
func ExampleClient_Check() {
	c, _ := client.New("http://127.0.0.1:8080", client.WithAPIKey(os.Getenv("CUSTOS_API_KEY")))
	res, err := c.Check(context.Background(), client.CheckInput{
		SubjectID: "u-1042",
		Purposes:  []string{"marketing", "analytics"},
		Recipient: "ad-measurement", // and may the data go to this recipient?
	})
	if err != nil {
		log.Fatal(err) // no answer is not a yes
	}
	for _, d := range res.Decisions {
		fmt.Printf("%s: allowed=%v (%s)\n", d.Purpose, d.Allowed, d.Reason)
	}
}

// Relay the browser's Global Privacy Control signal with the choice.
func ExampleClient_RecordConsent() {
	c, _ := client.New("http://127.0.0.1:8080", client.WithAPIKey(os.Getenv("CUSTOS_API_KEY")))
	var r *http.Request // the person's request to your site
	events, err := c.RecordConsent(context.Background(), "u-1042", client.ConsentInput{
		Grant:      []string{"advertising"},
		Withdraw:   []string{"marketing"},
		Method:     client.MethodBanner,
		Language:   "zh-CN",
		NoticeHash: client.NoticeHash("…the banner's text, exactly as shown…"),
		Evidence:   []byte(`{"banner":"b-2026-03"}`),
		GPC:        r != nil && r.Header.Get("Sec-GPC") == "1",
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events {
		fmt.Println(e.Action, e.Purpose, e.Signal)
	}
}

// Errors carry the API's stable codes; match classes or single codes.
func ExampleError() {
	c, _ := client.New("http://127.0.0.1:8080", client.WithAPIKey(os.Getenv("CUSTOS_API_KEY")))
	_, err := c.RecordConsent(context.Background(), "u-1042", client.ConsentInput{
		Grant: []string{"newsletter"}, Method: client.MethodAPI, Language: "en", NoticeHash: client.NoticeHash("…"),
	})
	var e *client.Error
	switch {
	case errors.Is(err, client.CodeUnknownPurpose) && errors.As(err, &e):
		fmt.Println("not a purpose of the policy; it has:", e.Allowed)
	case errors.Is(err, client.ErrNotFound):
		fmt.Println("register the subject first")
	case errors.Is(err, client.ErrUnauthorized), errors.Is(err, client.ErrForbidden):
		fmt.Println("check the service's API key")
	case err != nil:
		fmt.Println(err) // e.g. custos RecordConsent: …: … (HTTP 422)
	}
}

func ExampleClient_ConsentHistory() {
	c, _ := client.New("http://127.0.0.1:8080", client.WithAPIKey(os.Getenv("CUSTOS_API_KEY")))
	for e, err := range c.ConsentHistory(context.Background(), "u-1042") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.At.Format(time.RFC3339), e.Action, e.Purpose, e.PolicyVersion)
	}
}

// Give the person a signed receipt of their consent, and check one they
// bring back.
func ExampleClient_VerifyReceipt() {
	ctx := context.Background()
	c, _ := client.New("http://127.0.0.1:8080", client.WithAPIKey(os.Getenv("CUSTOS_API_KEY")))
	signed, err := c.ConsentReceipt(ctx, "u-1042", "ce_06h4kc61ec9fifdjifspcpo4ic")
	if err != nil {
		log.Fatal(err)
	}
	r, err := c.VerifyReceipt(ctx, signed.Receipt)
	if errors.Is(err, client.ErrReceiptInvalid) {
		log.Fatal("forged or altered receipt")
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.PIIPrincipalID, r.Custos.Action, r.Custos.PolicyVersion)
}

// An operator's tool takes a request a person made by phone, and sees it
// through.
func ExampleClient_SubmitRequest() {
	ctx := context.Background()
	c, _ := client.New("http://127.0.0.1:8080", client.WithAPIKey(os.Getenv("CUSTOS_OPERATOR_KEY")))
	r, err := c.SubmitRequest(ctx, client.RequestInput{
		Type: client.RightAccess, Language: "zh-CN", SubjectID: "u-1042",
		Verification: client.VerificationOperator, Evidence: "called back on the number on file, ticket 4411",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.ID, r.State, "due", r.DueDate)
	if _, err := c.ApproveRequest(ctx, r.ID); err != nil {
		log.Fatal(err)
	}
	done, err := c.CompleteRequest(ctx, r.ID, client.CompleteInput{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("export bundle:", done.Download != "")
}

// A service keeps a person's mobile number in the vault at sign-up, and
// reads it back to send a sign-in code; erased people answer ErrGone.
func ExampleClient_GetVault() {
	ctx := context.Background()
	c, _ := client.New("http://127.0.0.1:8080", client.WithAPIKey(os.Getenv("CUSTOS_API_KEY")))
	w, err := c.PutVault(ctx, "u-1042", "mobile_number", "+86 138-0013-8000")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("keep for joins:", w.Token)
	v, err := c.GetVault(ctx, "u-1042", "mobile_number", "account-service")
	switch {
	case errors.Is(err, client.ErrGone):
		return // the person was erased: no code to send
	case errors.Is(err, client.CodeNotAllowed), errors.Is(err, client.CodePurposeNotAllowed):
		log.Fatal(err) // not for this purpose, or not now
	case err != nil:
		log.Fatal(err)
	case v.Masked:
		log.Fatal("this key may not read the number in clear for account-service")
	}
	fmt.Println("send the code to", v.Value)
}
