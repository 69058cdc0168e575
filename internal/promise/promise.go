// Package promise lists what a rendered policy promises and, for each
// promise, what keeps it: a Custos component with the test that proves it,
// a setting of the deployment, the organisation itself, or nothing yet.
//
// The map is built from the same manifest fields the renderer reads, so a
// promise appears here exactly when the policy makes it. The CLI prints it
// (custos policy promises) and the console shows it with the deployment's
// live status.
package promise

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/vault"
)

// Keeper says what keeps a promise.
type Keeper string

const (
	// Enforced: a Custos component keeps the promise; Test proves it.
	Enforced Keeper = "enforced"
	// Configured: a Custos component keeps the promise once the deployment
	// sets what Needs names.
	Configured Keeper = "configured"
	// Organisational: a measure Custos cannot check, stated as the
	// organisation's own.
	Organisational Keeper = "organisational"
	// NotKept: Custos could keep the promise but nothing does yet; Why says so.
	NotKept Keeper = "not_kept"
)

// Promise is one promise of the rendered policy.
type Promise struct {
	ID        string        `json:"id"`    // stable: kind and the manifest id it concerns
	Kind      string        `json:"kind"`  // right, deadline, consent, minors, signal, retention, …
	Field     string        `json:"field"` // the manifest path that makes the promise
	Says      manifest.Text `json:"says"`  // the promise, in short
	Keeper    Keeper        `json:"keeper"`
	Component string        `json:"component,omitempty"` // what keeps it
	Test      string        `json:"test,omitempty"`      // the test that proves it
	Needs     string        `json:"needs,omitempty"`     // what the deployment must set (configured)
	Why       string        `json:"why,omitempty"`       // why it is not kept, or what Custos cannot check
}

// Deployment is what a running Custos knows about its own configuration.
// A nil Deployment (a manifest read on its own) leaves every promise that
// depends on configuration as Configured.
type Deployment struct {
	// MessageChannel is true when notices reach people: an SMTP relay is
	// configured (a notice directory is a development sink, not delivery).
	MessageChannel bool
	// Dataset is the annotation of the organisation's databases, which
	// says what keeps each retention rule there; nil when none is configured.
	Dataset *dataset.Dataset
}

// Map lists the promises of the policy m renders, in policy order.
func Map(m *manifest.Manifest, d *Deployment) []Promise {
	var ds *dataset.Dataset
	if d != nil {
		ds = d.Dataset
	}
	return MapWith(m, d, ds)
}

// MapWith is Map knowing the dataset annotation of the organisation's
// databases (nil: none), which says what keeps each retention rule there.
func MapWith(m *manifest.Manifest, d *Deployment, ds *dataset.Dataset) []Promise {
	b := &builder{m: m, d: d, ds: ds}
	b.purposes()
	b.signals()
	b.sdks()
	b.sharing()
	b.security()
	b.storage()
	b.rights()
	b.minors()
	b.updates()
	b.contact()
	return b.out
}

// Unkept returns the promises Custos could keep that nothing keeps.
func Unkept(ps []Promise) []Promise {
	var out []Promise
	for _, p := range ps {
		if p.Keeper == NotKept {
			out = append(out, p)
		}
	}
	return out
}

// Counts tallies promises by keeper.
func Counts(ps []Promise) map[Keeper]int {
	out := map[Keeper]int{}
	for _, p := range ps {
		out[p.Keeper]++
	}
	return out
}

type builder struct {
	m   *manifest.Manifest
	d   *Deployment
	ds  *dataset.Dataset
	out []Promise
}

func (b *builder) add(p Promise) { b.out = append(b.out, p) }

// text formats a promise in both languages: the first half of args fills
// the Chinese format, the second half the English one.
func text(zh, en string, args ...any) manifest.Text {
	half := len(args) / 2
	return manifest.Text{"zh": fmt.Sprintf(zh, args[:half]...), "en": fmt.Sprintf(en, args[half:]...)}
}

func (b *builder) name(t manifest.Text) (string, string) { return t.In("zh"), t.In("en") }

// messages marks a promise kept by sending notices: enforced when the
// deployment has a message channel, configured otherwise.
func (b *builder) messages(p Promise) Promise {
	switch {
	case b.d != nil && b.d.MessageChannel:
		p.Keeper = Enforced
	case b.d != nil:
		p.Keeper, p.Needs = Configured, "an SMTP relay (CUSTOS_SMTP_ADDR): without one these notices are queued, or written to CUSTOS_NOTIFY_DIR, but reach no one"
	default:
		p.Keeper, p.Needs = Configured, "an SMTP relay (CUSTOS_SMTP_ADDR) for the notices to reach people"
	}
	return p
}

func (b *builder) purposes() {
	for i, p := range b.m.Purposes {
		field := fmt.Sprintf("purposes[%d]", i)
		zh, en := b.name(p.Name)
		if p.BasisInferred {
			continue // the policy states no basis for it: nothing promised
		}
		bases := p.AllBases()
		if slices.Contains(bases, "consent") {
			says := text("仅在您同意后为“%s”处理，可随时撤回", "%s only with your consent, which you may withdraw at any time", zh, en)
			test := "internal/check TestDecideReasons; internal/consent TestGrantWithdrawFlows"
			if p.SeparateConsent {
				says = text("仅在您单独同意后为“%s”处理", "%s only with your separate consent", zh, en)
				test = "internal/check TestSeparatePurposesOnlyConsent, TestDecideReasons"
			}
			b.add(Promise{ID: "consent:" + p.ID, Kind: "consent", Field: field + ".basis", Says: says, Keeper: Enforced,
				Component: "decision point (internal/check) over the consent ledger (internal/consent)", Test: test})
		}
		if slices.ContainsFunc(bases, manifest.ObjectableBasis) {
			says := text("您可以反对为“%s”进行的处理", "you may object to processing for %s", zh, en)
			if p.DirectMarketing {
				says = text("您反对为“%s”进行的处理后，我们即停止", "an objection to %s always stops it", zh, en)
			}
			b.add(Promise{ID: "objection:" + p.ID, Kind: "objection", Field: field + ".basis", Says: says, Keeper: Enforced,
				Component: "decision point (internal/check): objected, objection_overridden", Test: "internal/check TestDecideReasons"})
		}
		if p.AutomatedDecision && p.Automation == nil {
			b.add(Promise{ID: "automated:" + p.ID, Kind: "automated_decision", Field: field + ".automated_decision",
				Says: text("对“%s”中的自动化决策予以说明", "automated decisions in %s are explained on request", zh, en), Keeper: Organisational,
				Why: "the explanation is written by the organisation (declare automation to have Custos give the policy's account); Custos tracks the request and its deadline"})
		}
		if p.AutomatedDecision && p.Automation != nil {
			b.add(Promise{ID: "automated:" + p.ID, Kind: "automated_decision", Field: field + ".automation",
				Says: text("对“%s”中的自动化决策予以说明", "automated decisions in %s are explained on request", zh, en), Keeper: Enforced,
				Component: "rights requests (internal/dsr): the answer carries the purpose's declared logic, significance, effects and human review, with the operator's words on the case",
				Test:      "internal/dsr TestAutomatedDecisionExplained"})
		}
	}
}

func (b *builder) signals() {
	for i, s := range b.m.Signals {
		if s.Stance != manifest.SignalHonour {
			continue
		}
		b.add(Promise{ID: "signal:" + s.Signal, Kind: "signal", Field: fmt.Sprintf("signals[%d]", i),
			Says:   text("浏览器发送 %s 信号时，按本政策所列拒绝相应目的", "a %s signal refuses the purposes the policy lists", s.Signal, s.Signal),
			Keeper: Enforced, Component: "consent ledger and banner (internal/consent signals)", Test: "internal/consent TestBrowserSignals, TestSignalObjects"})
	}
}

func (b *builder) sdks() {
	for i, s := range b.m.SDKs {
		zh, en := b.name(s.Name)
		b.add(Promise{ID: "sdk:" + s.ID, Kind: "sdk", Field: fmt.Sprintf("sdks[%d]", i),
			Says:   text("%s 仅收集所列个人信息", "%s collects only the information listed", zh, en),
			Keeper: Organisational, Why: "the SDK runs inside the organisation's app, outside Custos"})
	}
}

func (b *builder) sharing() {
	m := b.m
	for i, r := range m.Recipients {
		zh, en := b.name(r.Name)
		field := fmt.Sprintf("recipients[%d]", i)
		if r.SeparateConsent {
			b.add(Promise{ID: "recipient_consent:" + r.ID, Kind: "separate_consent", Field: field + ".separate_consent",
				Says:   text("向%s提供前取得您的单独同意", "your separate consent before anything goes to %s", zh, en),
				Keeper: Enforced, Component: "decision point (internal/check), act recipient:" + r.ID, Test: "internal/check TestDecideReasons"})
		}
		if r.Kind == "authority" || r.Kind == "user_directed" {
			continue // authorities and those the person chose are not told of erasure
		}
		p := Promise{ID: "recipient_notice:" + r.ID, Kind: "recipient_notice", Field: field,
			Says:      text("删除或更正您的个人信息时通知%s", "erasure or correction of your information is passed on to %s", zh, en),
			Component: "propagation tasks (internal/propagate)"}
		switch {
		case r.Endpoint != "":
			p.Keeper, p.Test = Enforced, "internal/propagate TestRunOnce"
			p.Component += " to " + r.Endpoint
		case r.NoticeEmail != "":
			p = b.messages(p)
			p.Test = "internal/server TestRecipientEmailNotice"
			p.Component += " by email"
		default:
			p.Keeper, p.Why = NotKept, "no endpoint or notice_email: the recipient is never told of an erasure or correction"
		}
		b.add(p)
	}
	if pd := m.Sharing.PublicDisclosure; pd != nil && pd.SeparateConsent {
		b.add(Promise{ID: "disclosure", Kind: "separate_consent", Field: "sharing.public_disclosure.separate_consent",
			Says:   text("公开披露前取得您的单独同意（法律要求的除外）", "your separate consent before a public disclosure, except where the law requires it"),
			Keeper: Enforced, Component: "decision point (internal/check), act disclosure", Test: "internal/check TestDecideReasons"})
	}
	if tr := m.Sharing.Transfer; tr != nil && tr.Notify {
		b.add(Promise{ID: "transfer_notice", Kind: "transfer_notice", Field: "sharing.transfer.notify",
			Says:   text("因合并等原因转移个人信息时告知接收方名称和联系方式", "you are told the new holder's name and contact on a merger or similar transfer"),
			Keeper: NotKept, Why: "Custos has no notice for a change of holder; the change-notice outbox could carry one"})
	}
	for _, f := range []struct {
		on          bool
		id, field   string
		says        manifest.Text
		organisOnly string
	}{
		{m.Sharing.EntrustingTerms, "entrusting_terms", "sharing.entrusting_terms", text("受托方按约定处理，不得用于其他目的", "entrusted processors process only as agreed"), "contracts with processors"},
		{m.Sharing.IndependentTerms, "independent_terms", "sharing.independent_terms", text("接收方变更处理目的须重新取得同意", "independent recipients ask again before changing purpose"), "the recipients' own conduct"},
		{m.Sharing.SDKChecks, "sdk_checks", "sharing.sdk_checks", text("对 SDK 进行安全检测并以协议约束", "SDKs are tested and bound by contract"), "vendor reviews and contracts"},
	} {
		if f.on {
			b.add(Promise{ID: f.id, Kind: "sharing", Field: f.field, Says: f.says, Keeper: Organisational, Why: f.organisOnly})
		}
	}
}

func (b *builder) security() {
	s := b.m.Security
	var vaulted []string
	for _, f := range b.m.Vault {
		vaulted = append(vaulted, f.Field)
	}
	for i, ms := range s.Measures {
		p := Promise{ID: fmt.Sprintf("measure:%d", i), Kind: "security", Field: fmt.Sprintf("security.measures[%d]", i),
			Says: ms.Text, Keeper: Organisational, Why: "a measure of the organisation's own systems"}
		if ms.Kind == "encryption" && len(vaulted) > 0 {
			// What the application keeps in the vault is sealed by Custos;
			// the rest of the measure is the organisation's.
			p.Why += "; the fields kept in Custos's vault (" + strings.Join(vaulted, ", ") + ") are sealed under each person's own key"
			p.Component, p.Test = "vault (internal/vault) over the key store (internal/keystore)", "internal/vault TestScenarios; internal/server TestNothingInTheClear, TestErasureReachesBackups"
		}
		b.add(p)
	}
	for i, c := range s.Certifications {
		b.add(Promise{ID: "certification:" + c.ID, Kind: "security", Field: fmt.Sprintf("security.certifications[%d]", i),
			Says: c.Name, Keeper: Organisational, Why: "certified by an outside body"})
	}
	if s.Incident != nil {
		b.add(b.messages(Promise{ID: "incident_notice", Kind: "incident", Field: "security.incident",
			Says:      text("发生个人信息安全事件时及时告知您", "you are told promptly of a personal-information security incident"),
			Component: "incident records with their clocks; notices to the people the incident's selection finds, in their language, through the outbox (internal/incident)",
			Test:      "internal/server TestIncidentSelectsNotifiesAndCounts"}))
	}
}

func (b *builder) storage() {
	m := b.m
	for i, l := range m.Storage.Locations {
		b.add(Promise{ID: "location:" + l.ID, Kind: "storage", Field: fmt.Sprintf("storage.locations[%d]", i),
			Says: text("存储于%s", "stored in %s", where(l, "zh"), where(l, "en")), Keeper: Organisational, Why: "where the organisation's systems run"})
	}
	for i, c := range m.Storage.CrossBorder {
		field := fmt.Sprintf("storage.cross_border[%d]", i)
		if c.SeparateConsent {
			b.add(Promise{ID: "transfer_consent:" + c.ID, Kind: "cross_border", Field: field + ".separate_consent",
				Says:   text("出境前取得您的单独同意", "your separate consent before the transfer abroad (%s)", c.ID),
				Keeper: Enforced, Component: "decision point (internal/check), act transfer:" + c.ID, Test: "internal/check TestDecideReasons"})
		}
		b.add(Promise{ID: "transfer_mechanism:" + c.ID, Kind: "cross_border", Field: field + ".mechanism",
			Says: text("出境机制：%s", "transfer mechanism: %s", c.Mechanism, c.Mechanism), Keeper: Organisational, Why: "an assessment, contract or certification held by the organisation"})
	}
	// The vault's values are the one place Custos itself deletes at the
	// end of a period (vault.Retention says which rule bounds a field).
	bounds := map[string][]string{}
	for _, f := range m.Vault {
		if rule, _, ok := vault.Retention(m, f, time.Now()); ok {
			bounds[rule] = append(bounds[rule], f.Field)
		}
	}
	for i, r := range m.Retention {
		p := Promise{ID: "retention:" + r.ID, Kind: "retention", Field: fmt.Sprintf("retention[%d]", i),
			Says:   text("保存期满后%s", "at the end of the period: %s", r.After, r.After),
			Keeper: NotKept, Why: "no dataset annotation binds the rule to the tables it governs, so no sweep enforces it: the period is printed, and nothing deletes at its end"}
		if b.ds != nil {
			b.retentionKept(&p, r)
		}
		if fields := bounds[r.ID]; len(fields) > 0 && p.Keeper == NotKept {
			p.Why += "; of what Custos keeps itself, the vault's " + strings.Join(fields, ", ") + " values are deleted at the end of the period"
			p.Component, p.Test = "vault retention sweep (internal/vault Expire, hourly in the server, custos vault expire)", "internal/vault TestExpire; internal/server TestVaultRetention"
		}
		b.add(p)
	}
	if m.Storage.ExpiryClause {
		p := Promise{ID: "expiry", Kind: "retention", Field: "storage.expiry_clause",
			Says:   text("期满删除或匿名化", "deleted or anonymised when retention ends"),
			Keeper: NotKept, Why: "no dataset annotation binds the retention rules to the tables they govern"}
		if b.ds != nil && b.ds.BindsRetention() {
			p.Keeper, p.Why, p.Component, p.Test = Enforced, "", sweepComponent, sweepTest
		}
		b.add(p)
	}
	if m.Storage.TransferTerms {
		b.add(Promise{ID: "transfer_safeguards", Kind: "cross_border", Field: "storage.transfer_safeguards",
			Says: text("境外接收方按不低于中国法律的标准保护", "recipients abroad protect to the standard of PRC law"), Keeper: Organisational, Why: "contracts with recipients abroad"})
	}
}

func where(l manifest.Location, lang string) string {
	if l.Country != "" {
		return l.Country
	}
	return l.Where.In(lang)
}

// fulfilled are the request kinds the rights workflow carries out itself.
var fulfilled = []string{"access", "copy", "portability", "correction", "deletion", "withdraw_consent", "cancel_account", "restriction", "objection", "deceased"}

func (b *builder) rights() {
	rs := b.m.Rights
	for i, o := range rs.Offered {
		p := Promise{ID: "right:" + o.Right, Kind: "right", Field: fmt.Sprintf("rights.offered[%d]", i),
			Says: text("您可以行使 %s 权利", "you may exercise the right %s", o.Right, o.Right)}
		if slices.Contains(fulfilled, o.Right) {
			p.Keeper, p.Component, p.Test = Enforced, "rights workflow (internal/dsr) with access and erasure in the organisation's databases (internal/execute)", "internal/dsr TestSmartDeviceApp, TestDeepinNationalDay; internal/execute TestEraseAllAcrossDatastores"
			if o.Right == "deletion" || o.Right == "cancel_account" {
				// Erasure destroys the person's keys (internal/keystore): what
				// Custos kept of them is unreadable in backups too.
				p.Component += "; per-person keys destroyed on erasure (internal/keystore)"
				p.Test += "; internal/server TestErasureReachesBackups"
			}
		} else {
			p.Keeper, p.Component, p.Why = Organisational, "rights workflow (internal/dsr) tracks the request and its deadline", "the answer is written by the organisation's staff"
		}
		b.add(p)
	}
	for i, d := range rs.Deadlines {
		b.add(Promise{ID: fmt.Sprintf("deadline:%d", i), Kind: "deadline", Field: fmt.Sprintf("rights.deadlines[%d]", i),
			Says:   text("%d %s 内答复", "reply within %d %s", d.Count, d.Unit, d.Count, d.Unit),
			Keeper: Enforced, Component: "due dates on the PRC working-day calendar (internal/calendar, internal/dsr)", Test: "internal/calendar TestDueDate; internal/dsr TestClockRules, TestDeepinNationalDay"})
		if d.Extension != nil {
			b.add(Promise{ID: fmt.Sprintf("extension:%d", i), Kind: "deadline", Field: fmt.Sprintf("rights.deadlines[%d].extension", i),
				Says:   text("最多延长 %d %s", "extended by at most %d %s", d.Extension.Count, d.Extension.Unit, d.Extension.Count, d.Extension.Unit),
				Keeper: Enforced, Component: "internal/dsr extension", Test: "internal/calendar TestExtend; internal/dsr TestOpenGeminiExtension"})
		}
	}
	if c := rs.Cancellation; c != nil && c.CoolingOffDays > 0 {
		says := text("注销申请 %d 日后生效", "cancellation takes effect after %d days", c.CoolingOffDays, c.CoolingOffDays)
		if c.Withdrawable {
			says = text("注销申请 %d 日后生效，此前可撤销", "cancellation takes effect after %d days and can be withdrawn until then", c.CoolingOffDays, c.CoolingOffDays)
		}
		b.add(Promise{ID: "cancellation", Kind: "right", Field: "rights.account_cancellation", Says: says, Keeper: Enforced,
			Component: "internal/dsr cooling-off", Test: "internal/dsr TestSmartDeviceApp"})
	}
	if f := rs.Fees; f != nil {
		p := Promise{ID: "fees", Kind: "fees", Field: "rights.fees", Says: text("收费政策：%s", "fee policy: %s", f.Policy, f.Policy),
			Keeper: Organisational, Why: "Custos charges nothing and bills no one; fees are the organisation's"}
		if f.Policy == "free_except_repeated" && f.RepeatedWindow != nil {
			p.Keeper, p.Why, p.Component, p.Test = Enforced, "", "internal/dsr flags requests beyond the repeat threshold", "internal/dsr TestDuplicatesAndRepeats"
		}
		b.add(p)
	}
	if rs.RefusalNotice || len(rs.RefusalGrounds) > 0 {
		b.add(Promise{ID: "refusal", Kind: "refusal", Field: "rights.refusal_grounds",
			Says:   text("仅以所列理由拒绝，并告知理由", "requests are refused only on the grounds listed, and the requester is told why"),
			Keeper: Enforced, Component: "internal/dsr Refuse: a listed ground and an explanation, shown to the requester", Test: "internal/dsr TestRefusal"})
	}
	if d := rs.Deceased; d != nil && d.Allowed {
		b.add(Promise{ID: "deceased", Kind: "right", Field: "rights.deceased", Says: text("近亲属可对死者个人信息行使权利", "close relatives may exercise a deceased person's rights"),
			Keeper: Enforced, Component: "internal/dsr requester kinds", Test: "internal/dsr TestDeceasedRelative"})
	}
}

func (b *builder) minors() {
	mi := b.m.Minors
	if mi.Stance == manifest.StanceAdultsOnly || mi.Stance == manifest.StanceGuardianConsent {
		b.add(Promise{ID: "minors", Kind: "minors", Field: "minors.stance",
			Says:   text("未满 %d 周岁者：%s", "people under %d: %s", mi.AgeThreshold, mi.Stance, mi.AgeThreshold, mi.Stance),
			Keeper: Enforced, Component: "decision point (internal/check): minor_not_served, guardian_consent_required, age_unknown", Test: "internal/check TestCompileMinors; internal/dsr TestGuardianForMinor"})
	}
	if mi.DeleteIfFound {
		b.add(Promise{ID: "minors_delete", Kind: "minors", Field: "minors.delete_if_discovered",
			Says:   text("发现未经监护人同意收集的未成年人信息即删除", "a minor's information collected without a guardian's consent is deleted once found"),
			Keeper: Enforced, Component: "internal/consent opens an erasure request when a subject turns out to be a minor", Test: "internal/consent TestMinorDiscoveredOpensErasure"})
	}
}

func (b *builder) updates() {
	u := b.m.Policy.Updates
	if len(u.Notice) > 0 || u.NoticeDays > 0 {
		p := Promise{ID: "update_notice", Kind: "update_notice", Field: "policy.updates.notice",
			Says:      text("本政策变更时通知您", "you are told when the policy changes"),
			Component: "scheduled policy versions and change notices (internal/consent notices, custos policy notify)", Test: "internal/cli TestPublishAnnouncesAndNotifies; internal/store TestPolicySchedule"}
		if u.NoticeDays > 0 {
			p.Says = text("重大变更生效前至少 %d 日通知您", "you are told of a material change at least %d days before it takes effect", u.NoticeDays, u.NoticeDays)
		}
		b.add(b.messages(p))
	}
	if u.Acceptance == "express_consent" {
		b.add(Promise{ID: "reacceptance", Kind: "update_notice", Field: "policy.updates.acceptance",
			Says:   text("重大变更须经您明确同意", "material changes need your express consent"),
			Keeper: Enforced, Component: "decision point (internal/check): policy_acceptance_required", Test: "internal/consent TestPublishStarterReconsent"})
	}
	if u.KeepArchive || b.m.Policy.Archive != "" {
		b.add(Promise{ID: "archive", Kind: "update_notice", Field: "policy.updates.keep_archive",
			Says:   text("旧版本存档供查阅", "earlier versions are archived"),
			Keeper: Enforced, Component: "policy versions in the store, privacy center version diff", Test: "internal/consent TestConsentVersions"})
	}
}

func (b *builder) contact() {
	for i, c := range b.m.Contact.Channels {
		if c.Value == "" && len(c.Values) == 0 {
			zh, en := b.name(c.Label)
			b.add(Promise{ID: "channel:" + c.ID, Kind: "channel", Field: fmt.Sprintf("contact.channels[%d]", i),
				Says:   text("可通过%s联系我们", "you can reach us through %s", zh, en),
				Keeper: NotKept, Why: "the policy names this channel but gives no address: nothing can reach it"})
		}
	}
	if d := b.m.Contact.Response; d != nil {
		b.add(Promise{ID: "contact_reply", Kind: "deadline", Field: "contact.response",
			Says:   text("一般问题 %d %s 内答复", "general questions answered within %d %s", d.Count, d.Unit, d.Count, d.Unit),
			Keeper: NotKept, Why: "general questions are not tracked: only rights requests have a deadline clock"})
	}
}
