package client

import (
	"context"
	"time"
)

// SetSleep replaces the wait between attempts, so that tests see the
// waits the policy chose without spending them.
func SetSleep(c *Client, f func(ctx context.Context, d time.Duration) error) { c.sleep = f }

// Backoff is the policy's jittered wait after the attempt-th try.
func Backoff(p RetryPolicy, attempt int) time.Duration { return p.backoff(attempt) }

// ParseRetryAfter reads a Retry-After header.
var ParseRetryAfter = parseRetryAfter

// Bodies of single-purpose calls, for the test that holds them against
// the server's OpenAPI document.
type (
	IdentitiesInput  = identitiesInput
	RestrictionInput = restrictionInput
	OverrideInput    = overrideInput
	CodeInput        = codeInput
	EvidenceInput    = evidenceInput
	ReasonInput      = reasonInput
	RefuseInput      = refuseInput
	VaultInput       = vaultInput
)
