package webtest

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// auditJS checks what can be checked mechanically of WCAG 2.1 AA on the
// page as rendered: a language, one h1 and no skipped heading levels,
// every form control labelled, buttons and links named, images with alt,
// SVG pictures with role=img and a title, unique ids, no sideways
// scrolling, and text contrast of 4.5:1 (3:1 for large text) against the
// nearest opaque background.
const auditJS = `(() => {
  const problems = [];
  const where = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.getAttribute('name') ? '[name=' + el.getAttribute('name') + ']' : '');
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  if (!document.documentElement.lang) problems.push('html has no lang');
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(h1 + ' h1 elements');
  let last = 0;
  for (const h of document.querySelectorAll('h1,h2,h3,h4,h5,h6')) {
    const n = +h.tagName[1];
    if (last && n > last + 1) problems.push('heading jumps from h' + last + ' to h' + n + ': ' + h.textContent.trim().slice(0, 40));
    last = n;
  }
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (['hidden', 'submit', 'button', 'reset'].includes(el.type)) continue;
    const named = (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]')) || el.closest('label') ||
      el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) problems.push('unlabelled ' + where(el));
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (visible(el) && !(el.textContent.trim() || el.getAttribute('aria-label') || el.getAttribute('title'))) problems.push('nameless ' + where(el));
  }
  for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) problems.push('img without alt');
  for (const svg of document.querySelectorAll('svg')) {
    if (svg.getAttribute('aria-hidden') === 'true' || svg.closest('svg') !== svg) continue;
    if (svg.getAttribute('role') !== 'img' || !(svg.querySelector('title') || svg.getAttribute('aria-label'))) problems.push('svg without role=img and a title');
  }
  const ids = new Set();
  for (const el of document.querySelectorAll('[id]')) {
    if (ids.has(el.id)) problems.push('duplicate id ' + el.id);
    ids.add(el.id);
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    problems.push('page scrolls sideways: ' + document.documentElement.scrollWidth + 'px in a ' + window.innerWidth + 'px window');
  }
  const rgb = (s) => { const m = s.match(/[\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 1]; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0.9) return c;
    }
    return [255, 255, 255, 1];
  };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || seen.has(el) || !visible(el) || el.closest('svg')) continue;
    seen.add(el);
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || +st.opacity === 0) continue;
    const fg = rgb(st.color), bg = background(el);
    const l1 = lum(fg), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(st.fontSize), bold = +st.fontWeight >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) problems.push('contrast ' + ratio.toFixed(2) + ' < ' + need + ' for "' + n.textContent.trim().slice(0, 30) + '" (' + where(el) + ')');
  }
  return problems;
})()`

// Audit reports the page's accessibility problems as test errors, each
// prefixed with what names the page.
func Audit(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	problems, err := Problems(ctx)
	if err != nil {
		t.Fatalf("%s: audit: %v", page, err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", page, p)
	}
}

// Problems lists the accessibility problems of the page in ctx.
func Problems(ctx context.Context) ([]string, error) {
	var problems []string
	err := chromedp.Run(ctx, chromedp.Evaluate(auditJS, &problems))
	return problems, err
}
