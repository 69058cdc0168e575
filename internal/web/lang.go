package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Messages are translations: key → language → text. A text may hold
// fmt verbs filled by the page's arguments.
type Messages map[string]map[string]string

// Catalog looks messages up, falling back from the asked language to
// English and then to the key itself, so a missing translation shows as
// its key rather than as nothing.
type Catalog struct{ m Messages }

// NewCatalog merges the shared messages with a package's own; the
// package's win on a clash.
func NewCatalog(own ...Messages) *Catalog {
	c := &Catalog{m: Messages{}}
	for k, v := range shared {
		c.m[k] = v
	}
	for _, m := range own {
		for k, v := range m {
			c.m[k] = v
		}
	}
	return c
}

// T translates key into lang.
func (c *Catalog) T(lang, key string, args ...any) string {
	tr, ok := c.m[key]
	if !ok {
		return key
	}
	s, ok := tr[lang]
	if !ok {
		s = tr["en"]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether key is in the catalogue.
func (c *Catalog) Has(key string) bool { _, ok := c.m[key]; return ok }

// Lang picks the page language: the lang query parameter, then the
// browser's Accept-Language, then def. Only Languages are ever returned.
func Lang(r *http.Request, def string) string {
	if l := matchLang(r.URL.Query().Get("lang")); l != "" {
		return l
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if l := matchLang(tag); l != "" {
			return l
		}
	}
	if l := matchLang(def); l != "" {
		return l
	}
	return Languages[0]
}

func matchLang(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	switch {
	case tag == "":
		return ""
	case tag == "zh" || strings.HasPrefix(tag, "zh-"):
		return "zh-CN"
	case tag == "en" || strings.HasPrefix(tag, "en-"):
		return "en"
	}
	return ""
}

// WithLang returns u (a path with an optional query) with lang set.
func WithLang(u, lang string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	q.Set("lang", lang)
	p.RawQuery = q.Encode()
	return p.String()
}

type ctxKey int

const trustProxyKey ctxKey = iota

// TrustProxy marks requests as coming through a proxy whose
// X-Forwarded-Proto may be believed.
func TrustProxy(next http.Handler, trust bool) http.Handler {
	if !trust {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), trustProxyKey, true)))
	})
}

func trustProxy(r *http.Request) bool {
	v, _ := r.Context().Value(trustProxyKey).(bool)
	return v
}

// shared are the messages of the layout.
var shared = Messages{
	"lang.zh-CN":        {"zh-CN": "中文", "en": "中文"},
	"lang.en":           {"zh-CN": "English", "en": "English"},
	"langname.zh-CN":    {"zh-CN": "中文", "en": "Chinese"},
	"langname.en":       {"zh-CN": "英文", "en": "English"},
	"layout.skip":       {"zh-CN": "跳到正文", "en": "Skip to content"},
	"layout.languages":  {"zh-CN": "语言", "en": "Language"},
	"layout.prevailing": {"zh-CN": "本政策以%s版本为准。", "en": "The %s version of the policy prevails."},
	"layout.poweredby":  {"zh-CN": "由 Custos 提供", "en": "Served by Custos"},
	"error.title":       {"zh-CN": "出错了", "en": "Something went wrong"},
	"error.notfound":    {"zh-CN": "找不到该页面。", "en": "There is no such page."},
	"error.forbidden":   {"zh-CN": "此操作未被允许。", "en": "This action is not allowed."},
	"error.csrf":        {"zh-CN": "表单已过期，请刷新页面后重试。", "en": "The form has expired. Reload the page and try again."},
	"error.too_large":   {"zh-CN": "提交的内容过大。", "en": "What was sent is too large."},
	"error.bad_form":    {"zh-CN": "无法读取提交的表单。", "en": "The form sent could not be read."},
	"error.invalid_text": {"zh-CN": "字段 %s 含有控制字符或无效的 UTF-8 编码，请删除后重试。",
		"en": "The field %s holds a control character or invalid UTF-8. Remove it and try again."},
	"error.invalid_text_unnamed": {"zh-CN": "表单含有控制字符或无效的 UTF-8 编码，请删除后重试。",
		"en": "The form holds a control character or invalid UTF-8. Remove it and try again."},
	"error.internal": {"zh-CN": "服务器出错，请稍后再试。", "en": "The server failed. Please try again later."},
	"error.back":     {"zh-CN": "返回", "en": "Back"},
}
