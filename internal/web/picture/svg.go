// Package picture draws the admin console's pictures as inline SVG on the
// server: the data-flow map of a manifest, consent rates over time and the
// state of data-subject requests. Nothing runs in the browser.
//
// Every picture is an <svg role="img"> with a <title> and a <desc> that
// says in words what the picture shows, sized by its viewBox alone so it
// scales to any width. Text is escaped as XML; colours come from a
// colour-blind safe palette and never carry meaning alone (markers and
// dash patterns repeat it). There are no style attributes or <style>
// elements, so a style-src 'self' policy leaves the pictures intact.
package picture

import (
	"encoding/xml"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Colours. Text is inkText on white or on the pale fills (contrast above
// 12:1); lines and marks use the darker members of the Okabe–Ito palette so
// they stand out from white by at least 3:1.
const (
	inkText   = "#1a1a1a"
	inkMuted  = "#4d4d4d" // 8.5:1 on white
	gridLine  = "#d0d0d0"
	edgeColor = "#7a7a7a"
	alarm     = "#b34700" // dark vermillion: cross-border, overdue
	paper     = "#ffffff"
)

// series are the line colours of a chart, each paired below with a dash
// pattern and a marker so that no series is told apart by colour alone.
var series = []string{"#0072b2", "#b34700", "#007d5e", "#a6507f", "#8a6500", "#1a1a1a", "#3d7ea6", "#6a3d9a"}

var dashes = []string{"", "8 4", "2 3", "10 3 2 3", "4 4", "12 4 2 4 2 4", "1 2", "6 2 6 6"}

// lang is the language a picture is labelled in.
type lang struct {
	key string // Text key: zh or en
}

func newLang(tag string, _ *manifest.Manifest) lang {
	return lang{key: textKey(tag)}
}

func textKey(tag string) string {
	if strings.HasPrefix(tag, "zh") {
		return "zh"
	}
	return "en"
}

func (l lang) zh() bool { return l.key == "zh" }

// s picks the Chinese or English form of a phrase.
func (l lang) s(zh, en string) string {
	if l.zh() {
		return zh
	}
	return en
}

// t returns a manifest text in the language (manifest.Text.In); def when
// it is empty.
func (l lang) t(t manifest.Text, def string) string {
	if s := strings.TrimSpace(t.In(l.key)); s != "" {
		return s
	}
	return def
}

// list joins phrases: "A, B, C" / "A、B、C".
func (l lang) list(items []string) string {
	return strings.Join(items, l.s("、", ", "))
}

// canvas writes SVG markup. Attribute values and text always pass through
// xml escaping; element and attribute names are constants of this package.
type canvas struct {
	b strings.Builder
}

func (c *canvas) esc(s string) {
	// EscapeText never fails writing to a strings.Builder.
	_ = xml.EscapeText(&c.b, []byte(s))
}

func (c *canvas) attrs(kv []string) {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" && kv[i] != "d" {
			continue
		}
		c.b.WriteByte(' ')
		c.b.WriteString(kv[i])
		c.b.WriteString(`="`)
		c.esc(kv[i+1])
		c.b.WriteByte('"')
	}
}

// open starts an element; kv are name, value pairs (empty values skipped).
func (c *canvas) open(name string, kv ...string) {
	c.b.WriteByte('<')
	c.b.WriteString(name)
	c.attrs(kv)
	c.b.WriteString(">")
}

func (c *canvas) close(name string) {
	c.b.WriteString("</")
	c.b.WriteString(name)
	c.b.WriteString(">\n")
}

// leaf writes an empty element.
func (c *canvas) leaf(name string, kv ...string) {
	c.b.WriteByte('<')
	c.b.WriteString(name)
	c.attrs(kv)
	c.b.WriteString("/>\n")
}

// elem writes an element holding text.
func (c *canvas) elem(name, text string, kv ...string) {
	c.open(name, kv...)
	c.esc(text)
	c.close(name)
}

// begin opens the root element with its accessible name and description.
// id prefixes the ids of the title and description, which must be unique
// in the page.
func (c *canvas) begin(id string, w, h float64, title, desc string) {
	c.open("svg", "xmlns", "http://www.w3.org/2000/svg", "viewBox", "0 0 "+num(w)+" "+num(h), "width", "100%",
		"role", "img", "aria-labelledby", id+"-title "+id+"-desc", "font-family", "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', sans-serif",
		"font-size", "12", "fill", inkText)
	c.b.WriteByte('\n')
	c.elem("title", title, "id", id+"-title")
	c.elem("desc", desc, "id", id+"-desc")
	c.leaf("rect", "x", "0", "y", "0", "width", num(w), "height", num(h), "fill", paper)
}

func (c *canvas) end() template.HTML {
	c.close("svg")
	// Safe: every piece of text went through xml escaping above.
	return template.HTML(c.b.String())
}

// num formats a coordinate with at most one decimal.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// textWidth estimates the width of s in pixels at the given font size:
// wide (CJK) runes take a full em, capitals and digits about two thirds,
// other runes a little over half.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w * size
}

func runeWidth(r rune) float64 {
	switch {
	case r >= 0x2e80 && r <= 0xa4cf, r >= 0xac00 && r <= 0xd7a3, r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f, r >= 0xff00 && r <= 0xff60:
		return 1
	case r == 'i' || r == 'l' || r == 'j' || r == '.' || r == ',' || r == '\'' || r == '|' || r == ' ':
		return 0.3
	case r == 'm' || r == 'w' || r == 'M' || r == 'W' || r == '&' || r == '@' || r == '%' || r == '<' || r == '>' || r == '=':
		return 0.85
	case unicode.IsUpper(r) || unicode.IsDigit(r):
		return 0.65
	}
	return 0.58
}

// fit shortens s to fit width pixels, ending it with an ellipsis, and
// reports whether it did.
func fit(s string, width, size float64) (string, bool) {
	s = strings.Join(strings.Fields(s), " ")
	if textWidth(s, size) <= width {
		return s, false
	}
	limit := width - textWidth("…", size)
	w := 0.0
	for i, r := range s {
		w += runeWidth(r) * size
		if w > limit {
			return strings.TrimRight(s[:i], " ,、，") + "…", true
		}
	}
	return s, false
}

// label writes text at (x, y), shortened to width; a shortened label
// carries the full text in a <title> so it shows on hover and reaches
// assistive technology.
func (c *canvas) label(s string, x, y, width, size float64, kv ...string) {
	short, cut := fit(s, width, size)
	all := append([]string{"x", num(x), "y", num(y)}, kv...)
	if size != 12 {
		all = append(all, "font-size", num(size))
	}
	c.open("text", all...)
	if cut {
		c.elem("title", s)
	}
	c.esc(short)
	c.close("text")
}

// marker draws shape i (circle, square, triangle, diamond, cross, …)
// centred on (x, y).
func (c *canvas) marker(i int, x, y, r float64, color string) {
	switch i % 8 {
	case 0:
		c.leaf("circle", "cx", num(x), "cy", num(y), "r", num(r), "fill", color)
	case 1:
		c.leaf("rect", "x", num(x-r), "y", num(y-r), "width", num(2*r), "height", num(2*r), "fill", color)
	case 2:
		c.leaf("path", "d", "M"+num(x)+" "+num(y-r*1.2)+"L"+num(x+r*1.1)+" "+num(y+r*0.8)+"L"+num(x-r*1.1)+" "+num(y+r*0.8)+"Z", "fill", color)
	case 3:
		c.leaf("path", "d", "M"+num(x)+" "+num(y-r*1.3)+"L"+num(x+r*1.3)+" "+num(y)+"L"+num(x)+" "+num(y+r*1.3)+"L"+num(x-r*1.3)+" "+num(y)+"Z", "fill", color)
	case 4:
		c.leaf("path", "d", "M"+num(x-r)+" "+num(y-r)+"L"+num(x+r)+" "+num(y+r)+"M"+num(x+r)+" "+num(y-r)+"L"+num(x-r)+" "+num(y+r), "stroke", color, "stroke-width", "2.5")
	case 5:
		c.leaf("circle", "cx", num(x), "cy", num(y), "r", num(r), "fill", paper, "stroke", color, "stroke-width", "2")
	case 6:
		c.leaf("rect", "x", num(x-r), "y", num(y-r), "width", num(2*r), "height", num(2*r), "fill", paper, "stroke", color, "stroke-width", "2")
	default:
		c.leaf("path", "d", "M"+num(x)+" "+num(y+r*1.2)+"L"+num(x+r*1.1)+" "+num(y-r*0.8)+"L"+num(x-r*1.1)+" "+num(y-r*0.8)+"Z", "fill", color)
	}
}

// warnMark draws the sensitive-information mark: a triangle with "!".
func (c *canvas) warnMark(x, y float64) {
	c.leaf("path", "d", "M"+num(x)+" "+num(y-6)+"L"+num(x+6.5)+" "+num(y+5)+"L"+num(x-6.5)+" "+num(y+5)+"Z", "fill", alarm)
	c.elem("text", "!", "x", num(x), "y", num(y+4), "font-size", "9", "font-weight", "bold", "text-anchor", "middle", "fill", paper)
}

// globeMark draws the cross-border mark: a globe with a meridian and the equator.
func (c *canvas) globeMark(x, y float64) {
	c.leaf("circle", "cx", num(x), "cy", num(y), "r", "6", "fill", paper, "stroke", alarm, "stroke-width", "1.6")
	c.leaf("ellipse", "cx", num(x), "cy", num(y), "rx", "2.6", "ry", "6", "fill", "none", "stroke", alarm, "stroke-width", "1.2")
	c.leaf("path", "d", "M"+num(x-6)+" "+num(y)+"H"+num(x+6), "stroke", alarm, "stroke-width", "1.2")
}
