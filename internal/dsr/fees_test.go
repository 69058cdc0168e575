package dsr_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/dsr"
)

// TestFeePausedAndResumed: under smart-device-app's conditional fee
// policy an operator asks a fee; the request waits in awaiting_fee, its
// deadline following the policy's clock rule (it runs where the policy
// states none), the subject is told the amount and why, and payment or a
// waiver resumes it, the due date moved by the days waited when the
// clock paused. The public view shows the fee to the
// requester. A policy that charges nothing, or only for repeated
// requests, refuses a fee on an ordinary request; bad amounts are
// refused with stable codes.
func TestFeePausedAndResumed(t *testing.T) {
	start := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	src, err := os.ReadFile(smartManifest)
	if err != nil {
		t.Fatal(err)
	}
	const access = "    - id: access\n      rights: [access]\n      count: 30\n      unit: calendar_days\n"
	if strings.Count(string(src), access) != 1 {
		t.Fatal("smart-device-app's access deadline is not where the test expects it")
	}
	paused := filepath.Join(t.TempDir(), "custos.yaml")
	if err := os.WriteFile(paused, []byte(strings.Replace(string(src), access, access+"      clock: pause\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, manifest, settle string
		moved                  int // days the due date moves
	}{
		{"policy states no clock rule: the clock runs", smartManifest, "fee/paid", 0},
		{"clock paused, paid", paused, "fee/paid", 5},
		{"clock paused, waived", paused, "fee/waive", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.manifest, start)
			settle := tt.settle
			e.subject("st-fee", "fee@example.com", "", nil)
			v := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-fee", "language": "zh-CN"})
			e.act(v.ID, "approve", nil)
			due := e.get(v.ID).DueDate
			e.clock.Set(start.AddDate(0, 0, 2))
			asked := e.act(v.ID, "fee", map[string]string{"amount": "20.00", "currency": "cny", "reason": "您在一年内多次提出相同请求。"})
			if asked.State != dsr.StateAwaitingFee || asked.ClockPaused != (tt.moved > 0) || asked.Flags.Fee == nil || asked.Flags.Fee.Amount != "20.00" ||
				asked.Flags.Fee.Currency != "CNY" || asked.Flags.Fee.Rule != "conditional" || asked.Flags.Fee.State != dsr.FeeAsked {
				t.Fatalf("after the fee is asked: %+v (fee %+v)", asked, asked.Flags.Fee)
			}
			if pub, err := e.req.Status(e.ctx, v.ID); err != nil || pub.Flags.Fee == nil || pub.Flags.Fee.Amount != "20.00" {
				t.Errorf("the requester's view of the fee: %+v, %v", pub.Flags.Fee, err)
			}
			if ts := e.templates(v.ID); !slices.Contains(ts, "request_fee") {
				t.Errorf("the subject was not told of the fee: %v", ts)
			}
			if e.req.CanAskFee(asked) {
				t.Error("CanAskFee while a fee is awaited")
			}
			if res := e.do("POST", "/v1/requests/"+v.ID+"/fee", e.op, `{"amount":"30","currency":"CNY","reason":"again"}`); res.Code != 409 || !strings.Contains(string(res.Body), "fee_asked") {
				t.Errorf("a second fee while one is awaited = %d %s, want 409 fee_asked", res.Code, res.Body)
			}
			e.clock.Set(start.AddDate(0, 0, 7))
			resumed := e.act(v.ID, settle, nil)
			if resumed.State != dsr.StateInProgress || resumed.ClockPaused {
				t.Fatalf("after %s: state %s, paused %v", settle, resumed.State, resumed.ClockPaused)
			}
			d0, _ := time.Parse(time.DateOnly, due)
			if want := d0.AddDate(0, 0, tt.moved).Format(time.DateOnly); resumed.DueDate != want {
				t.Errorf("due %s after a 5-day wait for the fee, want %s (was %s)", resumed.DueDate, want, due)
			}
			want := map[string]string{"fee/paid": dsr.FeePaid, "fee/waive": dsr.FeeWaived}[settle]
			if resumed.Flags.Fee == nil || resumed.Flags.Fee.State != want {
				t.Errorf("fee after %s: %+v", settle, resumed.Flags.Fee)
			}
			if settle == "fee/waive" && !slices.Contains(e.templates(v.ID), "request_fee_waived") {
				t.Errorf("the subject was not told the fee is waived: %v", e.templates(v.ID))
			}
			if res := e.do("POST", "/v1/requests/"+v.ID+"/"+settle, e.op, ""); res.Code != 409 || !strings.Contains(string(res.Body), "no_fee_asked") {
				t.Errorf("settling again = %d %s, want 409 no_fee_asked", res.Code, res.Body)
			}
		})
	}
}

// TestFeeRefused: the policy decides whether a fee may be asked, and the
// amount and currency are checked.
func TestFeeRefused(t *testing.T) {
	start := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, manifest string
		body           string
		code           int
		want           string
	}{
		{"free except repeated, not repeated", starterManifest, `{"amount":"20","currency":"CNY","reason":"x"}`, 409, "fee_not_allowed"},
		{"no amount", smartManifest, `{"currency":"CNY","reason":"x"}`, 422, "invalid_amount"},
		{"zero", smartManifest, `{"amount":"0.00","currency":"CNY","reason":"x"}`, 422, "invalid_amount"},
		{"three places", smartManifest, `{"amount":"1.005","currency":"CNY","reason":"x"}`, 422, "invalid_amount"},
		{"negative", smartManifest, `{"amount":"-5","currency":"CNY","reason":"x"}`, 422, "invalid_amount"},
		{"currency", smartManifest, `{"amount":"5","currency":"yuan","reason":"x"}`, 422, "invalid_currency"},
		{"no reason", smartManifest, `{"amount":"5","currency":"CNY"}`, 422, "reason_required"},
		{"unknown field", smartManifest, `{"amount":"5","currency":"CNY","reason":"x","due":"now"}`, 400, "unknown_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.manifest, start)
			e.subject("st-fee", "fee@example.com", "", nil)
			v := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-fee", "language": "en"})
			e.act(v.ID, "approve", nil)
			res := e.do("POST", "/v1/requests/"+v.ID+"/fee", e.op, tt.body)
			if res.Code != tt.code || !strings.Contains(string(res.Body), `"code":"`+tt.want+`"`) {
				t.Errorf("= %d %s, want %d %s", res.Code, res.Body, tt.code, tt.want)
			}
			if got := e.get(v.ID); got.State != dsr.StateInProgress || got.Flags.Fee != nil {
				t.Errorf("after a refused fee: %s %+v", got.State, got.Flags.Fee)
			}
			// The form is offered where the policy allows a fee.
			if got, want := e.req.CanAskFee(e.get(v.ID)), tt.want != "fee_not_allowed"; got != want {
				t.Errorf("CanAskFee = %v, want %v", got, want)
			}
		})
	}
}
