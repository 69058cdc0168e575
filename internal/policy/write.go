package policy

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// Formats the writers produce.
var Formats = []string{"markdown", "html"}

// Write writes doc in format (markdown or html).
func Write(w io.Writer, doc *Document, format string) error {
	switch format {
	case "markdown", "md":
		return writeMarkdown(w, doc)
	case "html":
		return writeHTML(w, doc)
	}
	return fmt.Errorf("unsupported format %q: want markdown or html", format)
}

// number gives section numbers: 一、二、… in Chinese, 1. 2. … in English.
func number(lang string, path []int) string {
	if len(path) == 1 && strings.HasPrefix(lang, "zh") {
		return zhNumeral(path[0]) + "、"
	}
	parts := make([]string, len(path))
	for i, n := range path {
		parts[i] = fmt.Sprint(n)
	}
	s := strings.Join(parts, ".")
	if len(path) == 1 {
		s += "."
	}
	return s
}

// SectionNumber is the number of the section at path (1-based indexes
// from the top) followed by what separates it from the title: "一、" at
// the top level in Chinese, "1. " and "1.2 " otherwise.
func SectionNumber(lang string, path []int) string {
	n := number(lang, path)
	if strings.HasSuffix(n, "、") {
		return n
	}
	return n + " "
}

func zhNumeral(n int) string {
	digits := []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	switch {
	case n < 10:
		return digits[n]
	case n == 10:
		return "十"
	case n < 20:
		return "十" + digits[n-10]
	case n < 100:
		s := digits[n/10] + "十"
		if n%10 != 0 {
			s += digits[n%10]
		}
		return s
	}
	return fmt.Sprint(n)
}

func anchor(path []int) string {
	parts := make([]string, len(path))
	for i, n := range path {
		parts[i] = fmt.Sprint(n)
	}
	return "s" + strings.Join(parts, "-")
}

func tocTitle(lang string) string {
	switch {
	case lang == "zh-Hant":
		return "目錄"
	case strings.HasPrefix(lang, "zh"):
		return "目录"
	}
	return "Contents"
}

// ---- Markdown ----

func writeMarkdown(w io.Writer, doc *Document) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", mdEscape(doc.Title))
	for _, m := range doc.Meta {
		fmt.Fprintf(&b, "%s  \n", mdEscape(m))
	}
	b.WriteString("\n## " + tocTitle(doc.Lang) + "\n\n")
	for i, s := range doc.Sections {
		fmt.Fprintf(&b, "- [%s%s](#%s)\n", SectionNumber(doc.Lang, []int{i + 1}), mdEscape(s.Title), anchor([]int{i + 1}))
	}
	b.WriteString("\n")
	for i, s := range doc.Sections {
		mdSection(&b, doc.Lang, s, []int{i + 1})
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdSection(b *strings.Builder, lang string, s Section, path []int) {
	level := min(len(path)+1, 6)
	fmt.Fprintf(b, "%s <a id=\"%s\"></a>%s%s\n\n", strings.Repeat("#", level), anchor(path), SectionNumber(lang, path), mdEscape(s.Title))
	for _, bl := range s.Blocks {
		switch x := bl.(type) {
		case Para:
			b.WriteString(mdInline(x.Text) + "\n\n")
		case List:
			for i, it := range x.Items {
				if x.Ordered {
					fmt.Fprintf(b, "%d. %s\n", i+1, mdInline(it))
				} else {
					fmt.Fprintf(b, "- %s\n", mdInline(it))
				}
			}
			b.WriteString("\n")
		case Table:
			b.WriteString("|")
			for _, h := range x.Head {
				b.WriteString(" " + mdCell(h) + " |")
			}
			b.WriteString("\n|")
			for range x.Head {
				b.WriteString(" --- |")
			}
			b.WriteString("\n")
			for _, row := range x.Rows {
				b.WriteString("|")
				for _, c := range row {
					b.WriteString(" " + mdCell(c) + " |")
				}
				b.WriteString("\n")
			}
			b.WriteString("\n")
		}
	}
	for i, sub := range s.Subs {
		mdSection(b, lang, sub, append(append([]int{}, path...), i+1))
	}
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "#", `\#`, "|", `\|`)

// mdEscape escapes manifest text so it renders literally.
func mdEscape(s string) string { return mdEscaper.Replace(s) }

// mdInline escapes text but keeps **bold** spans.
func mdInline(s string) string {
	var b strings.Builder
	for i, part := range strings.Split(s, "**") {
		if i%2 == 1 {
			b.WriteString("**" + mdEscape(part) + "**")
		} else {
			b.WriteString(mdEscape(part))
		}
	}
	return b.String()
}

func mdCell(s string) string {
	if s == "" {
		return "—"
	}
	return strings.ReplaceAll(mdInline(s), "\n", "<br>")
}

// ---- HTML ----

const css = `body{font-family:system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;line-height:1.7;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.meta{color:#555;margin:0}nav{background:#f6f6f6;padding:.8rem 1.2rem;border-radius:6px;margin:1.5rem 0}
nav ol{margin:0;padding-left:1.2rem}table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.92rem}
th,td{border:1px solid #ccc;padding:.4rem .55rem;vertical-align:top;text-align:left}th{background:#f0f0f0}
a{color:#0645ad;overflow-wrap:anywhere}td{overflow-wrap:anywhere}
@media print{body{max-width:none;margin:0;font-size:10.5pt}nav{background:none;border:1px solid #ccc}h2{break-after:avoid}tr{break-inside:avoid}a{color:inherit}}`

func writeHTML(w io.Writer, doc *Document) error {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<style>\n%s\n</style>\n</head>\n<body>\n<main>\n", html.EscapeString(doc.Lang), html.EscapeString(doc.Title), css)
	fmt.Fprintf(&b, "<h1>%s</h1>\n", html.EscapeString(doc.Title))
	for _, m := range doc.Meta {
		fmt.Fprintf(&b, "<p class=\"meta\">%s</p>\n", html.EscapeString(m))
	}
	fmt.Fprintf(&b, "<nav aria-label=\"%s\">\n<h2>%s</h2>\n<ol>\n", tocTitle(doc.Lang), tocTitle(doc.Lang))
	for i, s := range doc.Sections {
		fmt.Fprintf(&b, "<li><a href=\"#%s\">%s</a></li>\n", anchor([]int{i + 1}), html.EscapeString(s.Title))
	}
	b.WriteString("</ol>\n</nav>\n")
	for i, s := range doc.Sections {
		htmlSection(&b, doc.Lang, s, []int{i + 1})
	}
	b.WriteString("</main>\n</body>\n</html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func htmlSection(b *strings.Builder, lang string, s Section, path []int) {
	level := min(len(path)+1, 6)
	fmt.Fprintf(b, "<section id=\"%s\">\n<h%d>%s%s</h%d>\n", anchor(path), level, SectionNumber(lang, path), html.EscapeString(s.Title), level)
	for _, bl := range s.Blocks {
		switch x := bl.(type) {
		case Para:
			fmt.Fprintf(b, "<p>%s</p>\n", htmlInline(x.Text))
		case List:
			tag := "ul"
			if x.Ordered {
				tag = "ol"
			}
			fmt.Fprintf(b, "<%s>\n", tag)
			for _, it := range x.Items {
				fmt.Fprintf(b, "<li>%s</li>\n", htmlInline(it))
			}
			fmt.Fprintf(b, "</%s>\n", tag)
		case Table:
			b.WriteString("<table>\n<thead><tr>")
			for _, h := range x.Head {
				fmt.Fprintf(b, "<th scope=\"col\">%s</th>", html.EscapeString(h))
			}
			b.WriteString("</tr></thead>\n<tbody>\n")
			for _, row := range x.Rows {
				b.WriteString("<tr>")
				for _, c := range row {
					if c == "" {
						c = "—"
					}
					fmt.Fprintf(b, "<td>%s</td>", htmlInline(c))
				}
				b.WriteString("</tr>\n")
			}
			b.WriteString("</tbody>\n</table>\n")
		}
	}
	for i, sub := range s.Subs {
		htmlSection(b, lang, sub, append(append([]int{}, path...), i+1))
	}
	b.WriteString("</section>\n")
}

// htmlInline escapes text, turns **bold** into <strong> and bare http(s) URLs into links.
func htmlInline(s string) string {
	var b strings.Builder
	for i, part := range strings.Split(s, "**") {
		esc := linkify(html.EscapeString(part))
		if i%2 == 1 {
			b.WriteString("<strong>" + esc + "</strong>")
		} else {
			b.WriteString(esc)
		}
	}
	return b.String()
}

// linkify wraps escaped http(s) URLs in anchors. The URL text is already escaped,
// so it is safe in both the attribute and the body.
func linkify(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "http://")
		if j := strings.Index(s, "https://"); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		end := i
		for end < len(s) && !strings.ContainsRune(" \t\n<>\"'，。；、）)", rune(s[end])) && s[end] < 0x80 {
			end++
		}
		url := strings.TrimRight(s[i:end], ".,;:")
		end = i + len(url)
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a>", url, url)
		s = s[end:]
	}
}
