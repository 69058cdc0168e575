package manifest

import "fmt"

// source is where a parsed manifest was read from: its file name and the
// position of every value, so that checks made elsewhere (a dataset's
// retention targets) can point at the manifest's own lines.
type source struct {
	file string
	pos  positions
}

// ProblemAt returns a problem placed at the value path names
// ("retention[2]"), or at its nearest written ancestor. A manifest built in
// code has no positions: the problem then points at line 1.
func (m *Manifest) ProblemAt(path, format string, args ...any) Problem {
	p := Problem{Pos: Pos{Line: 1, Col: 1}, Message: fmt.Sprintf(format, args...)}
	if m.src != nil {
		p.File = m.src.file
		if pos := m.src.pos.lookup(path); pos.Line > 0 {
			p.Pos = pos
		}
	}
	return p
}
