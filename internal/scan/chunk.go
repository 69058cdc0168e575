package scan

import (
	"bufio"
	"errors"
	"io"
	"unicode/utf8"
)

// Line lengths. A line longer than ChunkSize bytes is scanned in chunks
// that overlap by Overlap bytes, so that memory stays bounded whatever the
// input, and a value cut by a chunk's end is found whole in the next one.
const (
	ChunkSize = 64 << 10
	Overlap   = 512
)

// segment is a piece of one line: the whole line, or, for a long line, one
// chunk of it.
type segment struct {
	Text     []byte // without the line terminator
	EOL      []byte // "\n" when Final and the line had one, else empty
	Final    bool   // Text runs to the end of the line
	Line     int    // 1-based
	RuneBase int    // runes on the line before Text[0]
	Offset   int64  // bytes in the stream before Text[0]
}

// eachSegment reads r line by line and calls fn with every segment. fn
// returns how many bytes of a non-final segment it consumed (at least
// len(Text)-Overlap); the rest is given again at the start of the next
// segment. For a final segment the return value is ignored.
func eachSegment(r io.Reader, chunk int, fn func(segment) (int, error)) error {
	if chunk < 2*Overlap {
		chunk = 2 * Overlap
	}
	br := bufio.NewReaderSize(struct{ io.Reader }{r}, chunk) // never r itself, whatever its buffer
	var pending []byte
	seg := segment{Line: 1}
	var eol = []byte{'\n'}
	for {
		b, err := br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) && !errors.Is(err, io.EOF) {
			return err
		}
		full := errors.Is(err, bufio.ErrBufferFull)
		eof := errors.Is(err, io.EOF)
		if eof && len(b) == 0 && len(pending) == 0 {
			return nil
		}
		text := b
		if len(pending) > 0 {
			text = append(pending, b...)
		}
		seg.Final = !full
		seg.EOL = nil
		if seg.Final && len(text) > 0 && text[len(text)-1] == '\n' {
			text = text[:len(text)-1]
			seg.EOL = eol
		}
		seg.Text = text
		n, ferr := fn(seg)
		if ferr != nil {
			return ferr
		}
		if seg.Final {
			seg.Offset += int64(len(text) + len(seg.EOL))
			seg.Line++
			seg.RuneBase = 0
			pending = pending[:0]
			if eof {
				return nil
			}
			continue
		}
		n = max(0, min(n, len(text)))
		seg.RuneBase += utf8.RuneCount(text[:n])
		seg.Offset += int64(n)
		rest := text[n:]
		pending = append(make([]byte, 0, len(rest)+chunk), rest...)
	}
}

// cutPoint chooses where a non-final segment's own bytes end: at most
// len(text)-Overlap, at a byte that cannot be inside a value (a space or
// punctuation), on a rune boundary.
func cutPoint(text []byte) int {
	limit := len(text) - Overlap
	if limit <= 0 {
		return 0
	}
	for i := limit; i > limit-Overlap/2 && i > 0; i-- {
		switch text[i] {
		case ' ', '\t', ',', ';', '"', '\'', '=', '&', '|', '<', '>', '(', ')', '[', ']', '{', '}':
			return i
		}
	}
	for i := limit; i > 0; i-- {
		if utf8.RuneStart(text[i]) {
			return i
		}
	}
	return limit
}
