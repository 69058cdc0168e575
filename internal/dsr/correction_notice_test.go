package dsr_test

import (
	"slices"
	"testing"
	"time"
)

// TestCorrectionToldToWhoReceivedIt: a correction is told only to the
// parties that received a category it changes, and each notice names
// those categories alone; a deletion of the same person tells every party
// that received their data.
func TestCorrectionToldToWhoReceivedIt(t *testing.T) {
	e := newEnv(t, starterManifest, time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC))
	e.subject("st-corr", "corr@example.com", "", nil)
	corr := e.submitOperator(map[string]any{"type": "correction", "subject_id": "st-corr", "language": "en",
		"details": map[string]any{"correction": map[string]string{"basic.phone": "+86 139 0000 0000"}}})
	e.act(corr.ID, "approve", nil)
	done := e.act(corr.ID, "complete", map[string]string{})
	var told []string
	for _, r := range done.Recipients {
		told = append(told, r.Recipient)
		if !slices.Equal(r.Categories, []string{"basic.phone"}) {
			t.Errorf("%s is told of %v, want basic.phone alone", r.Recipient, r.Categories)
		}
	}
	if !slices.Contains(told, "sms-provider") {
		t.Errorf("the SMS provider, which receives phone numbers, is not told: %v", told)
	}
	for _, never := range []string{"email-provider", "id-verifier", "payment-processor"} {
		if slices.Contains(told, never) {
			t.Errorf("%s, which never received a phone number, is told of its correction: %v", never, told)
		}
	}

	del := e.submitOperator(map[string]any{"type": "deletion", "subject_id": "st-corr", "language": "en"})
	e.act(del.ID, "approve", nil)
	var all []string
	for _, r := range e.act(del.ID, "complete", map[string]string{}).Recipients {
		all = append(all, r.Recipient)
	}
	if !slices.Contains(all, "email-provider") || len(all) <= len(told) {
		t.Errorf("a deletion tells %v; the correction told %v", all, told)
	}
}
