package picture

import (
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strings"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Columns of the data-flow map.
const (
	colService = iota
	colCategory
	colPurpose
	colRecipient
	nCols
)

// Geometry of the data-flow map, in viewBox units.
const (
	flowWidth  = 1292.0 // the margins, columns and gaps below
	flowMargin = 16.0
	flowGap    = 88.0 // between columns, where the edges run
	nodeHeight = 24.0
	rowPitch   = 30.0
	flowTop    = 56.0 // below the column headings
)

// flowNode is one box of the map.
type flowNode struct {
	col       int
	id        string
	label     string
	sdk       bool     // a third-party SDK rather than a recipient
	sensitive bool     // sensitive personal information
	abroad    []string // countries outside the controller's it goes to
	y         float64  // centre, once laid out
}

func (n *flowNode) crossBorder() bool { return len(n.abroad) > 0 }

// unnamedAbroad stands for a place abroad the policy does not name
// (storage.locations[].abroad with where instead of a country).
const unnamedAbroad = "*"

// places lists the countries a node's information goes to.
func (n *flowNode) places(l lang, sep string) string {
	out := make([]string, len(n.abroad))
	for i, c := range n.abroad {
		out[i] = c
		if c == unnamedAbroad {
			out[i] = l.s("未指明的境外地区", "places abroad the policy does not name")
		}
	}
	return strings.Join(out, sep)
}

type flowEdge struct {
	from, to    *flowNode
	crossBorder bool
}

// flowGraph is the manifest reduced to four columns of nodes and the edges
// between neighbouring columns.
type flowGraph struct {
	home  string
	cols  [nCols][]*flowNode
	byKey map[string]*flowNode
	edges []*flowEdge
	seen  map[[2]*flowNode]*flowEdge
}

func (g *flowGraph) node(col int, id string, create func() *flowNode) *flowNode {
	key := fmt.Sprint(col, "\x00", id)
	if n, ok := g.byKey[key]; ok {
		return n
	}
	if create == nil {
		return nil
	}
	n := create()
	n.col, n.id = col, id
	g.byKey[key] = n
	g.cols[col] = append(g.cols[col], n)
	return n
}

func (g *flowGraph) edge(from, to *flowNode) *flowEdge {
	if from == nil || to == nil {
		return nil
	}
	k := [2]*flowNode{from, to}
	if e, ok := g.seen[k]; ok {
		return e
	}
	e := &flowEdge{from: from, to: to}
	g.seen[k] = e
	g.edges = append(g.edges, e)
	return e
}

// homeCountry is where the controller is; transfers elsewhere cross a
// border. The manifest format takes CN when nothing says otherwise.
func homeCountry(m *manifest.Manifest) string {
	for _, c := range m.Controllers {
		if c.Country != "" {
			return strings.ToUpper(c.Country)
		}
	}
	return "CN"
}

func addCountry(list []string, c string) []string {
	c = strings.ToUpper(c)
	if c == "" || slices.Contains(list, c) {
		return list
	}
	return append(list, c)
}

// buildFlow reduces the manifest to the graph the map draws.
func buildFlow(m *manifest.Manifest, l lang) *flowGraph {
	g := &flowGraph{home: homeCountry(m), byKey: map[string]*flowNode{}, seen: map[[2]*flowNode]*flowEdge{}}
	category := func(id string) *flowNode {
		return g.node(colCategory, id, func() *flowNode {
			c, _ := m.Category(id)
			return &flowNode{label: l.t(c.Name, id), sensitive: m.Sensitive(id)}
		})
	}
	purpose := func(id string) *flowNode {
		return g.node(colPurpose, id, func() *flowNode {
			p, _ := m.Purpose(id)
			return &flowNode{label: l.t(p.Name, id)}
		})
	}
	for _, s := range m.Services {
		sn := g.node(colService, s.ID, func() *flowNode { return &flowNode{label: l.t(s.Name, s.ID)} })
		for _, col := range s.Collects {
			for _, c := range col.Categories {
				cn := category(c)
				g.edge(sn, cn)
				for _, p := range col.Purposes {
					g.edge(cn, purpose(p))
				}
			}
		}
	}
	// Purposes nobody collects for are still promised; show them.
	for _, p := range m.Purposes {
		purpose(p.ID)
	}
	for _, r := range m.Recipients {
		rn := g.node(colRecipient, "r:"+r.ID, func() *flowNode { return &flowNode{label: l.t(r.Name, r.ID)} })
		if r.Country != "" && !strings.EqualFold(r.Country, g.home) {
			rn.abroad = addCountry(rn.abroad, r.Country)
		}
		for _, p := range r.Purposes {
			g.edge(purpose(p), rn)
		}
	}
	for _, s := range m.SDKs {
		sn := g.node(colRecipient, "s:"+s.ID, func() *flowNode { return &flowNode{label: l.t(s.Name, s.ID), sdk: true} })
		if s.Country != "" && !strings.EqualFold(s.Country, g.home) {
			sn.abroad = addCountry(sn.abroad, s.Country)
		}
		// An SDK collects on the device itself: its categories flow to its purposes.
		for _, c := range s.Collects {
			cn := category(c)
			for _, p := range s.Purposes {
				g.edge(cn, purpose(p))
			}
		}
		for _, p := range s.Purposes {
			g.edge(purpose(p), sn)
		}
	}
	for _, x := range m.Storage.CrossBorder {
		from := x.From
		if from == "" {
			from = "CN"
		}
		var dest []string
		for _, to := range x.To {
			if !strings.EqualFold(to, from) {
				dest = addCountry(dest, to)
			}
		}
		if len(dest) == 0 {
			continue
		}
		var tn *flowNode
		if x.Recipient != "" {
			tn = g.node(colRecipient, "r:"+x.Recipient, nil)
		}
		if tn == nil {
			tn = g.node(colRecipient, "x:"+x.ID, func() *flowNode {
				return &flowNode{label: l.s("出境：", "Transfer to ") + strings.Join(dest, ", ")}
			})
		}
		for _, d := range dest {
			tn.abroad = addCountry(tn.abroad, d)
		}
		for _, c := range x.Categories {
			if cn := g.node(colCategory, c, nil); cn != nil {
				for _, d := range dest {
					cn.abroad = addCountry(cn.abroad, d)
				}
			}
		}
		for _, p := range x.Purposes {
			g.edge(purpose(p), tn)
		}
	}
	// Data kept in another country has crossed the border too.
	for _, loc := range m.Storage.Locations {
		country := loc.Country
		if country == "" && loc.Abroad {
			country = unnamedAbroad
		}
		if country == "" || strings.EqualFold(country, g.home) {
			continue
		}
		cats := loc.Categories
		if len(cats) == 0 {
			for _, n := range g.cols[colCategory] {
				cats = append(cats, n.id)
			}
		}
		for _, c := range cats {
			if cn := g.node(colCategory, c, nil); cn != nil {
				cn.abroad = addCountry(cn.abroad, country)
			}
		}
	}
	for _, e := range g.edges {
		e.crossBorder = e.to.col == colRecipient && e.to.crossBorder()
	}
	return g
}

// layout orders each column to reduce edge crossings (barycentre
// heuristic, alternating sweeps) and places the nodes.
func (g *flowGraph) layout() (height float64) {
	rows := 0
	for _, col := range g.cols {
		rows = max(rows, len(col))
	}
	place := func(c int) {
		off := flowTop + float64(rows-len(g.cols[c]))*rowPitch/2 + rowPitch/2
		for i, n := range g.cols[c] {
			n.y = off + float64(i)*rowPitch
		}
	}
	for c := range g.cols {
		place(c)
	}
	in, out := map[*flowNode][]*flowNode{}, map[*flowNode][]*flowNode{}
	for _, e := range g.edges {
		out[e.from] = append(out[e.from], e.to)
		in[e.to] = append(in[e.to], e.from)
	}
	reorder := func(c int, nbrs map[*flowNode][]*flowNode) {
		bary := map[*flowNode]float64{}
		for _, n := range g.cols[c] {
			bary[n] = n.y
			if ns := nbrs[n]; len(ns) > 0 {
				sum := 0.0
				for _, o := range ns {
					sum += o.y
				}
				bary[n] = sum / float64(len(ns))
			}
		}
		sort.SliceStable(g.cols[c], func(i, j int) bool { return bary[g.cols[c][i]] < bary[g.cols[c][j]] })
		place(c)
	}
	for pass := 0; pass < 4; pass++ {
		for c := 1; c < nCols; c++ {
			reorder(c, in)
		}
		for c := nCols - 2; c >= 0; c-- {
			reorder(c, out)
		}
	}
	// With the order fixed, slide the boxes of the shorter columns towards
	// their neighbours so that edges run as level as the spacing allows.
	minY, maxY := flowTop+rowPitch/2, flowTop+float64(rows)*rowPitch-rowPitch/2
	align := func(c int) {
		col := g.cols[c]
		want := make([]float64, len(col))
		for i, n := range col {
			want[i] = n.y
			ns := append(slices.Clone(in[n]), out[n]...)
			if len(ns) > 0 {
				sum := 0.0
				for _, o := range ns {
					sum += o.y
				}
				want[i] = sum / float64(len(ns))
			}
		}
		for i := range col {
			lo := minY
			if i > 0 {
				lo = col[i-1].y + rowPitch
			}
			col[i].y = max(want[i], lo)
		}
		for i := len(col) - 1; i >= 0; i-- {
			hi := maxY
			if i < len(col)-1 {
				hi = col[i+1].y - rowPitch
			}
			col[i].y = min(col[i].y, hi)
		}
	}
	for pass := 0; pass < 3; pass++ {
		for c := 0; c < nCols; c++ {
			align(c)
		}
		for c := nCols - 1; c >= 0; c-- {
			align(c)
		}
	}
	return flowTop + float64(rows)*rowPitch
}

// colWidth is the width of each column's boxes: purpose and recipient
// names run longest.
var colWidth = [nCols]float64{206, 220, 294, 276}

func colX(c int) float64 {
	x := flowMargin
	for i := 0; i < c; i++ {
		x += colWidth[i] + flowGap
	}
	return x
}

// FlowMap draws how personal information flows through the organisation
// described by m: services, the categories they collect, the purposes
// those serve and the recipients and SDKs that receive them. Sensitive
// categories carry a warning mark; whatever leaves the controller's
// country (recipients and SDKs abroad, cross-border transfers, storage
// abroad) carries a globe mark with the countries, and flows into it are
// dashed. lang is "zh-CN" or "en"; texts missing in it fall back to the
// policy's prevailing language. The ids of the title and description
// start with "flowmap".
func FlowMap(m *manifest.Manifest, lang string) template.HTML {
	l := newLang(lang, m)
	g := buildFlow(m, l)
	bottom := g.layout()
	legendY := bottom + 20
	height := legendY + 44

	var c canvas
	c.begin("flowmap", flowWidth, height, l.s("个人信息流向图", "Personal information flow map"), g.describe(l))

	heads := [nCols]string{l.s("服务", "Services"), l.s("个人信息", "Personal information"), l.s("处理目的", "Purposes"), l.s("接收方与 SDK", "Recipients and SDKs")}
	for i, h := range heads {
		c.label(fmt.Sprintf("%s (%d)", h, len(g.cols[i])), colX(i), 28, colWidth[i], 14, "font-weight", "bold")
		c.leaf("path", "d", "M"+num(colX(i))+" 38H"+num(colX(i)+colWidth[i]), "stroke", inkText, "stroke-width", "1")
	}

	// Edges first, so that boxes sit on top of them; cross-border flows last
	// so that no ordinary edge hides them.
	c.open("g", "fill", "none", "stroke", edgeColor, "stroke-width", "1", "stroke-opacity", "0.55")
	for _, e := range g.edges {
		if !e.crossBorder {
			c.leaf("path", "d", curve(e))
		}
	}
	c.close("g")
	c.open("g", "fill", "none", "stroke", alarm, "stroke-width", "1.6", "stroke-dasharray", "6 3")
	for _, e := range g.edges {
		if e.crossBorder {
			c.leaf("path", "d", curve(e))
		}
	}
	c.close("g")

	for col := range g.cols {
		for _, n := range g.cols[col] {
			g.drawNode(&c, n, l)
		}
	}
	g.legend(&c, legendY, l)
	return c.end()
}

// curve is a horizontal S-curve from the right edge of one box to the
// left edge of the next column's box.
func curve(e *flowEdge) string {
	x1, x2 := colX(e.from.col)+colWidth[e.from.col], colX(e.to.col)
	mid := (x1 + x2) / 2
	return "M" + num(x1) + " " + num(e.from.y) + "C" + num(mid) + " " + num(e.from.y) + " " + num(mid) + " " + num(e.to.y) + " " + num(x2) + " " + num(e.to.y)
}

func (g *flowGraph) drawNode(c *canvas, n *flowNode, l lang) {
	x, top := colX(n.col), n.y-nodeHeight/2
	var title []string
	title = append(title, n.label)
	if n.sensitive {
		title = append(title, l.s("敏感个人信息", "sensitive personal information"))
	}
	if n.sdk {
		title = append(title, l.s("第三方 SDK", "third-party SDK"))
	}
	if n.crossBorder() {
		title = append(title, l.s("出境：", "cross-border: ")+n.places(l, ", "))
	}
	c.open("g")
	c.elem("title", strings.Join(title, l.s("；", "; ")))
	stroke, width, dash := "#5a5a5a", "1", ""
	if n.crossBorder() {
		stroke, width, dash = alarm, "1.6", "6 3"
	}
	if n.sensitive {
		width = "2"
		if !n.crossBorder() {
			stroke = alarm
		}
	}
	c.leaf("rect", "x", num(x), "y", num(top), "width", num(colWidth[n.col]), "height", num(nodeHeight), "rx", "4",
		"fill", fillOf(n.col), "stroke", stroke, "stroke-width", width, "stroke-dasharray", dash)
	left, right := x+8, x+colWidth[n.col]-6
	if n.sensitive {
		c.warnMark(left+5, n.y)
		left += 15
	}
	if n.crossBorder() {
		tag := strings.ReplaceAll(strings.Join(n.abroad, ","), unnamedAbroad, l.s("境外", "abroad"))
		tag, _ = fit(tag, 48, 10)
		tw := textWidth(tag, 10) * 1.15 // bold
		c.elem("text", tag, "x", num(right), "y", num(n.y+3.5), "font-size", "10", "text-anchor", "end", "font-weight", "bold")
		right -= tw + 3
		c.globeMark(right-6, n.y)
		right -= 16
	}
	if n.sdk {
		c.leaf("rect", "x", num(right-26), "y", num(n.y-7), "width", "26", "height", "14", "rx", "2", "fill", paper, "stroke", inkMuted, "stroke-width", "1")
		c.elem("text", "SDK", "x", num(right-13), "y", num(n.y+3.5), "font-size", "9", "text-anchor", "middle")
		right -= 30
	}
	short, _ := fit(n.label, right-left-4, 12)
	c.elem("text", short, "x", num(left), "y", num(n.y+4))
	c.close("g")
}

// fillOf tints each column's boxes lightly; text on them keeps a
// contrast well above 4.5:1.
func fillOf(col int) string {
	return [...]string{"#e8f1f8", "#fdf3e1", "#e6f4ef", "#f6eaf1"}[col]
}

func (g *flowGraph) legend(c *canvas, y float64, l lang) {
	c.leaf("path", "d", "M"+num(flowMargin)+" "+num(y-10)+"H"+num(flowWidth-flowMargin), "stroke", gridLine, "stroke-width", "1")
	x := flowMargin
	item := func(w float64, draw func(x float64), text string) {
		draw(x)
		c.elem("text", text, "x", num(x+w+6), "y", num(y+14))
		x += w + 6 + textWidth(text, 12) + 24
	}
	item(30, func(x float64) {
		c.leaf("path", "d", "M"+num(x)+" "+num(y+10)+"H"+num(x+30), "stroke", edgeColor, "stroke-width", "1.4")
	}, l.s("信息流向", "Flow"))
	item(30, func(x float64) {
		c.leaf("path", "d", "M"+num(x)+" "+num(y+10)+"H"+num(x+30), "stroke", alarm, "stroke-width", "1.6", "stroke-dasharray", "6 3")
	}, l.s("出境流向", "Cross-border flow"))
	item(14, func(x float64) { c.globeMark(x+7, y+10) }, l.s("出境（境外国家/地区，相对于 ", "Leaves ")+g.home+l.s("）", " (destination countries shown)"))
	item(14, func(x float64) { c.warnMark(x+7, y+10) }, l.s("敏感个人信息", "Sensitive personal information"))
	item(26, func(x float64) {
		c.leaf("rect", "x", num(x), "y", num(y+3), "width", "26", "height", "14", "rx", "2", "fill", paper, "stroke", inkMuted, "stroke-width", "1")
		c.elem("text", "SDK", "x", num(x+13), "y", num(y+13.5), "font-size", "9", "text-anchor", "middle")
	}, l.s("第三方 SDK", "Third-party SDK"))
}

// describe says in words what the map shows.
func (g *flowGraph) describe(l lang) string {
	var sens, abroad []string
	for _, n := range g.cols[colCategory] {
		if n.sensitive {
			sens = append(sens, n.label)
		}
	}
	sdks := 0
	for _, n := range g.cols[colRecipient] {
		if n.sdk {
			sdks++
		}
	}
	for _, col := range g.cols {
		for _, n := range col {
			if n.crossBorder() {
				abroad = append(abroad, n.label+" ("+n.places(l, ", ")+")")
			}
		}
	}
	var b strings.Builder
	if l.zh() {
		fmt.Fprintf(&b, "%d 项服务收集 %d 类个人信息（其中敏感个人信息 %d 类），用于 %d 项处理目的，提供给 %d 个接收方和 %d 个 SDK。",
			len(g.cols[colService]), len(g.cols[colCategory]), len(sens), len(g.cols[colPurpose]), len(g.cols[colRecipient])-sdks, sdks)
		if len(sens) > 0 {
			b.WriteString("敏感个人信息：" + l.list(sens) + "。")
		}
		if len(abroad) > 0 {
			b.WriteString("出境（相对于 " + g.home + "）：" + l.list(abroad) + "。")
		} else {
			b.WriteString("没有出境。")
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%d services collect %d categories of personal information (%d sensitive) for %d purposes; %d recipients and %d SDKs receive it.",
		len(g.cols[colService]), len(g.cols[colCategory]), len(sens), len(g.cols[colPurpose]), len(g.cols[colRecipient])-sdks, sdks)
	if len(sens) > 0 {
		b.WriteString(" Sensitive: " + l.list(sens) + ".")
	}
	if len(abroad) > 0 {
		b.WriteString(" Leaving " + g.home + ": " + l.list(abroad) + ".")
	} else {
		b.WriteString(" Nothing leaves " + g.home + ".")
	}
	return b.String()
}
