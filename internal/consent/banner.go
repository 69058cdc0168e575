package consent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// The consent banner's rules: which purposes each category holds, which
// need a separate consent, which a browser signal refuses, and how a
// visitor's choice becomes ledger events. The API serves the banner; the
// rules live here, beside the ledger they write to.

// Banner categories, in the order shown. necessary and security are always on.
var bannerCategories = []string{"necessary", "security", "functional", "analytics", "advertising"}

// BannerConfig is what the banner shows, in one language, and how it
// knows a stored choice still holds.
type BannerConfig struct {
	PolicyVersion string `json:"policy_version"`
	// ConsentVersions are the policy versions under which a choice still
	// holds; a choice made under another version is asked again.
	ConsentVersions []string `json:"consent_versions"`
	Language        string   `json:"language"`
	Languages       []string `json:"languages"`
	// Upcoming is the version announced to come into force, if any.
	Upcoming *UpcomingVersion `json:"upcoming,omitempty"`
	// NoticeHash is the SHA-256 of the JSON of notice, exactly as served:
	// the text the visitor is shown. A consent must carry it.
	NoticeHash string       `json:"notice_hash"`
	Notice     BannerNotice `json:"notice"`
}

// UpcomingVersion is a version published to come into force later.
type UpcomingVersion struct {
	Version     string    `json:"version"`
	EffectiveAt time.Time `json:"effective_at"`
}

// BannerNotice is the notice the banner shows.
type BannerNotice struct {
	PolicyVersion string           `json:"policy_version"`
	Language      string           `json:"language"`
	PolicyURL     string           `json:"policy_url,omitempty"`
	Text          BannerText       `json:"text"`
	Categories    []BannerCategory `json:"categories"`
}

// BannerText is the banner's wording.
type BannerText struct {
	Title     string `json:"title"`
	Body      string `json:"body"`
	Withdraw  string `json:"withdraw"`
	AcceptAll string `json:"accept_all"`
	RejectAll string `json:"reject_all"`
	Choose    string `json:"choose"`
	Save      string `json:"save"`
	Policy    string `json:"policy"`
	AlwaysOn  string `json:"always_on"`
	GPC       string `json:"gpc"`
	DNT       string `json:"dnt"`
	Separate  string `json:"separate,omitempty"`
	Upcoming  string `json:"upcoming,omitempty"`
	Purposes  string `json:"purposes"`
	Vendors   string `json:"vendors"`
	Items     string `json:"items"`
}

// BannerCategory is one consent category with what it is used for and by whom.
type BannerCategory struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Required categories are always on: necessary and security ones, and
	// any whose purposes a visitor can neither refuse nor object to.
	Required bool `json:"required"`
	// Separate categories need a separate consent: "accept all" does not
	// grant them, only their own toggle does.
	Separate bool `json:"separate"`
	// Signals are the browser signals (gpc, dnt) that refuse the category
	// without asking: the manifest's signals statement refuses one of its
	// purposes.
	Signals  []string        `json:"signals"`
	Purposes []BannerPurpose `json:"purposes"`
	Vendors  []string        `json:"vendors"`
	Items    []BannerItem    `json:"items"`

	keys      []string // ledger keys a choice records: consents and separate acts
	objection []string // purposes on legitimate interests a refusal objects to
}

// BannerPurpose is a purpose as the banner names it.
type BannerPurpose struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// BannerItem is a cookie, SDK or similar technology.
type BannerItem struct {
	Name     string `json:"name"`
	Duration string `json:"duration,omitempty"`
}

// Banner is the banner's configuration for one policy version and language,
// with its JSON, built once.
type Banner struct {
	Config BannerConfig
	JSON   []byte
	ETag   string
}

// Banner returns the configuration for the policy in force in lang (or the
// prevailing language). It depends only on the version and the language,
// so it is built once for each and kept: the banner is fetched on every
// page view of every site using it.
//
// The banners are kept on the state in force, which is replaced when a
// version comes into force or another is published: an announcement
// reaches the banner at once, and each banner is built from one state.
func (s *Service) Banner(lang string) (*Banner, error) {
	cur := s.state()
	if cur == nil {
		return nil, errNoPolicy
	}
	m := cur.manifest
	if !slices.Contains(m.Policy.Languages, lang) {
		lang = m.DefaultLanguage()
	}
	if b, ok := cur.banners.Load(lang); ok {
		return b.(*Banner), nil
	}
	cfg := bannerOf(m, cur.compiled, lang)
	var keys []string
	for _, c := range cfg.Notice.Categories {
		keys = append(keys, c.keys...)
	}
	cfg.ConsentVersions = cur.consentVersions(keys)
	if up := cur.upcoming(); up != nil {
		cfg.Upcoming = up
		cfg.Notice.Text.Upcoming = strings.ReplaceAll(bannerWords[lang].text.Upcoming, "{version}", up.Version)
	}
	raw, err := json.Marshal(cfg.Notice)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	cfg.NoticeHash = hex.EncodeToString(sum[:])
	body, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	etag := sha256.Sum256(body)
	b := &Banner{Config: cfg, JSON: body, ETag: `"` + hex.EncodeToString(etag[:16]) + `"`}
	actual, _ := cur.banners.LoadOrStore(lang, b)
	return actual.(*Banner), nil
}

// upcoming is the version announced to come into force next, if any.
func (cur *current) upcoming() *UpcomingVersion {
	if cur.nextAt.IsZero() {
		return nil
	}
	for _, v := range cur.versions {
		if v.Seq > cur.version.Seq && v.EffectiveAt.Equal(cur.nextAt) {
			return &UpcomingVersion{Version: v.Version, EffectiveAt: v.EffectiveAt.UTC()}
		}
	}
	return nil
}

// bannerOf builds the banner's configuration from the policy in force. A
// purpose belongs to the most protective category it is used in, so that
// categories' purposes never overlap and one choice decides each purpose.
// A visitor is anonymous: the manifest's general rules (jurisdiction 0)
// apply.
func bannerOf(m *manifest.Manifest, pol *check.Policy, lang string) BannerConfig {
	catOf := map[string]int{} // purpose → index in bannerCategories
	use := func(cat int, purposes []string) {
		for _, p := range purposes {
			if c, ok := catOf[p]; !ok || cat > c {
				catOf[p] = cat
			}
		}
	}
	type entry struct {
		cat      int
		item     BannerItem
		vendor   string
		provider string // recipient id of a third-party item
	}
	var entries []entry
	recipients := map[string]string{}
	for _, r := range m.Recipients {
		recipients[r.ID] = r.Name.In(lang)
	}
	if m.Cookies != nil {
		for _, c := range m.Cookies.Items {
			cat := slices.Index(bannerCategories, c.Category)
			if cat < 0 {
				continue
			}
			use(cat, c.Purposes)
			entries = append(entries, entry{cat, BannerItem{Name: c.Name.In(lang), Duration: c.Duration.In(lang)}, recipients[c.Provider], c.Provider})
		}
	}
	// An SDK that runs on the web joins the most protective category of
	// the cookies serving its purposes; one whose purposes no cookie serves
	// is necessary unless a visitor may refuse one of them (then functional).
	for _, sdk := range m.SDKs {
		if len(sdk.Platforms) > 0 && !slices.Contains(sdk.Platforms, "web") {
			continue
		}
		cat := -1
		refusable := false
		for _, p := range sdk.Purposes {
			if c, ok := catOf[p]; ok && c > cat {
				cat = c
			}
			if r, ok := pol.Rule(p); ok && (r.ConsentIn(0) || r.ObjectableIn(0)) {
				refusable = true
			}
		}
		if cat < 0 {
			cat = 0
			if refusable {
				cat = 2
			}
		}
		use(cat, sdk.Purposes)
		entries = append(entries, entry{cat, BannerItem{Name: sdk.Name.In(lang)}, sdk.Company.In(lang), ""})
	}
	words := bannerWords[lang]
	cats := make([]BannerCategory, len(bannerCategories))
	for i, id := range bannerCategories {
		cats[i] = BannerCategory{ID: id, Name: words.categories[i][0], Description: words.categories[i][1],
			Signals: []string{}, Purposes: []BannerPurpose{}, Vendors: []string{}, Items: []BannerItem{}}
	}
	for _, e := range entries {
		c := &cats[e.cat]
		c.Items = append(c.Items, e.item)
		if e.vendor != "" && !slices.Contains(c.Vendors, e.vendor) {
			c.Vendors = append(c.Vendors, e.vendor)
		}
		// A third party's cookie provides data to it: an act with its
		// own separate consent when the recipient asks for one.
		if act := (check.Act{Kind: check.ActRecipient, ID: e.provider}); e.provider != "" && pol.ActSeparate(act) && !slices.Contains(c.keys, check.ActKey(act)) {
			c.keys = append(c.keys, check.ActKey(act))
			c.Separate = true
		}
	}
	purposes := make([]string, 0, len(catOf))
	for p := range catOf {
		purposes = append(purposes, p)
	}
	slices.Sort(purposes)
	for _, id := range purposes {
		c := &cats[catOf[id]]
		mp, _ := m.Purpose(id)
		c.Purposes = append(c.Purposes, BannerPurpose{ID: id, Name: mp.Name.In(lang)})
		r, ok := pol.Rule(id)
		switch {
		case !ok:
			continue
		case r.ConsentIn(0):
			c.keys = append(c.keys, id)
			c.Separate = c.Separate || r.Separate
		case r.ObjectableIn(0):
			c.objection = append(c.objection, id)
		default:
			continue
		}
		for _, sig := range []string{manifest.SignalGPC, manifest.SignalDNT} {
			if r.RefusedBySignal(sig) && !slices.Contains(c.Signals, sig) {
				c.Signals = append(c.Signals, sig)
			}
		}
	}
	var out []BannerCategory
	var separate []string
	for i, c := range cats {
		if len(c.Items) == 0 {
			continue
		}
		c.Required = i < 2 || len(c.keys) == 0 && len(c.objection) == 0
		if c.Required {
			c.Separate, c.Signals, c.keys, c.objection = false, []string{}, nil, nil
		}
		slices.Sort(c.Signals)
		if c.Separate {
			separate = append(separate, c.Name)
		}
		out = append(out, c)
	}
	t := words.text
	t.Upcoming = ""
	t.Body = strings.ReplaceAll(t.Body, "{controller}", controllerName(m, lang))
	if len(separate) > 0 {
		t.Separate = strings.ReplaceAll(t.Separate, "{categories}", strings.Join(separate, words.comma))
	} else {
		t.Separate = ""
	}
	n := BannerNotice{PolicyVersion: m.Policy.Version, Language: lang, PolicyURL: m.Policy.URL, Text: t, Categories: out}
	return BannerConfig{PolicyVersion: m.Policy.Version, Language: lang, Languages: m.Policy.Languages, Notice: n}
}

func controllerName(m *manifest.Manifest, lang string) string {
	if len(m.Controllers) == 0 {
		return ""
	}
	if s := m.Controllers[0].Short.In(lang); s != "" {
		return s
	}
	return m.Controllers[0].Name.In(lang)
}

// BannerChoice is a visitor's choice.
type BannerChoice struct {
	// VisitorID is made by the browser: "v_" and 32 lowercase hex digits (128 random bits).
	VisitorID string `json:"visitor_id"`
	// Action is accept_all, reject_all or save (per-category choices).
	Action string `json:"action"`
	// Choices has every optional category, true when allowed.
	Choices    map[string]bool `json:"choices"`
	NoticeHash string          `json:"notice_hash"`
	Language   string          `json:"language"`
}

// BannerState is the choice as recorded.
type BannerState struct {
	VisitorID     string          `json:"visitor_id"`
	PolicyVersion string          `json:"policy_version"`
	NoticeHash    string          `json:"notice_hash"`
	Language      string          `json:"language"`
	Choices       map[string]bool `json:"choices"`
	Events        []ConsentEvent  `json:"events"`
}

var (
	errNoticeChanged = fault.New(fault.Conflict, "notice_changed", "the banner's notice changed since it was fetched; fetch the configuration again and ask again")
	visitorIDRE      = regexp.MustCompile(`^v_[0-9a-f]{32}$`)
	bannerActions    = []string{"accept_all", "reject_all", "save"}
)

// RecordBanner records an anonymous visitor's banner choice as one ledger
// write: consents granted or withdrawn, objections made or lifted, and the
// separate consents of separate categories, each its own event. Signals
// are the browser opt-out signals the request carried (RequestSignals):
// categories they refuse are refused whatever the choice says.
func (s *Service) RecordBanner(ctx context.Context, a Actor, in BannerChoice, signals []string) (BannerState, error) {
	if !visitorIDRE.MatchString(in.VisitorID) {
		return BannerState{}, invalid("invalid_visitor_id", "visitor_id", `visitor_id is "v_" and 32 lowercase hex digits from a random source`)
	}
	if !slices.Contains(bannerActions, in.Action) {
		return BannerState{}, invalid("invalid_action", "action", "action is missing or unknown").Allowing(bannerActions)
	}
	if !slices.Contains(Languages, in.Language) {
		return BannerState{}, invalid("invalid_language", "language", "language is missing or unsupported").Allowing(Languages)
	}
	b, err := s.Banner(in.Language)
	if err != nil {
		return BannerState{}, err
	}
	cfg := b.Config
	if cfg.Language != in.Language {
		return BannerState{}, invalid("invalid_language", "language", "the policy is not published in this language").Allowing(cfg.Languages)
	}
	if in.NoticeHash != cfg.NoticeHash {
		return BannerState{}, errNoticeChanged.At("notice_hash")
	}
	optional := map[string]BannerCategory{}
	var ids []string
	for _, c := range cfg.Notice.Categories {
		if !c.Required {
			optional[c.ID] = c
			ids = append(ids, c.ID)
		}
	}
	slices.Sort(ids)
	refusedBy := func(c BannerCategory) bool {
		return slices.ContainsFunc(c.Signals, func(sig string) bool { return slices.Contains(signals, sig) })
	}
	for id, on := range in.Choices {
		c, ok := optional[id]
		if !ok {
			// An always-on category may be confirmed, never refused.
			if !on || !slices.ContainsFunc(cfg.Notice.Categories, func(rc BannerCategory) bool { return rc.ID == id }) {
				return BannerState{}, invalid("not_in_banner", "choices", "choices names %q, which is not an optional category of this banner", id).Allowing(ids)
			}
			continue
		}
		// accept_all may still refuse a category the request's browser signal refuses.
		if in.Action == "accept_all" && !on && !refusedBy(c) || in.Action == "reject_all" && on {
			return BannerState{}, invalid("choices_mismatch", "choices", "the choice for %s contradicts action %s", c.ID, in.Action)
		}
	}
	for _, id := range ids {
		if _, ok := in.Choices[id]; !ok {
			return BannerState{}, invalid("choices_incomplete", "choices", "choices must decide every optional category; %s is missing", id)
		}
	}
	// The events name the first signal sent that refuses a category.
	signal := ""
	for _, sig := range signals {
		if slices.ContainsFunc(ids, func(id string) bool { return slices.Contains(optional[id].Signals, sig) }) {
			signal = sig
			break
		}
	}
	evidence, _ := json.Marshal(map[string]string{"banner": in.Action})
	allowed := map[string]bool{}
	plan := func(w *writeCtx) error {
		if err := w.load("banner", in.Language, "", evidence); err != nil {
			return err
		}
		w.meta.NoticeHash = in.NoticeHash
		var grants bool
		// Events come in the order a reader expects: ordinary grants, then
		// refusals, then each separate consent, then objections, each by key.
		type planned struct {
			rank             int
			key, action, sig string
			separate         bool
		}
		var out []planned
		add := func(rank int, key, action, sig string, separate bool) {
			out = append(out, planned{rank, key, action, sig, separate})
		}
		for _, id := range ids {
			c := optional[id]
			refused := refusedBy(c)
			on := in.Choices[id] && !refused
			// A separate category is only granted from its own toggle.
			if on && c.Separate && in.Action != "save" {
				continue
			}
			sig := ""
			if refused {
				sig = signal
			}
			allowed[id] = on
			for _, k := range c.keys {
				switch {
				case on && c.Separate:
					grants = true
					add(2, k, store.ActionGrant, "", true)
				case on:
					grants = true
					add(0, k, store.ActionGrant, "", false)
				default:
					add(1, k, store.ActionWithdraw, sig, false)
				}
			}
			for _, p := range c.objection {
				cur := w.snap.Consents[check.ObjectionKey(p)].Action
				switch {
				case !on && cur != check.ActionObject:
					add(3, check.ObjectionKey(p), store.ActionObject, sig, false)
				case on && cur == check.ActionObject:
					add(3, check.ObjectionKey(p), store.ActionLift, "", false)
				}
			}
		}
		slices.SortStableFunc(out, func(a, b planned) int {
			if a.rank != b.rank {
				return a.rank - b.rank
			}
			return strings.Compare(a.key, b.key)
		})
		for _, p := range out {
			w.add(p.key, p.action, p.sig, p.separate)
		}
		if grants {
			if err := w.mayAgree("choices"); err != nil {
				return err
			}
		}
		if len(w.events) == 0 {
			return invalid("nothing_to_record", "choices", "the choice changes nothing")
		}
		return nil
	}
	evs, err := s.anonymous(ctx, a, in.VisitorID, "banner:"+in.Action, plan)
	if err != nil {
		return BannerState{}, err
	}
	state := BannerState{VisitorID: in.VisitorID, PolicyVersion: cfg.PolicyVersion, NoticeHash: cfg.NoticeHash, Language: in.Language,
		Choices: map[string]bool{}, Events: evs}
	for _, id := range ids {
		state.Choices[id] = allowed[id]
	}
	return state, nil
}

// bannerWords is the banner's wording per language: the texts and each
// category's name and description, in the order of bannerCategories.
var bannerWords = map[string]struct {
	text       BannerText
	categories [][2]string
	comma      string
}{
	"en": {
		text: BannerText{
			Title:     "Your choices about cookies",
			Body:      "{controller} uses cookies and similar technologies. Necessary and security ones are always on; the others only with your consent. You can change your choice at any time under Cookie settings.",
			Withdraw:  "A withdrawal takes effect the next time a page loads.",
			AcceptAll: "Accept all",
			RejectAll: "Reject all",
			Choose:    "Choose",
			Save:      "Save choices",
			Policy:    "Privacy policy",
			AlwaysOn:  "Always on",
			GPC:       "Refused: your browser sends Global Privacy Control",
			DNT:       "Refused: your browser sends Do Not Track",
			Separate:  "Accept all does not cover {categories}: that needs a separate consent, under Choose.",
			Upcoming:  "A new version of the privacy policy ({version}) has been announced; read it before it takes effect.",
			Purposes:  "Purposes",
			Vendors:   "Provided by",
			Items:     "Cookies and technologies",
		},
		categories: [][2]string{
			{"Necessary", "Needed for the site to work, such as keeping you signed in."},
			{"Security", "Protect you and the site against fraud and attacks."},
			{"Functional", "Remember your settings and offer extra features."},
			{"Analytics", "Measure how the site is used so that we can improve it."},
			{"Advertising", "Show and measure advertising, including by our partners."},
		},
		comma: ", ",
	},
	"zh-CN": {
		text: BannerText{
			Title:     "Cookie 使用选择",
			Body:      "{controller}使用 Cookie 及同类技术。必要类和安全类始终启用；其他类别仅在您同意后启用。您可以随时通过“Cookie 设置”更改选择。",
			Withdraw:  "撤回同意将在下次加载页面时生效。",
			AcceptAll: "全部接受",
			RejectAll: "全部拒绝",
			Choose:    "自行选择",
			Save:      "保存选择",
			Policy:    "隐私政策",
			AlwaysOn:  "始终启用",
			GPC:       "已拒绝：您的浏览器发送了全球隐私控制（GPC）信号",
			DNT:       "已拒绝：您的浏览器发送了“请勿追踪”（DNT）信号",
			Separate:  "“全部接受”不包括{categories}：该类别需要您在“自行选择”中单独同意。",
			Upcoming:  "隐私政策的新版本（{version}）已经公布，请在其生效前阅读。",
			Purposes:  "处理目的",
			Vendors:   "提供方",
			Items:     "Cookie 及同类技术",
		},
		categories: [][2]string{
			{"必要类", "网站正常运行所必需，例如保持您的登录状态。"},
			{"安全类", "保护您和网站免受欺诈和攻击。"},
			{"功能类", "记住您的设置并提供附加功能。"},
			{"分析类", "统计网站的使用情况，以便我们改进。"},
			{"广告类", "展示和衡量广告，包括由我们的合作方进行。"},
		},
		comma: "、",
	},
}
