package picture

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"sort"
	"strings"
)

// stateNames name the request states of the dsr workflow, in its order.
// The package does not import dsr (and all it depends on) for ten
// strings; a state missing here is still drawn, under its own name.
var stateNames = []struct{ state, zh, en string }{
	{"received", "已接收", "Received"},
	{"awaiting_verification", "待验证身份", "Awaiting verification"},
	{"verified", "已验证", "Verified"},
	{"in_progress", "处理中", "In progress"},
	{"awaiting_subject", "待本人答复", "Awaiting the subject"},
	{"awaiting_fee", "待支付费用", "Awaiting the fee"},
	{"extended", "已延期", "Extended"},
	{"completed", "已完成", "Completed"},
	{"refused", "已拒绝", "Refused"},
	{"cancelled", "已取消", "Cancelled"},
	{"withdrawn", "已撤回", "Withdrawn"},
}

// Geometry of the bar charts.
const (
	barsWidth = 640.0
	barLabelW = 170.0
	barPitch  = 26.0
	barHeight = 16.0
)

type bar struct {
	label string
	n     int64
	open  bool
}

// RequestStates draws one horizontal bar per request state with its
// count: the open states (pass dsr.OpenStates) in workflow order, then a
// rule, then the closed ones. Every known state is shown, at zero when it has no requests;
// unknown states follow under their own names. Open bars are solid, closed
// bars hatched with an outline, so the two differ without colour. The ids
// of the title and description start with "requests-state".
func RequestStates(counts map[string]int64, open []string, lang string) template.HTML {
	l := newLang(lang, nil)
	var bars []bar
	known := map[string]bool{}
	for _, s := range stateNames {
		known[s.state] = true
		bars = append(bars, bar{label: l.s(s.zh, s.en), n: counts[s.state], open: slices.Contains(open, s.state)})
	}
	var extra []string
	for st := range counts {
		if !known[st] {
			extra = append(extra, st)
		}
	}
	sort.Strings(extra)
	for _, st := range extra {
		bars = append(bars, bar{label: st, n: counts[st], open: slices.Contains(open, st)})
	}
	sort.SliceStable(bars, func(i, j int) bool { return bars[i].open && !bars[j].open })

	var top, nOpenReq, total int64
	var parts []string
	for _, b := range bars {
		top = max(top, b.n)
		total += b.n
		if b.open {
			nOpenReq += b.n
		}
		parts = append(parts, fmt.Sprintf("%s %d", b.label, b.n))
	}
	desc := fmt.Sprintf(l.s("共 %d 件请求，其中 %d 件未办结。按状态：%s。", "%d requests, %d of them open. By state: %s."),
		total, nOpenReq, strings.Join(parts, l.s("，", ", ")))

	nOpen := 0
	for _, b := range bars {
		if b.open {
			nOpen++
		}
	}
	gapY := 22.0
	height := 40 + float64(len(bars))*barPitch + gapY + 16
	var c canvas
	c.begin("requests-state", barsWidth, height, l.s("各状态的请求数", "Requests by state"), desc)
	c.open("defs")
	c.open("pattern", "id", "requests-state-hatch", "width", "6", "height", "6", "patternUnits", "userSpaceOnUse", "patternTransform", "rotate(45)")
	c.leaf("rect", "width", "6", "height", "6", "fill", "#dceaf5")
	c.leaf("path", "d", "M0 0V6", "stroke", "#0072b2", "stroke-width", "2")
	c.close("pattern")
	c.close("defs")

	scale := barScale(top, barsWidth-barLabelW-60)
	y := 28.0
	c.elem("text", l.s("未办结", "Open"), "x", "8", "y", num(y-8), "font-weight", "bold")
	for i, b := range bars {
		if i == nOpen {
			y += gapY
			c.leaf("path", "d", "M8 "+num(y-14)+"H"+num(barsWidth-8), "stroke", gridLine, "stroke-width", "1")
			c.elem("text", l.s("已办结", "Closed"), "x", "8", "y", num(y-2), "font-weight", "bold")
			y += 6
		}
		cy := y + barPitch/2
		c.label(b.label, barLabelW-8, cy+4, barLabelW-16, 12, "text-anchor", "end")
		w := scale(b.n)
		fill, stroke := "#0072b2", ""
		if !b.open {
			fill, stroke = "url(#requests-state-hatch)", "#0072b2"
		}
		if w > 0 {
			c.leaf("rect", "x", num(barLabelW), "y", num(cy-barHeight/2), "width", num(w), "height", num(barHeight), "fill", fill, "stroke", stroke, "stroke-width", "1")
		}
		c.elem("text", itoa(b.n), "x", num(barLabelW+w+6), "y", num(cy+4))
		y += barPitch
	}
	return c.end()
}

// barScale maps counts onto at most width pixels; a non-zero count always
// gets a sliver so that it is not mistaken for none.
func barScale(top int64, width float64) func(int64) float64 {
	return func(n int64) float64 {
		if n <= 0 || top <= 0 {
			return 0
		}
		return max(2, float64(n)/float64(top)*width)
	}
}

// Deadline buckets of open requests, by days left until the due date.
var deadlineBuckets = []struct {
	lo, hi int // inclusive; math.MinInt / math.MaxInt for open ends
	zh, en string
}{
	{math.MinInt, -1, "已逾期", "Overdue"},
	{0, 2, "0–2 天", "0–2 days"},
	{3, 5, "3–5 天", "3–5 days"},
	{6, 10, "6–10 天", "6–10 days"},
	{11, 15, "11–15 天", "11–15 days"},
	{16, math.MaxInt, "15 天以上", "Over 15 days"},
}

// RequestDeadlines draws open requests as a histogram of the days left
// until they fall due: overdue, 0–2, 3–5, 6–10, 11–15 and more than 15
// days. daysLeft counts requests per number of days left (as dsr.Counts counts them).
// The overdue bar is marked with a warning sign as well as its colour.
// The ids of the title and description start with "requests-due".
func RequestDeadlines(daysLeft map[int]int64, lang string) template.HTML {
	l := newLang(lang, nil)
	counts := make([]int64, len(deadlineBuckets))
	var top, total int64
	for d, n := range daysLeft {
		for i, b := range deadlineBuckets {
			if d >= b.lo && d <= b.hi {
				counts[i] += n
				break
			}
		}
		total += n
	}
	var parts []string
	for i, b := range deadlineBuckets {
		top = max(top, counts[i])
		parts = append(parts, fmt.Sprintf("%s %d", l.s(b.zh, b.en), counts[i]))
	}
	desc := fmt.Sprintf(l.s("未办结的请求共 %d 件，按距期限的天数：%s。", "%d open requests by days left until the deadline: %s."),
		total, strings.Join(parts, l.s("，", ", ")))

	const (
		left, right  = 48.0, barsWidth - 16
		top0, bottom = 36.0, 216.0
	)
	height := bottom + 48
	var c canvas
	c.begin("requests-due", barsWidth, height, l.s("未办结请求距期限的天数", "Open requests by days to deadline"), desc)
	c.elem("text", l.s("请求数", "Requests"), "x", num(left), "y", "16", "font-size", "11", "fill", inkMuted)
	c.leaf("path", "d", "M"+num(left)+" "+num(bottom)+"H"+num(right), "stroke", inkMuted, "stroke-width", "1")
	slot := (right - left) / float64(len(deadlineBuckets))
	bw := slot * 0.62
	for i, b := range deadlineBuckets {
		x := left + float64(i)*slot + (slot-bw)/2
		h := 0.0
		if top > 0 && counts[i] > 0 {
			h = max(2, float64(counts[i])/float64(top)*(bottom-top0-18))
		}
		fill := "#0072b2"
		if i == 0 {
			fill = alarm
		}
		c.open("g")
		c.elem("title", fmt.Sprintf("%s: %d", l.s(b.zh, b.en), counts[i]))
		if h > 0 {
			c.leaf("rect", "x", num(x), "y", num(bottom-h), "width", num(bw), "height", num(h), "fill", fill)
		}
		c.elem("text", itoa(counts[i]), "x", num(x+bw/2), "y", num(bottom-h-6), "text-anchor", "middle", "font-weight", "bold")
		if i == 0 && counts[i] > 0 {
			c.warnMark(x+bw/2, bottom-h-26)
		}
		c.label(l.s(b.zh, b.en), x+bw/2, bottom+18, slot-4, 12, "text-anchor", "middle")
		c.close("g")
	}
	c.elem("text", l.s("距期限的天数（自然日）", "Days left until the deadline (calendar days)"), "x", num((left+right)/2), "y", num(bottom+40), "text-anchor", "middle", "font-size", "11", "fill", inkMuted)
	return c.end()
}
