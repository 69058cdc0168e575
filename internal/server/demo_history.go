package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/examples"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
)

// demoClock is the clock the demo's services read: held at instants in
// the past while the demo's history is written, the real clock after.
// Writing the history through the services themselves, at their own
// instants, keeps every rule the services enforce (notice periods,
// deadlines, stale consents) and every audit entry they make.
type demoClock struct {
	base func() time.Time
	held atomic.Pointer[time.Time]
}

// Now is the held instant, or the real time.
func (c *demoClock) Now() time.Time {
	if t := c.held.Load(); t != nil {
		return *t
	}
	return c.base()
}

func (c *demoClock) hold(t time.Time) { c.held.Store(&t) }
func (c *demoClock) release()         { c.held.Store(nil) }

// demoV2 is the label of the starter's second version.
const demoV2 = "3.1"

// The history's timeline, in days before the start.
const (
	v1Published = 70 // version 3.0 in force at once
	v2Announced = 28 // version 3.1 announced; in force after the 7 days' notice it promises
)

// Who acts in the history. Their ids say they are the demo's.
var (
	demoApp     = consent.Actor{ID: "demo:app", Role: "service", Place: "demo history"}
	demoStaff   = consent.Actor{ID: "demo:operator", Role: "operator", Place: "demo history"}
	demoVisitor = consent.Actor{ID: "privacy_center", Role: "public", Place: "demo history"}
)

func demoPerson(id string) consent.Actor {
	return consent.Actor{ID: "subject:" + id, Role: "public", Place: "demo history"}
}

// history is the demo's past, written step by step with the clock held
// at each step's instant, in time order.
type history struct {
	clock *demoClock
	svc   *consent.Service
	req   *dsr.Service
	start time.Time
	steps []step
}

type step struct {
	at   time.Time
	what string
	do   func(ctx context.Context) error
}

// ago is the instant days before the start, to the minute.
func (h *history) ago(days float64) time.Time {
	return h.start.Add(-time.Duration(days * float64(24*time.Hour))).Truncate(time.Minute)
}

func (h *history) at(days float64, what string, do func(ctx context.Context) error) {
	h.steps = append(h.steps, step{at: h.ago(days), what: what, do: do})
}

func (h *history) run(ctx context.Context) error {
	defer h.clock.release()
	slices.SortStableFunc(h.steps, func(a, b step) int { return a.at.Compare(b.at) })
	for _, s := range h.steps {
		h.clock.hold(s.at)
		if err := s.do(ctx); err != nil {
			return fmt.Errorf("demo history, %s: %w", s.what, err)
		}
	}
	return nil
}

// demoIdentities are the people to sign in as, and what there is to see.
var demoIdentities = []DemoIdentity{
	{"lin.wei@example.com", "demo-1001", "consented under 3.0, so 3.1 asks her again; guardian of demo-1003"},
	{"alex.chen@example.org", "demo-1002", "accepted 3.1; a correction request waits for her answer"},
	{"sofia.marin@example.eu", "demo-1004", "EU resident (GDPR); her access request's deadline was extended"},
	{"13800138000", "demo-1001", "Lin Wei's phone (the code comes as a text message)"},
}

// writeHistory writes ten weeks of Qingyun Notes' life on a fresh
// database: version 3.0 published 70 days ago, version 3.1 announced 28
// days ago and in force 7 days later, about thirty people registering and
// consenting over the weeks (some withdrawing, most of those there before
// 3.1 accepting it and consenting again), and rights requests in every
// state a request can be left in. It goes through the consent and request
// services with the clock held in the past, so it obeys their rules; only
// the store's own bookkeeping (outbox and key timestamps) reads the wall
// clock.
func writeHistory(ctx context.Context, clock *demoClock, svc *consent.Service, req *dsr.Service) error {
	h := &history{clock: clock, svc: svc, req: req, start: clock.Now()}
	h.at(v1Published, "publish 3.0", func(ctx context.Context) error {
		_, err := svc.PublishWith(ctx, demoApp, "examples/starter/custos.yaml", examples.Starter, consent.PublishOptions{EffectiveAt: clock.Now()})
		return err
	})
	h.at(v2Announced, "publish 3.1", func(ctx context.Context) error {
		at := clock.Now().AddDate(0, 0, 7).Add(time.Minute)
		_, err := svc.PublishWith(ctx, demoApp, "examples/starter/custos-v2.yaml", examples.StarterV2, consent.PublishOptions{EffectiveAt: at})
		return err
	})
	h.people()
	h.crowd()
	h.rights()
	return h.run(ctx)
}

// people are the named subjects, the ones to sign in as.
func (h *history) people() {
	lin := consent.SubjectInput{ID: "demo-1001", BirthDate: "1990-04-12", Language: "zh-CN", Identities: []consent.IdentityInput{
		{Kind: "email", Value: "lin.wei@example.com", Keep: true}, {Kind: "phone", Value: "13800138000", Keep: true}}}
	h.register(63, lin)
	h.grant(63, lin.ID, "zh-CN", "analytics", "marketing", "push_notifications")
	h.grantSeparate(50, lin.ID, "zh-CN", "location_tagging")
	h.withdraw(40, lin.ID, "zh-CN", "marketing")
	// Her daughter, registered by her as guardian.
	h.register(62, consent.SubjectInput{ID: "demo-1003", BirthDate: "2015-09-01", GuardianID: "demo-1001", Language: "zh-CN",
		Identities: []consent.IdentityInput{{Kind: "phone", Value: "13900139000", Keep: true}}})

	alex := consent.SubjectInput{ID: "demo-1002", AgeBand: "adult", Language: "en", Identities: []consent.IdentityInput{{Kind: "email", Value: "alex.chen@example.org", Keep: true}}}
	h.register(56, alex)
	h.grant(56, alex.ID, "en", "analytics")
	h.accept(15, alex.ID, "en")
	h.grant(15, alex.ID, "en", "analytics")

	sofia := consent.SubjectInput{ID: "demo-1004", AgeBand: "adult", Jurisdiction: "EU", Language: "en", Identities: []consent.IdentityInput{{Kind: "email", Value: "sofia.marin@example.eu", Keep: true}}}
	h.register(45, sofia)
	h.grant(45, sofia.ID, "en", "analytics", "push_notifications")
	h.accept(19, sofia.ID, "en")
	h.grant(19, sofia.ID, "en", "analytics", "push_notifications", "personalised_recommendations")

	for _, p := range []struct {
		in     consent.SubjectInput
		joined float64
		grant  []string
	}{
		{consent.SubjectInput{ID: "demo-1005", AgeBand: "adult", Identities: []consent.IdentityInput{{Kind: "email", Value: "zhou.jie@example.com", Keep: true}}}, 40, []string{"push_notifications", "analytics"}},
		{consent.SubjectInput{ID: "demo-1006", AgeBand: "adult", Identities: []consent.IdentityInput{{Kind: "phone", Value: "13600136000", Keep: true}}}, 33, []string{"analytics"}},
		{consent.SubjectInput{ID: "demo-1007", AgeBand: "adult", Identities: []consent.IdentityInput{{Kind: "email", Value: "liu.yang@example.com", Keep: true}}}, 66, []string{"analytics", "advertising"}},
		{consent.SubjectInput{ID: "demo-1008", AgeBand: "adult", Identities: []consent.IdentityInput{{Kind: "email", Value: "huang.lei@example.com", Keep: true}}}, 58, []string{"marketing"}},
		{consent.SubjectInput{ID: "demo-1009", AgeBand: "adult", Identities: []consent.IdentityInput{{Kind: "email", Value: "wang.fang@example.com", Keep: true}}}, 69, []string{"analytics", "advertising", "push_notifications"}},
		{consent.SubjectInput{ID: "demo-1010", AgeBand: "adult", Identities: []consent.IdentityInput{{Kind: "email", Value: "zhao.min@example.com", Keep: true}}}, 37, []string{"analytics"}},
	} {
		p.in.Language = "zh-CN"
		h.register(p.joined, p.in)
		h.grant(p.joined, p.in.ID, "zh-CN", p.grant...)
	}
}

// crowd are two dozen people without identities on file, there to make the
// consent charts mean something. A fixed seed keeps every demo alike.
func (h *history) crowd() {
	r := rand.New(rand.NewPCG(2026, 3))
	chance := func(p float64) bool { return r.Float64() < p }
	for i := range 24 {
		id := fmt.Sprintf("demo-%d", 2001+i)
		lang := "zh-CN"
		if i%4 == 3 {
			lang = "en"
		}
		joined := 68 - float64(i)*2.8 + r.Float64()
		h.register(joined, consent.SubjectInput{ID: id, AgeBand: "adult", Language: lang})
		underV2 := joined < v2Announced-7.5 // registered once 3.1 was in force
		var grant []string
		for _, p := range []struct {
			purpose string
			chance  float64
		}{{"analytics", 0.7}, {"push_notifications", 0.6}, {"marketing", 0.35}, {"advertising", 0.25}} {
			if chance(p.chance) {
				grant = append(grant, p.purpose)
			}
		}
		if underV2 && chance(0.4) {
			grant = append(grant, "personalised_recommendations")
		}
		if len(grant) > 0 {
			h.grant(joined-0.001, id, lang, grant...)
		}
		for _, p := range []string{"location_tagging", "sync_acceleration"} {
			if chance(0.25) {
				h.grantSeparate(max(joined-1-5*r.Float64(), 0.2), id, lang, p)
			}
		}
		kept := grant
		if (slices.Contains(grant, "marketing") || slices.Contains(grant, "advertising")) && chance(0.4) {
			off := slices.DeleteFunc(slices.Clone(grant), func(p string) bool { return p != "marketing" && p != "advertising" })
			h.withdraw(max(joined-5-15*r.Float64(), 0.1), id, lang, off...)
			kept = slices.DeleteFunc(slices.Clone(grant), func(p string) bool { return slices.Contains(off, p) })
		}
		// Most of those there before 3.1 come back after it is in force,
		// accept it and consent again.
		if !underV2 && chance(0.65) {
			back := 1 + 18*r.Float64()
			h.accept(back, id, lang)
			again := slices.Clone(kept)
			if chance(0.5) {
				again = append(again, "personalised_recommendations")
			}
			if len(again) > 0 {
				h.grant(back-0.001, id, lang, again...)
			}
		}
	}
}

// rights are requests left in every state a request can end a day in.
// Those taken by an operator were verified by the operator; the two that
// came through the privacy center wait for, or failed, a one-time code.
func (h *history) rights() {
	// Completed: Lin Wei's access request, answered with an export.
	lin := h.request(35, dsr.Input{Type: "access", Language: "zh-CN", SubjectID: "demo-1001", Verification: "operator", Evidence: "code sent to her registered phone, read back on a call"})
	h.act(34, lin, "approve", h.req.Approve)
	h.act(33, lin, "complete", func(ctx context.Context, a consent.Actor, id string) (dsr.View, error) {
		return h.req.Complete(ctx, a, id, dsr.CompleteInput{})
	})

	// Completed: Wang Fang's erasure; recipients are told, three confirm.
	wang := h.request(26, dsr.Input{Type: "deletion", Language: "zh-CN", SubjectID: "demo-1009", Verification: "operator", Evidence: "requested in the app while signed in"})
	h.act(25, wang, "approve", h.req.Approve)
	h.act(24, wang, "complete", func(ctx context.Context, a consent.Actor, id string) (dsr.View, error) {
		return h.req.Complete(ctx, a, id, dsr.CompleteInput{})
	})
	for i, r := range []string{"cloud-cn", "email-provider", "push-provider"} {
		h.act(23-float64(i), wang, "acknowledge "+r, func(ctx context.Context, a consent.Actor, id string) (dsr.View, error) {
			return h.req.Acknowledge(ctx, a, id, r)
		})
	}

	// Refused: Liu Yang asked to delete his payment records, which the
	// law requires to be kept.
	liu := h.request(21, dsr.Input{Type: "deletion", Language: "zh-CN", SubjectID: "demo-1007", Verification: "operator", Evidence: "letter signed and posted from his registered address",
		Details: json.RawMessage(`{"note":"please delete my payment history"}`)})
	h.act(20, liu, "approve", h.req.Approve)
	h.act(19, liu, "refuse", func(ctx context.Context, a consent.Actor, id string) (dsr.View, error) {
		return h.req.Refuse(ctx, a, id, "legal_obligation", "会计法规要求我们自交易之日起保存发票和付款记录。期满后我们将删除这些记录；您的其他个人信息可应您的要求删除。")
	})

	// Withdrawn: Huang Lei asked to cancel his account, then signed in
	// during the cooling-off period.
	huang := h.request(16, dsr.Input{Type: "cancel_account", Language: "zh-CN", SubjectID: "demo-1008", Verification: "operator", Evidence: "requested in the app while signed in"})
	h.act(15.9, huang, "approve", h.req.Approve)
	h.act(15.8, huang, "schedule", func(ctx context.Context, a consent.Actor, id string) (dsr.View, error) {
		return h.req.Complete(ctx, a, id, dsr.CompleteInput{})
	})
	h.act(11, huang, "withdraw", func(ctx context.Context, _ consent.Actor, id string) (dsr.View, error) {
		return h.req.Withdraw(ctx, demoPerson("demo-1008"), id)
	})

	// Extended: Sofia Marin's access request under the GDPR (one month,
	// two more when told within the first).
	sofia := h.request(20, dsr.Input{Type: "access", Jurisdiction: "EU", Language: "en", SubjectID: "demo-1004", Verification: "operator", Evidence: "replied from her registered email address"})
	h.act(19, sofia, "approve", h.req.Approve)
	h.act(4, sofia, "extend", func(ctx context.Context, a consent.Actor, id string) (dsr.View, error) {
		return h.req.Extend(ctx, a, id, "Your notes go back eight years and include many attachments; gathering them from our archive takes longer than a month.")
	})

	// Awaiting the subject: Alex Chen's correction needs her document.
	alex := h.request(9, dsr.Input{Type: "correction", Language: "en", SubjectID: "demo-1002", Verification: "operator", Evidence: "replied from her registered email address",
		Details: json.RawMessage(`{"correction":{"name":"Alex Chen"}}`)})
	h.act(8, alex, "approve", h.req.Approve)
	h.act(8, alex, "ask", func(ctx context.Context, a consent.Actor, id string) (dsr.View, error) {
		return h.req.AwaitSubject(ctx, a, id, "Please send a scan of the page of your ID document that shows your name as it should be spelled.")
	})

	// In progress: Zhao Min's account cancellation, in its cooling-off
	// period; and Zhou Jie's withdrawal of consent, due within days.
	zhao := h.request(6, dsr.Input{Type: "cancel_account", Language: "zh-CN", SubjectID: "demo-1010", Verification: "operator", Evidence: "requested in the app while signed in"})
	h.act(5.9, zhao, "approve", h.req.Approve)
	h.act(5.8, zhao, "schedule", func(ctx context.Context, a consent.Actor, id string) (dsr.View, error) {
		return h.req.Complete(ctx, a, id, dsr.CompleteInput{})
	})
	zhou := h.request(1.2, dsr.Input{Type: "withdraw_consent", Language: "zh-CN", SubjectID: "demo-1005", Verification: "operator", Evidence: "called from his registered phone number",
		Details: json.RawMessage(`{"purposes":["push_notifications"]}`)})
	h.act(1, zhou, "approve", h.req.Approve)

	// Verified, not started: Chen Jing asked by phone for a copy this morning.
	h.request(0.2, dsr.Input{Type: "copy", Language: "zh-CN", SubjectID: "demo-1006", Verification: "operator", Evidence: "called from her registered phone number"})

	// Awaiting verification: a request through the privacy center whose
	// code was never entered (it was sent to Zhou Jie's address).
	h.at(0.1, "public request", func(ctx context.Context) error {
		_, err := h.req.SubmitPublic(ctx, demoVisitor,
			dsr.Input{Type: "access", Language: "zh-CN", Identity: &consent.IdentityInput{Kind: "email", Value: "zhou.jie@example.com"}})
		return err
	})

	// Cancelled: a request for an address nobody registered, whose
	// requester guessed codes until the request was cancelled.
	var guessed dsr.Accepted
	h.at(8, "unknown requester", func(ctx context.Context) error {
		var err error
		guessed, err = h.req.SubmitPublic(ctx, demoVisitor, dsr.Input{Type: "deletion", Language: "en", Identity: &consent.IdentityInput{Kind: "email", Value: "no.one@example.net"}})
		return err
	})
	h.at(7.9, "guess codes", func(ctx context.Context) error {
		for i := range 6 {
			if _, err := h.req.Verify(ctx, demoVisitor, guessed.ID, guessed.AccessToken, fmt.Sprintf("%06d", 111111*(i+1))); err == nil {
				return fmt.Errorf("a guessed code was accepted")
			}
		}
		return nil
	})
}

// register creates a subject, through the service the application calls.
func (h *history) register(days float64, in consent.SubjectInput) {
	h.at(days, "register "+in.ID, func(ctx context.Context) error {
		_, err := h.svc.CreateSubject(ctx, demoApp, in)
		return err
	})
}

// grant records consents given on the banner, a minute after days.
func (h *history) grant(days float64, id, lang string, purposes ...string) {
	h.at(days-1.0/24/60, "consent of "+id, func(ctx context.Context) error {
		_, err := h.svc.Record(ctx, demoPerson(id), id, consent.ConsentInput{Grant: purposes, Method: "banner", Language: lang, NoticeHash: demoNotice()})
		return err
	})
}

// grantSeparate records a separate consent, asked on its own in the app.
func (h *history) grantSeparate(days float64, id, lang, purpose string) {
	h.at(days, "separate consent of "+id, func(ctx context.Context) error {
		_, err := h.svc.Record(ctx, demoPerson(id), id, consent.ConsentInput{Grant: []string{purpose}, Separate: true, Method: "app_dialog", Language: lang, NoticeHash: demoNotice()})
		return err
	})
}

// withdraw records consents withdrawn in the privacy center.
func (h *history) withdraw(days float64, id, lang string, purposes ...string) {
	h.at(days, "withdrawal of "+id, func(ctx context.Context) error {
		_, err := h.svc.Record(ctx, demoPerson(id), id, consent.ConsentInput{Withdraw: purposes, Method: "privacy_center", Language: lang, NoticeHash: demoNotice()})
		return err
	})
}

// accept records the acceptance of version 3.1 in the app's dialog.
func (h *history) accept(days float64, id, lang string) {
	sum := sha256.Sum256(examples.StarterV2)
	h.at(days, "acceptance of "+id, func(ctx context.Context) error {
		_, err := h.svc.Accept(ctx, demoPerson(id), id, consent.AcceptanceInput{Version: demoV2, Method: "app_dialog", Language: lang, NoticeHash: hex.EncodeToString(sum[:])})
		return err
	})
}

// request takes a request at days; the returned id is set once it runs.
func (h *history) request(days float64, in dsr.Input) *string {
	id := new(string)
	h.at(days, in.Type+" request of "+in.SubjectID, func(ctx context.Context) error {
		v, err := h.req.SubmitOperator(ctx, demoStaff, in)
		*id = v.ID
		return err
	})
	return id
}

// act moves a request on, as the demo's operator.
func (h *history) act(days float64, id *string, what string, do func(context.Context, consent.Actor, string) (dsr.View, error)) {
	h.at(days, what, func(ctx context.Context) error {
		_, err := do(ctx, demoStaff, *id)
		return err
	})
}
