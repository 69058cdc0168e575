// Package client calls a Custos server from Go: it registers subjects,
// records their consents, asks the decision point whether a person's data
// may be processed for a purpose, takes rights requests and verifies
// consent receipts.
//
// Create one Client per server and share it; every method takes a context
// and returns typed results. Errors from the server are *Error values with
// the API's stable code, and match the Err… classes and the Code…
// constants with errors.Is:
//
//	c, err := client.New("https://custos.internal:8080", client.WithAPIKey(os.Getenv("CUSTOS_API_KEY")))
//	if err != nil {
//		return err
//	}
//	res, err := c.Check(ctx, client.CheckInput{SubjectID: "u-1042", Purposes: []string{"analytics"}})
//	switch {
//	case errors.Is(err, client.ErrUnauthorized):
//		return fmt.Errorf("the Custos key is wrong or revoked: %w", err)
//	case err != nil:
//		return err
//	case !res.Allowed("analytics"):
//		return nil // not allowed: skip the processing
//	}
//
// Calls that are safe to repeat (GET, PUT) are retried on network errors
// and on 429, 502, 503 and 504, with capped exponential backoff and
// jitter, honouring Retry-After and the context (see RetryPolicy). The API
// takes no idempotency key, so POSTs are sent once.
//
// The client writes no logs. Its errors carry the server's code and
// message, and the name of the method that failed, never a URL: URLs hold
// subject ids and, for downloads, tokens.
//
// Each API key has one role, which decides the calls it may make: a
// service key may register subjects, record consents, check, and keep and
// read vault values (in clear only where the manifest says so); reading a
// subject, restricting processing and working on rights requests need an
// operator or admin key. A write does not read for a service key either:
// CreateSubject, UpdateSubject and AddIdentities tell it the subject's id
// alone (SubjectWritten.Subject is nil). The public rights-request calls
// need no key.
package client
