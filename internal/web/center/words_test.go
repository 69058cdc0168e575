package center_test

import (
	"bytes"
	"context"
	"html"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/policy"
)

// The starter company's two versions, which the public pages speak of.
const (
	starterV1 = "../../../examples/starter/custos.yaml"
	starterV2 = "../../../examples/starter/custos-v2.yaml"
)

// wording is what the public pages of one language may show of the
// manifests behind them: names, never identifiers, paths or comments; and
// on a Chinese page no English but the words the Chinese policy itself
// uses (names such as App or SDK).
type wording struct {
	lang string
	// ids are the manifests' identifiers that cannot be words of a
	// sentence: they hold a separator (sync_acceleration, usage.search,
	// insights-partner).
	ids []string
	// latin are the ASCII words a Chinese page may carry.
	latin map[string]bool
}

var (
	// Links, addresses, request numbers and digests are not words.
	notText = regexp.MustCompile(`[a-z][a-z0-9+.-]*://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b(?:rq|bd|rt)_[0-9A-Za-z_-]+|\b[0-9a-f]{16,}\b`)
	// services[publishing], contact.channels[privacy-email].value
	manifestPath = regexp.MustCompile(`[a-z_]+\[[^\]\s]+\]`)
	// # 笔记与多端同步: a YAML comment, or a heading marker left in the text
	yamlComment = regexp.MustCompile(`(?m)(?:^|\s)#+\s*\S`)
	// working_days, sync_acceleration
	snakeCase = regexp.MustCompile(`\b[a-z]+(?:_[a-z0-9]+)+\b`)
	latinWord = regexp.MustCompile(`[A-Za-z]{2,}`)
	// a run of three or more Latin words, at least one of them lower-case:
	// "personal information erased", not "Global Privacy Control"
	latinRun   = regexp.MustCompile(`[A-Za-z][A-Za-z'’-]*(?:[ ,;:]+[A-Za-z][A-Za-z'’-]*){2,}`)
	lowerWord  = regexp.MustCompile(`\b[a-z]{2,}\b`)
	separators = regexp.MustCompile(`[_.:-]`)
)

// newWording reads the manifests at paths for what pages in lang may show.
func newWording(t testing.TB, lang string, paths ...string) wording {
	t.Helper()
	// The layout's own: the product's name, the language switch, the digest's name.
	w := wording{lang: lang, latin: map[string]bool{"Custos": true, "English": true, "SHA": true}}
	for _, p := range paths {
		m, err := manifest.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range identifiers(reflect.ValueOf(*m), "") {
			if separators.MatchString(id) && !slices.Contains(w.ids, id) {
				w.ids = append(w.ids, id)
			}
		}
		doc, err := policy.Render(m, "zh-CN")
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := policy.Write(&b, doc, "markdown"); err != nil {
			t.Fatal(err)
		}
		for _, word := range latinWord.FindAllString(notText.ReplaceAllString(b.String(), " "), -1) {
			w.latin[word] = true
		}
	}
	return w
}

// identifiers collects what a manifest names things by: every id, and
// every reference to one (a collection's categories and purposes, a
// right, a signal, a jurisdiction).
func identifiers(v reflect.Value, field string) []string {
	refs := map[string]bool{"ID": true, "Right": true, "Signal": true, "Permission": true, "Jurisdiction": true, "Categories": true,
		"Purposes": true, "Rights": true, "Refuses": true, "Jurisdictions": true, "Channels": true, "Recipient": true, "Provider": true, "Unit": true}
	var out []string
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			out = identifiers(v.Elem(), field)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				out = append(out, identifiers(v.Field(i), v.Type().Field(i).Name)...)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			out = append(out, identifiers(v.Index(i), field)...)
		}
	case reflect.String:
		if refs[field] && v.String() != "" {
			out = append(out, v.String())
		}
	}
	return out
}

// problems lists what in a page's visible text is not for the public.
func (w wording) problems(text string) []string {
	text = notText.ReplaceAllString(text, " ")
	var out []string
	for _, m := range manifestPath.FindAllString(text, -1) {
		out = append(out, "manifest path "+m)
	}
	for _, m := range yamlComment.FindAllString(text, -1) {
		out = append(out, "comment "+strings.TrimSpace(m))
	}
	for _, m := range snakeCase.FindAllString(text, -1) {
		out = append(out, "identifier "+m)
	}
	for _, id := range w.ids {
		// In English a hyphenated id may be a word of the sentence (in-app).
		if w.lang != "zh-CN" && !strings.ContainsAny(id, "_.:") {
			continue
		}
		if strings.Contains(text, id) {
			out = append(out, "manifest id "+id)
		}
	}
	if w.lang == "zh-CN" {
		for _, run := range latinRun.FindAllString(text, -1) {
			if lowerWord.MatchString(run) {
				out = append(out, "English sentence "+run)
			}
		}
		for _, word := range latinWord.FindAllString(text, -1) {
			if !w.latin[word] {
				out = append(out, "English word "+word)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var (
	scriptOrStyle = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)>`)
	wbrTag        = regexp.MustCompile(`(?i)<wbr\s*/?>`)
	anyTag        = regexp.MustCompile(`<[^>]*>`)
)

// visible is a page's text as a reader gets it: the body without markup.
func visible(page string) string {
	if i := strings.Index(page, "<body"); i >= 0 {
		page = page[i:]
	}
	page = scriptOrStyle.ReplaceAllString(page, " ")
	page = wbrTag.ReplaceAllString(page, "")
	return html.UnescapeString(anyTag.ReplaceAllString(page, " "))
}

// TestPublicPagesSpeakPeoplesWords: every public page, in each language,
// speaks of the policy by the names it gives — the difference between two
// versions, the purposes a request may name, the outcome of a request and
// the time the policy gives to answer — and shows no manifest identifier,
// path, comment or unit id, and on a Chinese page no English.
func TestPublicPagesSpeakPeoplesWords(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	svc := h.d.Server.Service()
	src, err := os.ReadFile(starterV2)
	if err != nil {
		t.Fatal(err)
	}
	at := h.d.Clock.Now().AddDate(0, 0, 7).Add(time.Minute)
	if _, err := svc.PublishWith(ctx, consent.Actor{ID: "test", Role: "admin", Place: "test"}, "custos-v2.yaml", src, consent.PublishOptions{EffectiveAt: at}); err != nil {
		t.Fatal(err)
	}
	h.d.Clock.Set(at)

	// One request carried out (every consent withdrawn), one account
	// cancellation waiting out its cooling-off period; the requester's
	// language is the one the form was filled in, here Chinese.
	op := consent.Actor{ID: "operator-test", Role: "operator", Place: "test"}
	reqs := h.d.Server.Requests()
	b := h.browser(t)
	withdrawn, _ := h.makeRequestIn(t, b, "zh-CN", "withdraw_consent", "email", "lin.wei@example.com")
	cancelled, _ := h.makeRequestIn(t, b, "zh-CN", "cancel_account", "email", "alex.chen@example.org")
	for _, id := range []string{withdrawn, cancelled} {
		if _, err := reqs.Approve(ctx, op, id); err != nil {
			t.Fatal(err)
		}
		if _, err := reqs.Complete(ctx, op, id, dsr.CompleteInput{}); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		path string
		want map[string][]string // what the page says, by language
	}{
		{path: "/privacy/"},
		{path: "/privacy/policy"},
		{path: "/privacy/policy/versions"},
		{path: "/privacy/policy/diff", want: map[string][]string{
			"zh-CN": {"处理目的：“发现”页面个性化推荐", "接收方：示例洞察数据有限公司", "联系渠道：个人信息保护办公室 › 地址或号码", "向示例洞察数据有限公司提供个人信息"},
			"en":    {"Purpose: personalised recommendations in Discover", "Recipient: Example Insights Data Co., Ltd.", "providing personal information to Example Insights Data Co., Ltd."},
		}},
		{path: "/privacy/requests"},
		{path: "/privacy/requests/new?type=withdraw_consent", want: map[string][]string{
			"zh-CN": {"产品使用统计分析"}, "en": {"product usage analytics"},
		}},
		{path: "/privacy/requests/" + withdrawn, want: map[string][]string{
			"zh-CN": {"3个工作日", "我们已撤回您给予的全部同意"}, "en": {"3 working days"},
		}},
		{path: "/privacy/requests/" + cancelled, want: map[string][]string{
			"zh-CN": {"15个工作日", "您的账号将于"}, "en": {"15 working days"},
		}},
	}
	for _, lang := range []string{"zh-CN", "en"} {
		w := newWording(t, lang, starterV1, starterV2)
		for _, tt := range tests {
			t.Run(lang+tt.path, func(t *testing.T) {
				sep := "?"
				if strings.Contains(tt.path, "?") {
					sep = "&"
				}
				r := b.get(tt.path + sep + "lang=" + lang)
				if r.status != 200 {
					t.Fatalf("status %d\n%s", r.status, excerpt(r.body))
				}
				checkPage(t, r, lang)
				text := visible(r.body)
				for _, p := range w.problems(text) {
					t.Errorf("the page shows %s", p)
				}
				for _, want := range tt.want[lang] {
					if !strings.Contains(text, want) {
						t.Errorf("the page does not say %q", want)
					}
				}
			})
		}
	}
}

// TestWordingFindsLeaks: the checker the page tests rely on finds each
// kind of leak the privacy center once had, and passes plain wording.
func TestWordingFindsLeaks(t *testing.T) {
	zh, en := newWording(t, "zh-CN", starterV1, starterV2), newWording(t, "en", starterV1, starterV2)
	tests := []struct {
		name string
		w    wording
		text string
		want []string
	}{
		{"a purpose id", zh, "需要重新征得同意的目的：sync_acceleration", []string{"English word acceleration", "English word sync", "identifier sync_acceleration", "manifest id sync_acceleration"}},
		{"a manifest path", en, "Item services[publishing].collects[usage.interactions+usage.search]",
			[]string{"manifest id usage.interactions", "manifest id usage.search", "manifest path collects[usage.interactions+usage.search]", "manifest path services[publishing]"}},
		{"a heading marker", zh, "… # 笔记与多端同步", []string{"comment # 笔"}},
		{"a unit", en, "Due in 15 working_days", []string{"identifier working_days", "manifest id working_days"}},
		{"an English summary", zh, "personal information erased; the consent ledger keeps the opaque id as proof",
			[]string{"English sentence personal information erased; the consent ledger keeps the opaque id as proof", "English word as", "English word consent", "English word erased",
				"English word information", "English word keeps", "English word ledger", "English word opaque", "English word personal", "English word proof", "English word the"}},
		{"names, links and the policy's own Latin words", zh, "在 App 内查看 https://qingyun.example.cn/privacy 或 privacy@qingyun.example.cn；请求 rq_0abc；“全球隐私控制”（Global Privacy Control）", nil},
		{"English wording on an English page", en, "Purpose: personalised recommendations in Discover › description", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.w.problems(tt.text)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
