package scanbench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Finding is what a tool reported: bytes [Start, End) of the corpus or of a
// labelled text, and the type it counts as ("" or a type not in Types
// counts for none).
type Finding struct {
	Start, End int64
	Type       string
}

func counted(t string) bool { return slices.Contains(Types, t) }

// TypeScore counts one type for one tool. Labels are the planted or
// labelled values of the type, Hit those a finding of the type overlaps;
// Findings of the type are TP where they overlap a value of the type and FP
// otherwise (neutral ones, see detect.EvalNeutral, are neither).
type TypeScore struct {
	Type     string `json:"type"`
	Labels   int    `json:"labels"`
	Hit      int    `json:"hit"`
	Findings int    `json:"findings"`
	TP       int    `json:"tp"`
	FP       int    `json:"fp"`
}

// Precision is TP/(TP+FP), or -1 without findings.
func (s TypeScore) Precision() float64 {
	if s.TP+s.FP == 0 {
		return -1
	}
	return float64(s.TP) / float64(s.TP+s.FP)
}

// Recall is Hit/Labels, or -1 without labels.
func (s TypeScore) Recall() float64 {
	if s.Labels == 0 {
		return -1
	}
	return float64(s.Hit) / float64(s.Labels)
}

// F1 is the harmonic mean of precision and recall; 0 where either is
// missing or zero (a tool that finds nothing of a labelled type scores 0).
func (s TypeScore) F1() float64 {
	p, r := s.Precision(), s.Recall()
	if p <= 0 || r <= 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// MarshalJSON adds precision, recall and F1 (-1 where undefined) to the counts.
func (s TypeScore) MarshalJSON() ([]byte, error) {
	type plain TypeScore
	return json.Marshal(struct {
		plain
		Precision float64 `json:"precision"`
		Recall    float64 `json:"recall"`
		F1        float64 `json:"f1"`
	}{plain(s), s.Precision(), s.Recall(), s.F1()})
}

func (s *TypeScore) add(o TypeScore) {
	s.Labels += o.Labels
	s.Hit += o.Hit
	s.Findings += o.Findings
	s.TP += o.TP
	s.FP += o.FP
}

// Agreement is a tool's agreement with the planted truth of a corpus.
type Agreement struct {
	Types []TypeScore `json:"types"`
	All   TypeScore   `json:"all"`
	// Other counts findings of types no table counts (bare digits, zip
	// codes, tracking numbers, …) that overlap nothing planted; Neutral
	// those that do.
	Other   int `json:"other"`
	Neutral int `json:"neutral"`
}

type queued struct {
	Planted
	hit bool
}

// CorpusScorer scores a stream of findings, sorted by Start, against the
// planted truth Generate wrote, reading both in step: memory holds only the
// planted values a finding overlaps.
type CorpusScorer struct {
	truth   *bufio.Reader
	next    *Planted
	queue   []queued
	per     map[string]*TypeScore
	other   int
	neutral int
	err     error
}

// NewCorpusScorer reads planted truth ("OFF LEN TYPE" lines) from r.
func NewCorpusScorer(r io.Reader) *CorpusScorer {
	s := &CorpusScorer{truth: bufio.NewReaderSize(r, 1<<16), per: map[string]*TypeScore{}}
	for _, t := range Types {
		s.per[t] = &TypeScore{Type: t}
	}
	s.advance()
	return s
}

// ParsePlanted reads one line of planted truth.
func ParsePlanted(line string) (Planted, error) {
	f := strings.Fields(line)
	if len(f) != 3 {
		return Planted{}, fmt.Errorf("planted truth: want OFF LEN TYPE, got %d fields", len(f))
	}
	off, err1 := strconv.ParseInt(f[0], 10, 64)
	n, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || off < 0 || n <= 0 {
		return Planted{}, fmt.Errorf("planted truth: bad offset or length")
	}
	return Planted{Off: off, Len: n, Type: f[2]}, nil
}

func (s *CorpusScorer) advance() {
	s.next = nil
	if s.err != nil {
		return
	}
	line, err := s.truth.ReadString('\n')
	if err == io.EOF && line == "" {
		return
	}
	if err != nil && err != io.EOF {
		s.err = err
		return
	}
	p, err := ParsePlanted(line)
	if err != nil {
		s.err = err
		return
	}
	s.next = &p
}

func (s *CorpusScorer) finalize(q queued) {
	ts, ok := s.per[q.Type]
	if !ok {
		ts = &TypeScore{Type: q.Type}
		s.per[q.Type] = ts
	}
	ts.Labels++
	if q.hit {
		ts.Hit++
	}
}

// Add scores one finding; findings come sorted by Start.
func (s *CorpusScorer) Add(f Finding) {
	i := 0
	for ; i < len(s.queue) && s.queue[i].Off+int64(s.queue[i].Len) <= f.Start; i++ {
		s.finalize(s.queue[i])
	}
	s.queue = s.queue[i:]
	for s.next != nil && s.next.Off < f.End {
		if s.next.Off+int64(s.next.Len) <= f.Start {
			s.finalize(queued{Planted: *s.next})
		} else {
			s.queue = append(s.queue, queued{Planted: *s.next})
		}
		s.advance()
	}
	overlaps, same := false, false
	for k := range s.queue {
		q := &s.queue[k]
		if q.Off < f.End && f.Start < q.Off+int64(q.Len) {
			overlaps = true
			if q.Type == f.Type {
				same = true
				q.hit = true
			}
		}
	}
	if !counted(f.Type) {
		if overlaps {
			s.neutral++
		} else {
			s.other++
		}
		return
	}
	ts := s.per[f.Type]
	ts.Findings++
	if same {
		ts.TP++
	} else {
		ts.FP++
	}
}

// Finish reads the rest of the truth and returns the agreement.
func (s *CorpusScorer) Finish() (Agreement, error) {
	for _, q := range s.queue {
		s.finalize(q)
	}
	s.queue = nil
	for s.next != nil {
		s.finalize(queued{Planted: *s.next})
		s.advance()
	}
	if s.err != nil {
		return Agreement{}, s.err
	}
	a := Agreement{Other: s.other, Neutral: s.neutral, All: TypeScore{Type: "all"}}
	for _, t := range Types {
		a.Types = append(a.Types, *s.per[t])
		a.All.add(*s.per[t])
	}
	return a, nil
}

// truncated limits the truth to values that end at or before n bytes: a
// peer that ran out of time budget is scored on the part it read.
type truncated struct {
	r   *bufio.Reader
	n   int64
	buf []byte
}

// TruthUpTo returns truth limited to planted values inside the first n
// bytes of the corpus.
func TruthUpTo(r io.Reader, n int64) io.Reader {
	return &truncated{r: bufio.NewReaderSize(r, 1<<16), n: n}
}

func (t *truncated) Read(p []byte) (int, error) {
	for len(t.buf) == 0 {
		line, err := t.r.ReadString('\n')
		if line != "" {
			pl, perr := ParsePlanted(line)
			if perr != nil {
				return 0, perr
			}
			if pl.Off+int64(pl.Len) > t.n {
				return 0, io.EOF
			}
			t.buf = []byte(line)
		}
		if err != nil {
			if len(t.buf) > 0 {
				break
			}
			return 0, err
		}
	}
	n := copy(p, t.buf)
	t.buf = t.buf[n:]
	return n, nil
}
