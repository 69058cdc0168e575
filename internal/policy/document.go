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

// mapText applies f to every piece of text in the document.
func (d *Document) mapText(f func(string) string) {
	d.Title = f(d.Title)
	for i := range d.Meta {
		d.Meta[i] = f(d.Meta[i])
	}
	for i := range d.Sections {
		d.Sections[i].mapText(f)
	}
}

func (s *Section) mapText(f func(string) string) {
	s.Title = f(s.Title)
	for i, b := range s.Blocks {
		switch x := b.(type) {
		case Para:
			s.Blocks[i] = Para{f(x.Text)}
		case List:
			items := make([]string, len(x.Items))
			for j, it := range x.Items {
				items[j] = f(it)
			}
			s.Blocks[i] = List{Items: items, Ordered: x.Ordered}
		case Table:
			head := make([]string, len(x.Head))
			for j, h := range x.Head {
				head[j] = f(h)
			}
			rows := make([][]string, len(x.Rows))
			for j, row := range x.Rows {
				rows[j] = make([]string, len(row))
				for k, c := range row {
					rows[j][k] = f(c)
				}
			}
			s.Blocks[i] = Table{Head: head, Rows: rows}
		}
	}
	for i := range s.Subs {
		s.Subs[i].mapText(f)
	}
}
