package dsr

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
)

// StateAwaitingFee: the organisation asked a fee the policy allows and
// waits for it; the deadline's clock follows the policy's rule for
// waiting on the subject, as for any other wait.
const StateAwaitingFee = "awaiting_fee"

// What became of a fee asked.
const (
	FeeAsked  = "asked"
	FeePaid   = "paid"
	FeeWaived = "waived"
)

// Fee is a fee asked for a request: the amount, why (as the subject is
// told), the policy's rule that allows it, and what became of it.
type Fee struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
	Reason   string `json:"reason"`
	Rule     string `json:"rule"` // the manifest's rights.fees.policy
	State    string `json:"state"`
}

// FeeInput is a fee an operator asks.
type FeeInput struct {
	Amount   string `json:"amount"`   // a positive decimal with at most two places: 20, 20.5, 20.00
	Currency string `json:"currency"` // ISO 4217, e.g. CNY
	Reason   string `json:"reason"`   // why, as the subject is told it
}

var (
	amountPattern   = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// maxFeeReason bounds the reason the subject is told.
const maxFeeReason = 500

// AskFee asks the subject to pay a fee before their request is carried
// out, where the policy allows one: a cost-based or conditional fee
// policy, or a request counted as repeated under free_except_repeated.
// The request waits in StateAwaitingFee and the subject is told the
// amount and why; FeePaid or WaiveFee resumes it.
func (s *Service) AskFee(ctx context.Context, a consent.Actor, id string, in FeeInput) (View, error) {
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	in.Amount, in.Reason = strings.TrimSpace(in.Amount), strings.TrimSpace(in.Reason)
	switch {
	case !amountPattern.MatchString(in.Amount) || strings.Trim(in.Amount, "0.") == "":
		return View{}, fault.New(fault.Invalid, "invalid_amount", "amount is a positive decimal with at most two places, such as 20 or 20.50").At("amount")
	case !currencyPattern.MatchString(in.Currency):
		return View{}, fault.New(fault.Invalid, "invalid_currency", "currency is an ISO 4217 code such as CNY").At("currency")
	case in.Reason == "":
		return View{}, fault.New(fault.Invalid, "reason_required", "say why the fee is asked: the subject is told").At("reason")
	case utf8.RuneCountInString(in.Reason) > maxFeeReason:
		return View{}, fault.New(fault.Invalid, "reason_too_long", "the reason is at most %d characters", maxFeeReason).At("reason")
	}
	m, err := s.policy()
	if err != nil {
		return View{}, err
	}
	r, err := s.load(ctx, id)
	if err != nil {
		return View{}, err
	}
	var f Flags
	json.Unmarshal([]byte(r.Flags), &f)
	fees := m.Rights.Fees
	if err := feeRefusal(fees, f); err != nil {
		return View{}, err
	}
	f.Fee = &Fee{Amount: in.Amount, Currency: in.Currency, Reason: in.Reason, Rule: fees.Policy, State: FeeAsked}
	b, _ := json.Marshal(f)
	r.Flags = string(b)
	data := map[string]string{"amount": in.Amount, "currency": in.Currency, "reason": in.Reason}
	if err := s.move(ctx, a, r, StateAwaitingFee, "fee asked: "+in.Amount+" "+in.Currency+" under "+fees.Policy, "request_fee", data); err != nil {
		return View{}, err
	}
	return s.view(ctx, r, true)
}

// feeRefusal is why the policy's fee rule lets no fee be asked for a
// request with flags f, or nil when one may be.
func feeRefusal(fees *manifest.Fees, f Flags) error {
	switch {
	case fees == nil || fees.Policy == "free":
		return fault.New(fault.Conflict, "fee_not_allowed", "the policy charges no fees")
	case fees.Policy == "free_except_repeated" && !f.Repeated:
		return fault.New(fault.Conflict, "fee_not_allowed", "the policy charges a fee only for repeated requests, and this one is not")
	case f.Fee != nil && f.Fee.State == FeeAsked:
		return fault.New(fault.Conflict, "fee_asked", "a fee is already asked for this request")
	}
	return nil
}

// CanAskFee says whether AskFee would take a fee for v as it is: the
// policy's fee rule allows one for it, none is awaited, and it is in a
// state that may wait on a fee. Pages offer the form on it.
func (s *Service) CanAskFee(v View) bool {
	m, err := s.policy()
	if err != nil {
		return false
	}
	return canMove(v.State, StateAwaitingFee) && feeRefusal(m.Rights.Fees, v.Flags) == nil
}

// FeePaid records that the subject paid the fee asked, and resumes the request.
func (s *Service) FeePaid(ctx context.Context, a consent.Actor, id string) (View, error) {
	return s.settleFee(ctx, a, id, FeePaid, "fee paid", "request_in_progress")
}

// WaiveFee gives up the fee asked, and resumes the request; the subject is told.
func (s *Service) WaiveFee(ctx context.Context, a consent.Actor, id string) (View, error) {
	return s.settleFee(ctx, a, id, FeeWaived, "fee waived", "request_fee_waived")
}

func (s *Service) settleFee(ctx context.Context, a consent.Actor, id, state, note, template string) (View, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return View{}, err
	}
	var f Flags
	json.Unmarshal([]byte(r.Flags), &f)
	if r.State != StateAwaitingFee || f.Fee == nil || f.Fee.State != FeeAsked {
		return View{}, fault.New(fault.Conflict, "no_fee_asked", "no fee is awaited for this request (it is %s)", r.State)
	}
	f.Fee.State = state
	b, _ := json.Marshal(f)
	r.Flags = string(b)
	if err := s.move(ctx, a, r, StateInProgress, note, template, map[string]string{"reason": note}); err != nil {
		return View{}, err
	}
	return s.view(ctx, r, true)
}
