package scan

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/detect"
)

// Options tune a scan.
type Options struct {
	// Excludes are .gitignore-style patterns, relative to each directory
	// given; .custosignore and .gitignore files found are read too.
	Excludes []string
	// MaxSize skips files larger than this many bytes (0: no limit).
	MaxSize int64
	// MinConfidence drops spans the detectors are less sure of.
	MinConfidence float64
	// ShowValues puts each value in Finding.Value.
	ShowValues bool
	// Allow drops findings whose value is on the list.
	Allow *AllowList
	// Sample is the rows read per table of a database (default 100);
	// Full reads every row instead.
	Sample int
	Full   bool
	// Decode scans the text base64 holds too (a JWT's claims, a cookie, a
	// query parameter): a value found there is reported over the base64.
	Decode bool
	// ChunkSize overrides the line chunk size (tests).
	ChunkSize int
	// Progress, when set, is called as input is read.
	Progress func(Progress)
}

// Progress is how far a scan has got.
type Progress struct {
	Files int
	Bytes int64
}

// Skipped is an input a scan did not read, and why.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Scanner scans inputs and hands each finding to Emit.
type Scanner struct {
	Options
	Emit func(Finding) error

	progress Progress
	skipped  []Skipped
}

// Skipped lists the inputs not read (binary, too large, unreadable).
func (s *Scanner) Skipped() []Skipped { return s.skipped }

// Progressed reports the files and bytes read so far.
func (s *Scanner) Progressed() Progress { return s.progress }

func (s *Scanner) skip(path, reason string) {
	s.skipped = append(s.skipped, Skipped{Path: path, Reason: reason})
}

func (s *Scanner) chunk() int {
	if s.ChunkSize > 0 {
		return s.ChunkSize
	}
	return ChunkSize
}

// countingReader counts bytes read for progress.
type countingReader struct {
	r io.Reader
	s *Scanner
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.s.progress.Bytes += int64(n)
	if c.s.Progress != nil && n > 0 {
		c.s.Progress(c.s.progress)
	}
	return n, err
}

// Format is how an input is read.
type Format int

// Formats.
const (
	FormatText Format = iota
	FormatJSONL
	FormatCSV
)

// FormatOf chooses the format from a file name (after any .gz).
func FormatOf(name string) Format {
	name = strings.TrimSuffix(strings.ToLower(name), ".gz")
	switch {
	case strings.HasSuffix(name, ".jsonl"), strings.HasSuffix(name, ".ndjson"):
		return FormatJSONL
	case strings.HasSuffix(name, ".csv"):
		return FormatCSV
	}
	return FormatText
}

// binarySniff is how much of an input is looked at for a NUL byte.
const binarySniff = 8 << 10

// Decompress returns r decompressed when it starts with gzip's magic bytes, and
// whether it did; the result is buffered.
func Decompress(r io.Reader) (*bufio.Reader, bool, error) {
	br := bufio.NewReaderSize(r, binarySniff)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, true, err
		}
		return bufio.NewReaderSize(zr, binarySniff), true, nil
	}
	return br, false, nil
}

// isBinary reports a NUL byte in the first 8 KB.
func isBinary(br *bufio.Reader) bool {
	head, _ := br.Peek(binarySniff)
	return bytes.IndexByte(head, 0) >= 0
}

// Reader scans one stream named name (the path reported) in format f.
// Gzip is recognised by its magic bytes; binary input is skipped.
func (s *Scanner) Reader(ctx context.Context, name string, r io.Reader, f Format) error {
	br, _, err := Decompress(countingReader{r, s})
	if err != nil {
		s.skip(name, "not valid gzip")
		return nil
	}
	if isBinary(br) {
		s.skip(name, "binary")
		return nil
	}
	s.progress.Files++
	switch f {
	case FormatCSV:
		return s.csv(ctx, name, br)
	case FormatJSONL:
		return s.jsonl(ctx, name, br)
	}
	return s.text(ctx, name, br)
}

// keep filters spans by confidence.
func (s *Scanner) keep(sp detect.Span) bool { return sp.Confidence >= s.MinConfidence }

// report emits a finding for each span of emit, spans of text found at
// line; col gives a span's 1-based rune column. Excerpts mask every span
// of spans.
func (s *Scanner) report(name, field string, line int, text string, spans, emit []detect.Span, col func(detect.Span) int) error {
	for _, sp := range emit {
		if !s.keep(sp) {
			continue
		}
		v := text[sp.Start:sp.End]
		if s.Allow.Has(v) {
			continue
		}
		f := Finding{Path: name, Line: line, Column: col(sp), Field: field, Category: sp.Category, Sensitive: Sensitive(sp.Category),
			Detector: sp.Detector, Confidence: sp.Confidence, Masked: sp.Masked, Excerpt: excerpt(text, spans, sp)}
		if s.ShowValues {
			f.Value = v
		}
		if err := s.Emit(f); err != nil {
			return err
		}
	}
	return nil
}

// segmentSpans finds the spans of a segment, how many of them belong to
// it (those starting before the cut: spans[:own]) and how much of the
// segment they consume. The others are found again in the next segment.
func segmentSpans(seg segment, decode bool) (text string, spans []detect.Span, own, consumed int) {
	text = string(seg.Text)
	spans = find(text, decode)
	if seg.Final {
		return text, spans, len(spans), len(text)
	}
	cut := cutPoint(seg.Text)
	consumed = cut
	for _, sp := range spans {
		if sp.Start >= cut {
			break
		}
		consumed = max(consumed, sp.End)
		own++
	}
	return text, spans, own, consumed
}

func (s *Scanner) text(ctx context.Context, name string, r io.Reader) error {
	return eachSegment(r, s.chunk(), func(seg segment) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		text, spans, own, consumed := segmentSpans(seg, s.Decode)
		err := s.report(name, "", seg.Line, text, spans, spans[:own], func(sp detect.Span) int {
			return seg.RuneBase + utf8.RuneCountInString(text[:sp.Start]) + 1
		})
		return consumed, err
	})
}

// csv scans a CSV export cell by cell, naming each finding's column by
// the header row. A line the CSV reader cannot parse stops the scan of
// the file with an error naming the line.
func (s *Scanner) csv(ctx context.Context, name string, r io.Reader) error {
	tap := &lineTap{first: 1}
	cr := csv.NewReader(io.TeeReader(r, tap))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	var header []string
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fmt.Errorf("%s:%d: not CSV: %v", name, pe.Line, pe.Err)
			}
			return err
		}
		if header == nil {
			// The header is scanned too (a file may have none), and a
			// cell holding a value never names a column.
			header = make([]string, len(rec))
			for i, h := range rec {
				if len(find(h, s.Decode)) == 0 {
					header[i] = h
				}
			}
		}
		firstLine, _ := cr.FieldPos(0)
		tap.dropBefore(firstLine)
		for i, cell := range rec {
			spans := find(cell, s.Decode)
			if len(spans) == 0 {
				continue
			}
			line, col := cr.FieldPos(i)
			raw := tap.line(line)
			quoted := col-1 < len(raw) && raw[col-1] == '"'
			start := utf8.RuneCount(raw[:min(col-1, len(raw))]) + 1 // the cell's first rune
			if quoted {
				start++
			}
			field := "column " + strconv.Itoa(i+1)
			if i < len(header) && header[i] != "" {
				field = header[i]
			}
			for _, sp := range spans {
				// A cell spanning lines: report the value's own line.
				at, l, c := cell[:sp.Start], line, start
				if nl := strings.LastIndexByte(at, '\n'); nl >= 0 {
					l += strings.Count(at, "\n")
					at, c = at[nl+1:], 1
				}
				c += utf8.RuneCountInString(at)
				if quoted {
					c += strings.Count(at, `"`) // written doubled
				}
				err := s.report(name, field, l, cell, spans, []detect.Span{sp}, func(detect.Span) int { return c })
				if err != nil {
					return err
				}
			}
		}
	}
}

// lineTap keeps the raw lines a CSV reader has read and not yet
// reported on, so that columns are counted in the text as written.
type lineTap struct {
	buf   []byte
	first int // line number of buf[0]
}

// maxCSVRecord bounds one CSV record (an unterminated quote would
// otherwise read the rest of the input into memory).
const maxCSVRecord = 16 << 20

var errCSVRecord = errors.New("a CSV record longer than 16 MiB (an unterminated quote?)")

func (t *lineTap) Write(p []byte) (int, error) {
	if len(t.buf)+len(p) > maxCSVRecord {
		return 0, errCSVRecord
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}

// line returns line n, without its newline, or nil when not kept.
func (t *lineTap) line(n int) []byte {
	b := t.buf
	for l := t.first; l < n; l++ {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil
		}
		b = b[i+1:]
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return b
}

// dropBefore forgets the lines before line n.
func (t *lineTap) dropBefore(n int) {
	for t.first < n {
		i := bytes.IndexByte(t.buf, '\n')
		if i < 0 {
			return
		}
		t.buf = t.buf[i+1:]
		t.first++
	}
	if cap(t.buf) > 1<<20 && len(t.buf) < cap(t.buf)/4 {
		t.buf = append([]byte(nil), t.buf...)
	}
}

// jsonl scans the string (and number) values of each JSON Lines record,
// naming each by its JSON path. A record longer than the chunk size, or
// one that is not JSON, is scanned as text.
func (s *Scanner) jsonl(ctx context.Context, name string, r io.Reader) error {
	long := false // inside a line longer than a chunk
	return eachSegment(r, s.chunk(), func(seg segment) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if !seg.Final || long {
			long = !seg.Final
			text, spans, own, consumed := segmentSpans(seg, s.Decode)
			return consumed, s.report(name, "", seg.Line, text, spans, spans[:own], func(sp detect.Span) int {
				return seg.RuneBase + utf8.RuneCountInString(text[:sp.Start]) + 1
			})
		}
		return 0, s.jsonRecord(name, seg.Line, seg.Text)
	})
}

func (s *Scanner) jsonRecord(name string, line int, raw []byte) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	err := walkJSON(raw, func(path string, value string, at int) error {
		spans := find(value, s.Decode)
		if len(spans) == 0 {
			return nil
		}
		return s.report(name, path, line, value, spans, spans, func(sp detect.Span) int {
			// The value's column in the raw line when written there
			// verbatim, else the column of the string it is in.
			v := value[sp.Start:sp.End]
			if i := bytes.Index(raw[at:], []byte(v)); i >= 0 {
				return utf8.RuneCount(raw[:at+i]) + 1
			}
			q := at
			for q < len(raw) && (raw[q] == ' ' || raw[q] == '\t' || raw[q] == ':' || raw[q] == ',') {
				q++
			}
			return utf8.RuneCount(raw[:q]) + 1
		})
	})
	if err != nil && errors.Is(err, errNotJSON) {
		text := string(raw)
		spans := find(text, s.Decode)
		return s.report(name, "", line, text, spans, spans, func(sp detect.Span) int {
			return utf8.RuneCountInString(text[:sp.Start]) + 1
		})
	}
	return err
}

var errNotJSON = errors.New("not JSON")

// walkJSON calls fn with every string and number value in raw, its JSON
// path and the byte offset where its token starts.
func walkJSON(raw []byte, fn func(path, value string, at int) error) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		array bool
		index int
		key   string
		inKey bool // an object awaiting a key
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		b.WriteString("$")
		for _, f := range stack {
			if f.array {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			} else if f.key != "" && isIdent(f.key) {
				b.WriteString("." + f.key)
			} else {
				b.WriteString("[" + strconv.Quote(f.key) + "]")
			}
		}
		return b.String()
	}
	// after a value, advance the enclosing frame
	done := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].inKey = true
			}
		}
	}
	for {
		at := int(dec.InputOffset())
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				return errNotJSON
			}
			return nil
		}
		if err != nil {
			return errNotJSON
		}
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].inKey {
			if k, ok := tok.(string); ok {
				if len(detect.Text(k)) > 0 {
					k = Mask(k) // a key holding a value never shows it
				}
				stack[n-1].key = k
				stack[n-1].inKey = false
				continue
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{inKey: true})
			case '[':
				stack = append(stack, frame{array: true})
			default:
				stack = stack[:len(stack)-1]
				done()
			}
		case string:
			if err := fn(path(), t, at); err != nil {
				return err
			}
			done()
		case json.Number:
			if err := fn(path(), string(t), at); err != nil {
				return err
			}
			done()
		default:
			done()
		}
	}
}

func isIdent(s string) bool {
	for i, r := range s {
		if r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return s != ""
}
