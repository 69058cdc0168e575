package dsr_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/dsr"
)

// TestRefusal: a refusal names one of the manifest's refusal_grounds and
// explains itself, and the subject is told.
func TestRefusal(t *testing.T) {
	e := newEnv(t, starterManifest, chinaTime("2026-06-01 10:00"))
	const email = "sun.lei@example.com"
	e.subject("st-5001", email, "", nil)
	id := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-5001"}).ID
	const why = "This is the fourth identical request this week; the copy sent on Monday is complete."
	tests := []struct {
		name, ground, explanation string
		status                    int
		code                      string
	}{
		{"ground not in the manifest", "too_busy", why, 422, "invalid_ground"},
		// manifestly_excessive is the GDPR's; the request is under CN law.
		{"another jurisdiction's ground", "manifestly_excessive", why, 422, "invalid_ground"},
		{"no ground", "", why, 422, "invalid_ground"},
		{"no explanation", "bad_faith", "", 422, "explanation_required"},
		{"ground and explanation", "bad_faith", why, 200, ""},
		{"refused twice", "bad_faith", why, 409, "invalid_transition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do("POST", "/v1/requests/"+id+"/refuse", e.op, mustJSON(api.RefuseInput{Ground: tt.ground, Explanation: tt.explanation}))
			if res.Code != tt.status || errorCode(res.Body) != tt.code {
				t.Errorf("refuse = %d %s, want %d %q", res.Code, res.Body, tt.status, tt.code)
			}
		})
	}
	got := e.get(id)
	if got.State != dsr.StateRefused || got.RefusalGround != "bad_faith" || got.Explanation != why {
		t.Errorf("request = state %s, ground %q, explanation %q", got.State, got.RefusalGround, got.Explanation)
	}
	if diff := cmp.Diff([]string{"request_received", "request_refused"}, e.templates(id)); diff != "" {
		t.Errorf("messages queued (-want +got):\n%s", diff)
	}
	e.dispatch()
	var refused []string
	for _, m := range e.sent.all() {
		if strings.Contains(m.Text, "Status: refused") {
			refused = append(refused, m.To+" | "+m.Subject)
			if !strings.Contains(m.Text, why) {
				t.Errorf("the refusal does not give the explanation:\n%s", m.Text)
			}
		}
	}
	if diff := cmp.Diff([]string{email + " | We cannot act on your request " + id}, refused); diff != "" {
		t.Errorf("refusals sent (-want +got):\n%s", diff)
	}
	e.noPI(email)
}

// TestDuplicatesAndRepeats: a request of a kind already open for the same
// subject is merged into the open one; requests beyond the manifest's fee
// window count (starter: rights.fees repeated_count 4 in 12 months) are
// flagged with the fee policy.
func TestDuplicatesAndRepeats(t *testing.T) {
	start := chinaTime("2026-06-01 10:00")
	const email = "zhou.xin@example.com"
	cancelled := func(t *testing.T, e *env) []dsr.View {
		t.Helper()
		var l api.RequestList
		e.must(200, "GET", "/v1/requests?"+url.Values{"subject_id": {"st-6001"}, "state": {"cancelled"}}.Encode(), e.op, "", &l)
		return l.Requests
	}

	t.Run("public request merged on verification", func(t *testing.T) {
		e := newEnv(t, starterManifest, start)
		e.subject("st-6001", email, "", nil)
		open := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-6001"}).ID
		e.act(open, "approve", nil)
		id := e.submitPublic("access", "email", email, nil)
		got := e.verify(id, e.code(id))
		if got.State != dsr.StateCancelled || got.DuplicateOf != open {
			t.Errorf("verified duplicate = state %s, duplicate_of %q; want cancelled, %s", got.State, got.DuplicateOf, open)
		}
		if v := e.get(open); v.State != dsr.StateInProgress || v.DuplicateOf != "" {
			t.Errorf("open request = state %s, duplicate_of %q", v.State, v.DuplicateOf)
		}
		// A request of another kind is not a duplicate.
		other := e.submitPublic("deletion", "email", email, nil)
		if v := e.verify(other, e.code(other)); v.State != dsr.StateVerified || v.DuplicateOf != "" {
			t.Errorf("deletion = state %s, duplicate_of %q", v.State, v.DuplicateOf)
		}
		e.noPI(email)
	})

	t.Run("operator request merged at intake", func(t *testing.T) {
		e := newEnv(t, starterManifest, start)
		e.subject("st-6001", email, "", nil)
		open := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-6001"}).ID
		// The answer is the open request the new one was merged into.
		if got := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-6001"}); got.ID != open || got.State != dsr.StateVerified {
			t.Errorf("duplicate intake answered %s (%s), want the open request %s", got.ID, got.State, open)
		}
		merged := cancelled(t, e)
		if len(merged) != 1 || merged[0].DuplicateOf != open || merged[0].ID == open {
			t.Errorf("cancelled requests = %+v, want one merged into %s", merged, open)
		}
	})

	t.Run("operator-verified request merged", func(t *testing.T) {
		e := newEnv(t, starterManifest, start)
		e.subject("st-6001", email, "", nil)
		open := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-6001"}).ID
		id := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-6001", "verification": "otp"}).ID
		var got dsr.View
		e.must(200, "POST", "/v1/requests/"+id+"/verify", e.op, `{"evidence":"called back on the number on file"}`, &got)
		if v := e.get(id); v.State != dsr.StateCancelled || v.DuplicateOf != open {
			t.Errorf("operator-verified duplicate = state %s, duplicate_of %q; want cancelled, %s", v.State, v.DuplicateOf, open)
		}
	})

	t.Run("merged only within the same jurisdiction and type", func(t *testing.T) {
		// starter: access is due in 15 working days in CN ("standard") and
		// in one month in the EU ("gdpr"). From Monday 1 June 2026: CN 2-5
		// June (4), 8-12 (9), 15-18 (13), 19 June Dragon Boat, 22-23 (15):
		// 23 June; EU 1 July.
		e := newEnv(t, starterManifest, start)
		e.subject("st-6001", email, "", nil)
		eu := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-6001", "jurisdiction": "EU"})
		e.act(eu.ID, "approve", nil)
		cn := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-6001", "jurisdiction": "CN"})
		if cn.ID == eu.ID || cn.State != dsr.StateVerified || cn.DuplicateOf != "" {
			t.Errorf("CN request = %s state %s duplicate_of %q; want its own request beside the EU one %s", cn.ID, cn.State, cn.DuplicateOf, eu.ID)
		}
		got := map[string]string{"EU": e.get(eu.ID).DueDate, "CN": e.get(cn.ID).DueDate}
		if diff := cmp.Diff(map[string]string{"EU": "2026-07-01", "CN": "2026-06-23"}, got); diff != "" {
			t.Errorf("due dates (-want +got):\n%s", diff)
		}
		// A second CN access request still merges into the open CN one.
		again := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-6001", "jurisdiction": "CN"})
		if again.ID != cn.ID {
			t.Errorf("second CN request answered %s (%s), want the open CN request %s", again.ID, again.Jurisdiction, cn.ID)
		}
		merged := cancelled(t, e)
		if len(merged) != 1 || merged[0].DuplicateOf != cn.ID || merged[0].Jurisdiction != "CN" {
			t.Errorf("cancelled requests = %+v, want one CN request merged into %s", merged, cn.ID)
		}
	})

	t.Run("repeated within the fee window", func(t *testing.T) {
		e := newEnv(t, starterManifest, start)
		e.subject("st-6001", email, "", nil)
		// Each request is completed before the next, so none is a duplicate.
		// The fifth within 12 months has four before it: repeated. On day
		// 420 (26 July 2027) the window starts on 26 July 2026 and holds only
		// the requests of days 60, 90 and 120.
		tests := []struct {
			day      int
			repeated bool
		}{{0, false}, {30, false}, {60, false}, {90, false}, {120, true}, {420, false}}
		for _, tt := range tests {
			e.clock.Set(start.AddDate(0, 0, tt.day))
			v := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-6001"})
			want := dsr.Flags{Evidence: "identity card checked at the counter, ref OP-1"}
			if tt.repeated {
				want.Repeated, want.FeePolicy = true, "free_except_repeated"
			}
			if diff := cmp.Diff(want, e.get(v.ID).Flags); diff != "" {
				t.Errorf("day %d: flags (-want +got):\n%s", tt.day, diff)
			}
			e.act(v.ID, "approve", nil)
			e.act(v.ID, "complete", map[string]string{})
		}
		if got := cancelled(t, e); len(got) != 0 {
			t.Errorf("requests merged: %+v", got)
		}
	})

	t.Run("repeats counted within one jurisdiction", func(t *testing.T) {
		// Four EU requests do not make a CN request repeated: each law
		// counts the requests made under it.
		e := newEnv(t, starterManifest, start)
		e.subject("st-6001", email, "", nil)
		tests := []struct {
			day          int
			jurisdiction string
			repeated     bool
		}{{0, "EU", false}, {30, "EU", false}, {60, "EU", false}, {90, "EU", false}, {100, "CN", false}, {120, "EU", true}}
		for _, tt := range tests {
			e.clock.Set(start.AddDate(0, 0, tt.day))
			v := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-6001", "jurisdiction": tt.jurisdiction})
			if got := e.get(v.ID).Flags.Repeated; got != tt.repeated {
				t.Errorf("day %d (%s): repeated %v, want %v", tt.day, tt.jurisdiction, got, tt.repeated)
			}
			e.act(v.ID, "approve", nil)
			e.act(v.ID, "complete", map[string]string{})
		}
	})
}

// TestClockRules: time spent waiting on the subject follows the deadline's
// clock rule. starter says pause for every deadline; yonyou-cloud's EU
// deadline says restart.
func TestClockRules(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name, manifest, jurisdiction string
		received                     time.Time
		due, dueAfter                string
		runs                         bool // the policy states no rule: waiting stops nothing
	}{
		{
			// starter "gdpr": 2 March + 1 month = 2 April; paused from 4 to
			// 9 March, 5 days: 7 April.
			name: "pause, months", manifest: starterManifest, jurisdiction: "EU", received: chinaTime("2026-03-02 10:00"),
			due: "2026-04-02", dueAfter: "2026-04-07",
		},
		{
			// starter "standard", 15 working days from Tuesday 3 March: 3-6
			// (4), 9-13 (9), 16-20 (14), 23 March (15). Paused 5 days, the
			// count restarts from Saturday 7 March: 9-13 (5), 16-20 (10),
			// 23-27 (15), Friday 27 March. (Five calendar days added to 23
			// March would end on Saturday 28 March.)
			name: "pause, working days", manifest: starterManifest, jurisdiction: "CN", received: chinaTime("2026-03-02 10:00"),
			due: "2026-03-23", dueAfter: "2026-03-27",
		},
		{
			// yonyou-cloud "eu": 11 May + 30 days = 10 June; the period
			// starts again when the subject answers on 18 May: 17 June.
			name: "restart", manifest: yonyouManifest, jurisdiction: "EU", received: chinaTime("2026-05-11 10:00"),
			due: "2026-06-10", dueAfter: "2026-06-17",
		},
		{
			// smart-device-app states no rule: its 30 days run from
			// receipt, as its text says, waiting or not.
			name: "no rule stated", manifest: smartManifest, received: chinaTime("2026-03-02 10:00"),
			due: "2026-04-01", dueAfter: "2026-04-01", runs: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.manifest, tt.received)
			e.subject("cl-7001", "ma.jun@example.com", "", nil)
			in := map[string]any{"type": "access", "subject_id": "cl-7001"}
			if tt.jurisdiction != "" {
				in["jurisdiction"] = tt.jurisdiction
			}
			v := e.submitOperator(in)
			if v.DueDate != tt.due {
				t.Fatalf("due at intake = %s, want %s", v.DueDate, tt.due)
			}
			e.act(v.ID, "approve", nil)
			e.clock.Advance(2 * day)
			w := e.act(v.ID, "await", map[string]string{"reason": "please send the order number the data relates to"})
			if w.State != dsr.StateAwaitingSubject || w.ClockPaused == tt.runs || w.DueDate != tt.due {
				t.Errorf("awaiting = state %s, paused %v, due %s", w.State, w.ClockPaused, w.DueDate)
			}
			e.clock.Advance(5 * day)
			r := e.act(v.ID, "resume", nil)
			if r.State != dsr.StateInProgress || r.ClockPaused || r.DueDate != tt.dueAfter {
				t.Errorf("resumed = state %s, paused %v, due %s; want in_progress, running, %s", r.State, r.ClockPaused, r.DueDate, tt.dueAfter)
			}
			if got := e.get(v.ID).DueDate; got != tt.dueAfter {
				t.Errorf("stored due date = %s, want %s", got, tt.dueAfter)
			}
		})
	}

	t.Run("the subject is asked", func(t *testing.T) {
		e := newEnv(t, starterManifest, chinaTime("2026-03-02 10:00"))
		e.subject("cl-7001", "ma.jun@example.com", "", nil)
		id := e.submitOperator(map[string]any{"type": "access", "subject_id": "cl-7001"}).ID
		e.act(id, "approve", nil)
		e.act(id, "await", map[string]string{"reason": "please send the order number the data relates to"})
		if diff := cmp.Diff([]string{"request_received", "request_in_progress", "request_awaiting_subject"}, e.templates(id)); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}
	})
}

// TestRefusalOnStatedLimits: the grounds a policy's limits text states
// (limit_grounds) are grounds the workflow refuses on under any
// jurisdiction; a policy that states none (Yonyou Cloud) has only what the
// law gives, and the GDPR does not give this one.
func TestRefusalOnStatedLimits(t *testing.T) {
	for _, tt := range []struct {
		name, manifest, jurisdiction string
		status                       int
		code                         string
	}{
		{"starter states the limit", starterManifest, "EU", 200, ""},
		{"yonyou-cloud does not", yonyouManifest, "EU", 422, "invalid_ground"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.manifest, chinaTime("2026-06-01 10:00"))
			e.subject("st-5002", "zhou.min@example.com", "", nil)
			id := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-5002", "jurisdiction": tt.jurisdiction}).ID
			res := e.do("POST", "/v1/requests/"+id+"/refuse", e.op, mustJSON(api.RefuseInput{Ground: "unreasonably_repeated", Explanation: "The same export was sent three times this week."}))
			if res.Code != tt.status || errorCode(res.Body) != tt.code {
				t.Errorf("refuse = %d %s, want %d %q", res.Code, res.Body, tt.status, tt.code)
			}
		})
	}
}

// TestStatutoryRefusalGrounds: a request may be refused on the grounds
// the law of its jurisdiction gives whether or not the policy lists them
// (CN: GB/T 35273-2020 §8.7 and the PIPL; EU: the GDPR), and on the limits
// the policy states; never on another jurisdiction's. The subject is told
// the ground in the policy's or the law's words, in their language.
func TestStatutoryRefusalGrounds(t *testing.T) {
	tests := []struct {
		name, manifest, kind, jurisdiction, lang, ground string
		status                                           int
		code                                             string
		told                                             string // the ground's words in the message
	}{
		// Yonyou Cloud lists no refusal grounds; its EU text names trade
		// secrets among others' rights, and §8.7 h) gives them in CN.
		{name: "yonyou-cloud, trade secret, Chinese", manifest: yonyouManifest, jurisdiction: "CN", lang: "zh-CN", ground: "trade_secret", status: 200, told: "拒绝依据：涉及商业秘密"},
		{name: "yonyou-cloud, trade secret, English", manifest: yonyouManifest, jurisdiction: "CN", lang: "en", ground: "trade_secret", status: 200, told: "Ground: it involves trade secrets"},
		{name: "yonyou-cloud, others' rights under the GDPR", manifest: yonyouManifest, jurisdiction: "EU", lang: "en", ground: "rights_of_others", status: 200,
			told: "Ground: answering the request would adversely affect the rights and freedoms of others, including trade secrets or intellectual property"},
		{name: "yonyou-cloud, not technically feasible", manifest: yonyouManifest, jurisdiction: "EU", lang: "en", ground: "not_technically_feasible", status: 200,
			told: "Ground: transmitting your personal data directly to another controller is not technically feasible"},
		// deepin's limits: backup tapes are "非常不切实际", and groundless
		// repetition: its own words.
		{name: "deepin, backup tapes", manifest: deepinManifest, lang: "zh-CN", ground: "impractical", status: 200, told: "拒绝依据：非常不切实际的请求"},
		{name: "deepin, groundless repetition", manifest: deepinManifest, lang: "en", ground: "unreasonably_repeated", status: 200, told: "Ground: the request is repeated without reason"},
		{name: "deepin, excessive technical means", manifest: deepinManifest, lang: "en", ground: "excessive_technical_means", status: 200, told: "Ground: the request would need excessive technical means"},
		{name: "EU request, manifestly excessive", manifest: starterManifest, jurisdiction: "EU", lang: "en", ground: "manifestly_excessive", status: 200,
			told: "Ground: the request is manifestly excessive, in particular because of its repetitive character"},
		{name: "EU request, manifestly excessive, Chinese", manifest: yonyouManifest, jurisdiction: "EU", lang: "zh-CN", ground: "manifestly_excessive", status: 200,
			told: "拒绝依据：您的请求明显过度的，特别是因其重复性"},
		{name: "CN request, a GDPR ground", manifest: yonyouManifest, jurisdiction: "CN", lang: "en", ground: "manifestly_excessive", status: 422, code: "invalid_ground"},
		{name: "EU request, a GB/T ground", manifest: yonyouManifest, jurisdiction: "EU", lang: "en", ground: "trade_secret", status: 422, code: "invalid_ground"},
		// ... unless the right's own conditions state it: Yonyou Cloud's EU
		// copy "会揭露…商业秘密".
		{name: "yonyou-cloud, EU copy, trade secret its text states", manifest: yonyouManifest, kind: "copy", jurisdiction: "EU", lang: "en", ground: "trade_secret", status: 200,
			told: "Ground: it involves trade secrets"},
		{name: "no jurisdiction declared, a GDPR ground", manifest: deepinManifest, lang: "en", ground: "manifestly_unfounded", status: 422, code: "invalid_ground"},
		// deepin declares no jurisdiction; its controllers are established in
		// CN, so CN's law gives grounds its policy does not list.
		{name: "no jurisdiction declared, the controller's law", manifest: deepinManifest, lang: "en", ground: "identity_unverified", status: 200, told: "Ground: we cannot verify your identity"},
		{name: "no jurisdiction declared, the controller's law, a retention period", manifest: smartManifest, lang: "zh-CN", ground: "retention_required", status: 200,
			told: "拒绝依据：法律、行政法规规定的保存期限未届满的"},
		// openGemini names no country for its controller: only its own grounds.
		{name: "no jurisdiction, no country", manifest: geminiManifest, lang: "en", ground: "retention_required", status: 422, code: "invalid_ground"},
	}
	const email = "qian.yu@example.com"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.manifest, chinaTime("2026-06-01 10:00"))
			e.subject("rg-1001", email, "", nil)
			kind := tt.kind
			if kind == "" {
				kind = "access"
			}
			in := map[string]any{"type": kind, "subject_id": "rg-1001", "language": tt.lang}
			if tt.jurisdiction != "" {
				in["jurisdiction"] = tt.jurisdiction
			}
			id := e.submitOperator(in).ID
			res := e.do("POST", "/v1/requests/"+id+"/refuse", e.op, mustJSON(api.RefuseInput{Ground: tt.ground, Explanation: "说明 / explanation"}))
			if res.Code != tt.status || errorCode(res.Body) != tt.code {
				t.Fatalf("refuse = %d %s, want %d %q", res.Code, res.Body, tt.status, tt.code)
			}
			if tt.status != 200 {
				if got := e.get(id).State; got != dsr.StateVerified {
					t.Errorf("state after a refused refusal = %s", got)
				}
				return
			}
			e.dispatch()
			var refusal string
			for _, m := range e.sent.all() {
				if strings.Contains(m.Text, id) && (strings.Contains(m.Text, "Status: refused") || strings.Contains(m.Text, "状态：已拒绝")) {
					refusal = m.Text
				}
			}
			if !strings.Contains(refusal, tt.told) {
				t.Errorf("the refusal does not give the ground as %q:\n%s", tt.told, refusal)
			}
			if words := englishIn(strings.ReplaceAll(refusal, "explanation", "")); tt.lang == "zh-CN" && len(words) > 0 {
				t.Errorf("the Chinese refusal holds English %q:\n%s", words, refusal)
			}
			e.noPI(email)
		})
	}
}

// TestNoMessageChannel: where no channel carries one-time codes, the
// public intake and the operator's code verification say so
// (no_message_channel) rather than accept a request whose code goes
// nowhere; a channel that works still does.
func TestNoMessageChannel(t *testing.T) {
	smsOnly := func(o *dsr.Options) { o.Delivers = func(ch string) bool { return ch == "sms" } }
	e := newEnv(t, starterManifest, chinaTime("2026-06-01 10:00"), smsOnly)
	e.subject("st-6001", "wu.fang@example.com", "", nil)
	in := map[string]any{"type": "access", "language": "en", "identity": map[string]string{"kind": "email", "value": "wu.fang@example.com"}}
	res := e.do("POST", "/v1/public/requests", "", mustJSON(in))
	if res.Code != 503 || errorCode(res.Body) != "no_message_channel" {
		t.Errorf("public request by email without an email channel = %d %s, want 503 no_message_channel", res.Code, res.Body)
	}
	// The answer is the same for an identity nobody has.
	in["identity"] = map[string]string{"kind": "email", "value": "nobody@example.com"}
	if res := e.do("POST", "/v1/public/requests", "", mustJSON(in)); res.Code != 503 || errorCode(res.Body) != "no_message_channel" {
		t.Errorf("unknown identity = %d %s, want the same 503", res.Code, res.Body)
	}
	in["identity"] = map[string]string{"kind": "phone", "value": "13800138000"}
	if res := e.do("POST", "/v1/public/requests", "", mustJSON(in)); res.Code != 202 {
		t.Errorf("public request by phone with an SMS channel = %d %s, want 202", res.Code, res.Body)
	}
	op := e.do("POST", "/v1/requests", e.op, mustJSON(map[string]any{"type": "access", "subject_id": "st-6001", "verification": "otp", "language": "en"}))
	if op.Code != 503 || errorCode(op.Body) != "no_message_channel" {
		t.Errorf("operator code by email without an email channel = %d %s, want 503 no_message_channel", op.Code, op.Body)
	}
}
