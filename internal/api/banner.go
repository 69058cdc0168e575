package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/ratelimit"
)

// The consent banner (/banner.js) runs on anonymous visitors of other
// sites, so its two routes are public and answer CORS, with no credentials.
func (a *API) bannerRoutes() []route {
	lim := newRateLimiter(20, 2*time.Second) // a visitor saves a choice now and then; 20 at once, then one per 2s
	record := func(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
		if !a.cors(w, r) {
			return errOriginNotAllowed
		}
		if !lim.allow(ratelimit.Client(who.Place)) {
			w.Header().Set("Retry-After", "2")
			return errBannerRateLimited
		}
		return a.recordBannerConsent(w, r, who)
	}
	return []route{
		{"GET", "/v1/public/banner", Public, "Consent banner configuration: categories, purposes, vendors, policy version, notice hash (?lang=zh-CN|en; CORS, ETag)", "bannerConfig", "", "BannerConfig", 200, a.bannerConfig},
		{"OPTIONS", "/v1/public/banner", Public, "CORS preflight for the banner configuration", "bannerConfigPreflight", "", "", 204, a.bannerPreflight},
		{"POST", "/v1/public/banner/consents", Public, "Record an anonymous visitor's banner choice (honours Sec-GPC / DNT; CORS)", "recordBannerConsent", "BannerConsentInput", "BannerState", 201, record},
		{"OPTIONS", "/v1/public/banner/consents", Public, "CORS preflight for recording a banner choice", "bannerConsentsPreflight", "", "", 204, a.bannerPreflight},
	}
}

func init() {
	schemaTypes["BannerConfig"] = BannerConfig{}
	schemaTypes["BannerConsentInput"] = BannerConsentInput{}
	schemaTypes["BannerState"] = BannerState{}
}

var (
	errBannerRateLimited = fault.New(fault.TooMany, "rate_limited", "too many consent writes from this address; try again later")
	errNoticeChanged     = fault.New(fault.Conflict, "notice_changed", "the banner's notice changed since it was fetched; fetch the configuration again and ask again")
	visitorIDRE          = regexp.MustCompile(`^v_[0-9a-f]{32}$`)
)

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
	// NoticeHash is the SHA-256 of the JSON of notice, exactly as served:
	// the text the visitor is shown. A consent must carry it.
	NoticeHash string       `json:"notice_hash"`
	Notice     BannerNotice `json:"notice"`
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
	Separate  string `json:"separate,omitempty"`
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
	// any whose purposes do not rest on consent.
	Required bool `json:"required"`
	// Separate categories need a separate consent: "accept all" does not
	// grant them, only their own toggle does.
	Separate bool `json:"separate"`
	// GPC categories are refused when the browser sends Global Privacy Control.
	GPC      bool            `json:"gpc"`
	Purposes []BannerPurpose `json:"purposes"`
	Vendors  []string        `json:"vendors"`
	Items    []BannerItem    `json:"items"`
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

// BannerConsentInput is a visitor's choice.
type BannerConsentInput struct {
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
	VisitorID     string                 `json:"visitor_id"`
	PolicyVersion string                 `json:"policy_version"`
	NoticeHash    string                 `json:"notice_hash"`
	Language      string                 `json:"language"`
	Choices       map[string]bool        `json:"choices"`
	Events        []consent.ConsentEvent `json:"events"`
}

// bannerOf builds the banner's configuration from the policy in force. A
// purpose belongs to the most protective category it is used in, so that
// categories' purposes never overlap and one choice decides each purpose.
func bannerOf(m *manifest.Manifest, pol *check.Policy, versions []string, lang string) (BannerConfig, error) {
	text := func(t manifest.Text) string { return t.In(lang) }
	catOf := map[string]int{} // purpose → index in bannerCategories
	use := func(cat int, purposes []string) {
		for _, p := range purposes {
			if c, ok := catOf[p]; !ok || cat > c {
				catOf[p] = cat
			}
		}
	}
	type entry struct {
		cat    int
		item   BannerItem
		vendor string
	}
	var entries []entry
	recipients := map[string]string{}
	for _, r := range m.Recipients {
		recipients[r.ID] = text(r.Name)
	}
	if m.Cookies != nil {
		for _, c := range m.Cookies.Items {
			cat := slices.Index(bannerCategories, c.Category)
			if cat < 0 {
				continue
			}
			use(cat, c.Purposes)
			entries = append(entries, entry{cat, BannerItem{Name: text(c.Name), Duration: text(c.Duration)}, recipients[c.Provider]})
		}
	}
	// An SDK that runs on the web joins the most protective category of
	// the cookies serving its purposes; one whose purposes no cookie serves
	// is necessary unless one of them rests on consent (then functional).
	for _, s := range m.SDKs {
		if len(s.Platforms) > 0 && !slices.Contains(s.Platforms, "web") {
			continue
		}
		cat := -1
		needsConsent := false
		for _, p := range s.Purposes {
			if c, ok := catOf[p]; ok && c > cat {
				cat = c
			}
			if r, ok := pol.Rule(p); ok && r.Consent {
				needsConsent = true
			}
		}
		if cat < 0 {
			cat = 0
			if needsConsent {
				cat = 2
			}
		}
		use(cat, s.Purposes)
		entries = append(entries, entry{cat, BannerItem{Name: text(s.Name)}, text(s.Company)})
	}
	purposeName := map[string]string{}
	for _, p := range m.Purposes {
		purposeName[p.ID] = text(p.Name)
	}
	gpc := m.Cookies == nil || m.Cookies.GPC != "ignore"
	words := bannerWords[lang]
	cats := make([]BannerCategory, len(bannerCategories))
	for i, id := range bannerCategories {
		cats[i] = BannerCategory{ID: id, Name: words.categories[i][0], Description: words.categories[i][1], Purposes: []BannerPurpose{}, Vendors: []string{}, Items: []BannerItem{}}
	}
	for _, e := range entries {
		c := &cats[e.cat]
		c.Items = append(c.Items, e.item)
		if e.vendor != "" && !slices.Contains(c.Vendors, e.vendor) {
			c.Vendors = append(c.Vendors, e.vendor)
		}
	}
	purposes := make([]string, 0, len(catOf))
	for p := range catOf {
		purposes = append(purposes, p)
	}
	slices.Sort(purposes)
	for _, p := range purposes {
		c := &cats[catOf[p]]
		c.Purposes = append(c.Purposes, BannerPurpose{ID: p, Name: purposeName[p]})
	}
	var out []BannerCategory
	var separate []string
	for i, c := range cats {
		if len(c.Items) == 0 {
			continue
		}
		consented := consentPurposes(pol, c)
		c.Required = i < 2 || len(consented) == 0
		for _, p := range consented {
			r, _ := pol.Rule(p)
			c.Separate = c.Separate || r.Separate
		}
		c.GPC = gpc && signalled(pol, c)
		if c.Required {
			c.Separate, c.GPC = false, false
		}
		if c.Separate {
			separate = append(separate, c.Name)
		}
		out = append(out, c)
	}
	t := words.text
	t.Body = strings.ReplaceAll(t.Body, "{controller}", controllerName(m, lang))
	if len(separate) > 0 {
		t.Separate = strings.ReplaceAll(t.Separate, "{categories}", strings.Join(separate, words.comma))
	} else {
		t.Separate = ""
	}
	n := BannerNotice{PolicyVersion: m.Policy.Version, Language: lang, PolicyURL: m.Policy.URL, Text: t, Categories: out}
	raw, err := json.Marshal(n)
	if err != nil {
		return BannerConfig{}, err
	}
	sum := sha256.Sum256(raw)
	return BannerConfig{PolicyVersion: m.Policy.Version, ConsentVersions: versions, Language: lang, Languages: m.Policy.Languages,
		NoticeHash: hex.EncodeToString(sum[:]), Notice: n}, nil
}

// consentPurposes are the category's purposes that rest on consent: the
// only ones the banner records.
func consentPurposes(pol *check.Policy, c BannerCategory) []string {
	var out []string
	for _, p := range c.Purposes {
		if r, ok := pol.Rule(p.ID); ok && r.Consent {
			out = append(out, p.ID)
		}
	}
	return out
}

// signalled reports whether a category holds a purpose that browser opt-out signals withdraw.
func signalled(pol *check.Policy, c BannerCategory) bool {
	for _, p := range consentPurposes(pol, c) {
		if r, _ := pol.Rule(p); r.Signals {
			return true
		}
	}
	return false
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

// bannerLanguage is the language asked for if the policy has it, else the prevailing one.
func bannerLanguage(m *manifest.Manifest, asked string) string {
	if slices.Contains(m.Policy.Languages, asked) {
		return asked
	}
	return m.Policy.Prevailing
}

// banner is the banner's configuration for one policy version and
// language, with the manifest and rules it was built from and its JSON.
type banner struct {
	cfg  BannerConfig
	m    *manifest.Manifest
	pol  *check.Policy
	body []byte
	etag string
}

// currentBanner is the configuration for the policy in force. It depends
// only on the version and the language, so it is built once for each and
// kept: the banner is fetched on every page view of every site using it.
// Only the versions in force are kept.
func (a *API) currentBanner(lang string) (*banner, error) {
	pv, m, pol, err := a.svc.Policy()
	if err != nil {
		return nil, err
	}
	lang = bannerLanguage(m, lang)
	key := fmt.Sprintf("%d\x00%s", pv.Seq, lang)
	if b, ok := a.banners.Load(key); ok {
		return b.(*banner), nil
	}
	cfg, err := bannerOf(m, pol, nil, lang)
	if err != nil {
		return nil, err
	}
	var purposes []string
	for _, c := range cfg.Notice.Categories {
		if !c.Required {
			purposes = append(purposes, consentPurposes(pol, c)...)
		}
	}
	if cfg.ConsentVersions, err = a.svc.ConsentVersions(purposes); err != nil {
		return nil, err
	}
	body, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	b := &banner{cfg: cfg, m: m, pol: pol, body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	// Entries of earlier versions are dropped as a new one is cached.
	prefix := fmt.Sprintf("%d\x00", pv.Seq)
	a.banners.Range(func(k, _ any) bool {
		if !strings.HasPrefix(k.(string), prefix) {
			a.banners.Delete(k)
		}
		return true
	})
	a.banners.Store(key, b)
	return b, nil
}

func (a *API) bannerConfig(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	// The configuration is public; a page of an unlisted site simply may
	// not read it (no Access-Control-Allow-Origin).
	a.cors(w, r)
	b, err := a.currentBanner(r.URL.Query().Get("lang"))
	if err != nil {
		return err
	}
	body, etag := b.body, b.etag
	h := w.Header()
	h.Set("ETag", etag)
	// Short: a new policy version must reach banners soon; revalidation is cheap.
	h.Set("Cache-Control", "public, max-age=60")
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(append(body, '\n'))
	return err
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

var bannerActions = []string{"accept_all", "reject_all", "save"}

func (a *API) recordBannerConsent(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	var in BannerConsentInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if !visitorIDRE.MatchString(in.VisitorID) {
		return fault.New(fault.Invalid, "invalid_visitor_id", `visitor_id is "v_" and 32 lowercase hex digits from a random source`).At("visitor_id")
	}
	if !slices.Contains(bannerActions, in.Action) {
		return fault.New(fault.Invalid, "invalid_action", "action must be accept_all, reject_all or save").At("action")
	}
	if in.Language != "zh-CN" && in.Language != "en" {
		return fault.New(fault.Invalid, "invalid_language", "language must be zh-CN or en").At("language")
	}
	b, err := a.currentBanner(in.Language)
	if err != nil {
		return err
	}
	cfg, pol := b.cfg, b.pol
	if cfg.Language != in.Language {
		return fault.New(fault.Invalid, "invalid_language", "the policy is not published in this language").At("language")
	}
	if in.NoticeHash != cfg.NoticeHash {
		return errNoticeChanged.At("notice_hash")
	}
	optional := map[string]BannerCategory{}
	for _, c := range cfg.Notice.Categories {
		if !c.Required {
			optional[c.ID] = c
		}
	}
	for id, on := range in.Choices {
		c, ok := optional[id]
		if !ok {
			for _, rc := range cfg.Notice.Categories {
				if rc.ID == id && on { // an always-on category may be confirmed, never refused
					ok = true
				}
			}
			if !ok {
				return fault.New(fault.Invalid, "not_in_banner", "choices names %q, which is not an optional category of this banner", id).At("choices")
			}
			continue
		}
		// accept_all may still refuse a category the browser's opt-out signal covers.
		if in.Action == "accept_all" && !on && !c.GPC && !signalled(pol, c) || in.Action == "reject_all" && on {
			return fault.New(fault.Invalid, "choices_mismatch", "the choice for %s contradicts action %s", c.ID, in.Action).At("choices")
		}
	}
	for id := range optional {
		if _, ok := in.Choices[id]; !ok {
			return fault.New(fault.Invalid, "choices_incomplete", "choices must decide every optional category; %s is missing", id).At("choices")
		}
	}

	var signals []string
	if r.Header.Get("Sec-GPC") == "1" {
		signals = append(signals, consent.SignalGPC)
	}
	if r.Header.Get("DNT") == "1" {
		signals = append(signals, consent.SignalDNT)
	}
	m := b.m
	// Categories holding purposes a browser opt-out signal covers are
	// refused without asking, whatever the request says.
	optOut := slices.Contains(signals, consent.SignalGPC) && (m.Cookies == nil || m.Cookies.GPC != "ignore") ||
		slices.Contains(signals, consent.SignalDNT) && m.Cookies != nil && m.Cookies.DNT == "honour"
	evidence, _ := json.Marshal(map[string]string{"banner": in.Action})
	main := consent.ConsentInput{Method: "banner", Language: in.Language, NoticeHash: in.NoticeHash, Evidence: evidence, Signals: signals}
	var separate []consent.ConsentInput
	ids := make([]string, 0, len(optional))
	for id := range optional {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c := optional[id]
		purposes := consentPurposes(pol, c)
		switch allowed := in.Choices[id] && !(optOut && signalled(pol, c)); {
		case !allowed:
			main.Withdraw = append(main.Withdraw, purposes...)
		case !c.Separate:
			main.Grant = append(main.Grant, purposes...)
		case in.Action == "save": // chosen on its own toggle: a separate consent
			separate = append(separate, consent.ConsentInput{Grant: purposes, Method: "banner", Language: in.Language, NoticeHash: in.NoticeHash, Separate: true, Evidence: evidence})
		}
	}
	state := BannerState{VisitorID: in.VisitorID, PolicyVersion: cfg.PolicyVersion, NoticeHash: cfg.NoticeHash, Language: in.Language,
		Choices: map[string]bool{}, Events: []consent.ConsentEvent{}}
	writes := separate
	if len(main.Grant)+len(main.Withdraw) > 0 {
		writes = append([]consent.ConsentInput{main}, separate...)
	}
	for _, in := range writes {
		evs, err := a.svc.RecordAnonymous(r.Context(), who, state.VisitorID, in)
		if err != nil {
			return err
		}
		state.Events = append(state.Events, evs...)
	}
	for _, e := range state.Events {
		a.metrics.consents.WithLabelValues(e.Action).Inc()
	}
	granted := map[string]bool{}
	for _, e := range state.Events {
		granted[e.Purpose] = e.Action == "grant"
	}
	for _, id := range ids {
		on := true
		for _, p := range consentPurposes(pol, optional[id]) {
			on = on && granted[p]
		}
		state.Choices[id] = on
	}
	return writeJSON(w, http.StatusCreated, state)
}

// errOriginNotAllowed refuses a consent write from a page on a site the
// configuration does not list (a browser says which in Origin).
var errOriginNotAllowed = fault.New(fault.Forbidden, "origin_not_allowed", "consents are not recorded from pages of this site")

// cors answers the banner's CORS, with no credentials (the visitor id
// travels in the body): any origin when no
// origins are configured, else only the listed ones (echoed, with Vary).
// It reports whether the request's origin, if it named one, is allowed.
func (a *API) cors(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Access-Control-Expose-Headers", "ETag, Retry-After")
	if len(a.opt.BannerOrigins) == 0 {
		h.Set("Access-Control-Allow-Origin", "*")
		return true
	}
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser's cross-origin request
	}
	if slices.Contains(a.opt.BannerOrigins, strings.ToLower(origin)) {
		h.Set("Access-Control-Allow-Origin", origin)
		return true
	}
	return false
}

func (a *API) bannerPreflight(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	if !a.cors(w, r) {
		return errOriginNotAllowed
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	h.Set("Cache-Control", "public, max-age=86400")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rateLimiter is a token bucket per client address, kept in memory: a
// banner write per page view is far below it; a script hammering the
// ledger is not.
type rateLimiter struct {
	mu    sync.Mutex
	burst float64
	every time.Duration
	m     map[string]bucket
	now   func() time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(burst int, every time.Duration) *rateLimiter {
	return &rateLimiter{burst: float64(burst), every: every, m: map[string]bucket{}, now: time.Now}
}

func (l *rateLimiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.m[key]
	if !ok {
		if len(l.m) > 100_000 {
			clear(l.m) // bounded memory; a reset only forgives
		}
		b = bucket{tokens: l.burst, at: now}
	}
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
	b.at = now
	if b.tokens < 1 {
		l.m[key] = b
		return false
	}
	b.tokens--
	l.m[key] = b
	return true
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
			Separate:  "Accept all does not cover {categories}: that needs a separate consent, under Choose.",
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
			Separate:  "“全部接受”不包括{categories}：该类别需要您在“自行选择”中单独同意。",
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
