// Package policy renders a privacy policy from a manifest, compares manifest
// versions, and produces the record of processing activities.
package policy

// Document is a rendered policy, independent of output format.
type Document struct {
	Lang     string // "zh-CN" or "en"
	Title    string
	Meta     []string // version and date lines under the title
	Sections []Section
}

// Section is a numbered part of the document.
type Section struct {
	ID     string
	Title  string
	Blocks []Block
	Subs   []Section
}

// Block is a paragraph, a list or a table. Inline text may mark emphasis with
// **…**, which writers turn into bold; nothing else is interpreted.
type Block interface{ block() }

// Para is a paragraph.
type Para struct{ Text string }

// List is a bulleted (or numbered) list.
type List struct {
	Items   []string
	Ordered bool
}

// Table is a table with a header row.
type Table struct {
	Head []string
	Rows [][]string
}

func (Para) block()  {}
func (List) block()  {}
func (Table) block() {}
