package picture

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/manifest"
)

// ConsentPoint is the consent in force for one purpose at one instant:
// how many subjects' latest decision is a grant, and how many a withdrawal.
type ConsentPoint struct {
	At        time.Time
	Purpose   string
	Granted   int64
	Withdrawn int64
}

// Geometry of the consent chart.
const (
	chartWidth = 720.0
	plotLeft   = 56.0
	plotRight  = chartWidth - 48
	plotTop    = 20.0
	plotHeight = 240.0
	plotBottom = plotTop + plotHeight
)

type consentLine struct {
	purpose string
	label   string
	points  []ConsentPoint // by time
}

func (p ConsentPoint) share() (float64, bool) {
	n := p.Granted + p.Withdrawn
	if n <= 0 {
		return 0, false
	}
	return float64(p.Granted) / float64(n), true
}

// ConsentChart draws, per purpose, the share of subjects who grant consent
// among those who have decided, at each instant of points (as
// store.ConsentSeries returns them). Each purpose is one line with its own
// colour, dash pattern and marker, named in a legend. When m is given,
// purposes are named from it and those it bases on something other than
// consent are left out; purposes it does not know are kept under their
// ids, since the ledger only records consent. Times are labelled in their
// own location. The ids of the title and description start with
// "consent".
func ConsentChart(points []ConsentPoint, m *manifest.Manifest, lang string) template.HTML {
	l := newLang(lang, m)
	lines := consentLines(points, m, l)
	var times []time.Time
	for _, p := range points {
		if !slices.ContainsFunc(times, p.At.Equal) {
			times = append(times, p.At)
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })

	legendRows := (len(lines) + 1) / 2
	height := plotBottom + 44 + float64(legendRows)*22 + 8
	var c canvas
	c.begin("consent", chartWidth, height, l.s("各处理目的的同意率", "Consent rate per purpose"), describeConsent(lines, times, l))

	// Axes and grid: 0–100 % in quarters.
	for q := 0; q <= 4; q++ {
		y := plotBottom - float64(q)*plotHeight/4
		color := gridLine
		if q == 0 {
			color = inkMuted
		}
		c.leaf("path", "d", "M"+num(plotLeft)+" "+num(y)+"H"+num(plotRight), "stroke", color, "stroke-width", "1")
		c.elem("text", fmt.Sprintf("%d%%", q*25), "x", num(plotLeft-6), "y", num(y+4), "text-anchor", "end", "fill", inkMuted)
	}
	c.elem("text", l.s("同意率（已作出选择的人中）", "Granted, of those who decided"), "x", num(plotLeft), "y", "12", "font-size", "11", "fill", inkMuted)
	xOf := timeScale(times)
	layout := timeLayout(times)
	step := max(1, (len(times)+6)/7)
	for i, t := range times {
		if i%step != 0 && i != len(times)-1 {
			continue
		}
		if i != len(times)-1 && len(times)-1-i < step && i != 0 {
			continue // keep the last label clear of its neighbour
		}
		x := xOf(t)
		c.leaf("path", "d", "M"+num(x)+" "+num(plotBottom)+"v5", "stroke", inkMuted, "stroke-width", "1")
		c.elem("text", t.Format(layout), "x", num(x), "y", num(plotBottom+18), "text-anchor", "middle", "fill", inkMuted)
	}
	if len(lines) == 0 {
		c.elem("text", l.s("暂无同意记录", "No consent decisions yet"), "x", num((plotLeft+plotRight)/2), "y", num(plotTop+plotHeight/2), "text-anchor", "middle")
	}

	for i, ln := range lines {
		color, dash := series[i%len(series)], dashes[i%len(dashes)]
		c.open("g")
		c.elem("title", ln.label)
		var d strings.Builder
		pen := false
		for _, p := range ln.points {
			s, ok := p.share()
			if !ok {
				pen = false // nobody had decided: leave a gap
				continue
			}
			if pen {
				d.WriteString("L")
			} else {
				d.WriteString("M")
			}
			d.WriteString(num(xOf(p.At)) + " " + num(plotBottom-s*plotHeight))
			pen = true
		}
		c.leaf("path", "d", d.String(), "fill", "none", "stroke", color, "stroke-width", "2", "stroke-dasharray", dash, "stroke-linejoin", "round")
		for _, p := range ln.points {
			s, ok := p.share()
			if !ok {
				continue
			}
			c.open("g")
			c.elem("title", fmt.Sprintf("%s, %s: %s", ln.label, p.At.Format(layout), shareText(p, l)))
			c.marker(i, xOf(p.At), plotBottom-s*plotHeight, 3.5, color)
			c.close("g")
		}
		c.close("g")
	}

	// Legend: two columns below the axis labels.
	for i, ln := range lines {
		x := plotLeft + float64(i%2)*((plotRight-plotLeft)/2)
		y := plotBottom + 44 + float64(i/2)*22
		color, dash := series[i%len(series)], dashes[i%len(dashes)]
		c.leaf("path", "d", "M"+num(x)+" "+num(y)+"h32", "stroke", color, "stroke-width", "2", "stroke-dasharray", dash)
		c.marker(i, x+16, y, 3.5, color)
		c.label(ln.label, x+40, y+4, (plotRight-plotLeft)/2-48, 12)
	}
	return c.end()
}

// consentLines groups points by purpose, in the manifest's order of
// purposes, then by id.
func consentLines(points []ConsentPoint, m *manifest.Manifest, l lang) []consentLine {
	by := map[string]*consentLine{}
	var order []string
	for _, p := range points {
		ln, ok := by[p.Purpose]
		if !ok {
			label := p.Purpose
			if m != nil {
				if pur, known := m.Purpose(p.Purpose); known {
					if pur.Basis != "consent" {
						continue
					}
					label = l.t(pur.Name, p.Purpose)
				}
			}
			ln = &consentLine{purpose: p.Purpose, label: label}
			by[p.Purpose] = ln
			order = append(order, p.Purpose)
		}
		ln.points = append(ln.points, p)
	}
	rank := map[string]int{}
	if m != nil {
		for i, p := range m.Purposes {
			rank[p.ID] = i + 1
		}
	}
	slices.SortFunc(order, func(a, b string) int {
		ra, rb := rank[a], rank[b]
		if ra == 0 {
			ra = math.MaxInt
		}
		if rb == 0 {
			rb = math.MaxInt
		}
		if ra != rb {
			if ra < rb {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	out := make([]consentLine, 0, len(order))
	for _, id := range order {
		ln := by[id]
		slices.SortStableFunc(ln.points, func(a, b ConsentPoint) int { return a.At.Compare(b.At) })
		out = append(out, *ln)
	}
	return out
}

// timeScale maps the instants onto the plot's width.
func timeScale(times []time.Time) func(time.Time) float64 {
	if len(times) < 2 {
		return func(time.Time) float64 { return (plotLeft + plotRight) / 2 }
	}
	first, span := times[0], times[len(times)-1].Sub(times[0]).Seconds()
	return func(t time.Time) float64 {
		return plotLeft + 8 + t.Sub(first).Seconds()/span*(plotRight-plotLeft-16)
	}
}

// timeLayout shows dates alone when every instant is a midnight.
func timeLayout(times []time.Time) string {
	for _, t := range times {
		if t.Hour() != 0 || t.Minute() != 0 {
			return "01-02 15:04"
		}
	}
	return "2006-01-02"
}

func shareText(p ConsentPoint, l lang) string {
	s, _ := p.share()
	pct := int(math.Round(s * 100))
	return fmt.Sprintf(l.s("%d%%（%d / %d）", "%d%% (%d of %d)"), pct, p.Granted, p.Granted+p.Withdrawn)
}

func describeConsent(lines []consentLine, times []time.Time, l lang) string {
	if len(lines) == 0 || len(times) == 0 {
		return l.s("暂无同意记录。", "No consent decisions yet.")
	}
	layout := timeLayout(times)
	var parts []string
	for _, ln := range lines {
		last := ln.points[len(ln.points)-1]
		if _, ok := last.share(); !ok {
			parts = append(parts, ln.label+l.s("：无人作出选择", ": nobody has decided"))
			continue
		}
		parts = append(parts, ln.label+l.s("：", " ")+shareText(last, l))
	}
	from, to := times[0].Format(layout), times[len(times)-1].Format(layout)
	if l.zh() {
		return fmt.Sprintf("%s 至 %s 期间，已作出选择的人中同意的比例。截至 %s：%s。", from, to, to, strings.Join(parts, "；"))
	}
	return fmt.Sprintf("Share of subjects granting consent among those who decided, per purpose, from %s to %s. At %s: %s.", from, to, to, strings.Join(parts, "; "))
}
