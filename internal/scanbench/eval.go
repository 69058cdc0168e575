package scanbench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The scorer here is span-level, as the detector's own evaluation is: a
// labelled value is found when a finding of its type overlaps it, and a
// finding is right when it overlaps a labelled value of its type. When the
// detect package exports its scorer, EvalSets and ScoreEval are the two
// places to switch to it.

// Label is a labelled value in a sample: bytes [Start, End) of its text.
type Label struct {
	Start, End int
	Kind       string // the corpus's own kind: zh_phone, PERSON, …
}

// Sample is one labelled text.
type Sample struct {
	Text   string
	Labels []Label
}

// EvalSet is one labelled corpus.
type EvalSet struct {
	Name    string
	Samples []Sample
}

// EvalSets loads the four labelled corpora under dir (pii-eval of the
// shared data): cn-pii-bench's Chinese, adversarial and English cases and
// presidio-research's synthetic set, with offsets in bytes.
func EvalSets(dir string) ([]EvalSet, error) {
	var out []EvalSet
	for _, name := range []string{"cases.jsonl", "cases_adversarial.jsonl", "cases_en.jsonl"} {
		s, err := loadCNBench(filepath.Join(dir, "cn-pii-bench", name))
		if err != nil {
			return nil, err
		}
		out = append(out, EvalSet{Name: "cn-pii-bench/" + strings.TrimSuffix(name, ".jsonl"), Samples: s})
	}
	s, err := loadPresidio(filepath.Join(dir, "presidio-research", "synth_dataset_v2.json"))
	if err != nil {
		return nil, err
	}
	return append(out, EvalSet{Name: "presidio-research/synth_dataset_v2", Samples: s}), nil
}

func loadCNBench(path string) ([]Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Sample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c struct {
			Text   string `json:"text"`
			Expect []struct {
				Type       string `json:"type"`
				Value      string `json:"value"`
				Start, End int    // UTF-8 byte offsets
			} `json:"expect"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		s := Sample{Text: c.Text}
		for _, e := range c.Expect {
			if e.Start < 0 || e.End > len(c.Text) || e.Start > e.End || c.Text[e.Start:e.End] != e.Value {
				return nil, fmt.Errorf("%s:%d: span [%d,%d) does not hold its labelled value", path, n, e.Start, e.End)
			}
			s.Labels = append(s.Labels, Label{e.Start, e.End, e.Type})
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

func loadPresidio(path string) ([]Sample, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw []struct {
		FullText string `json:"full_text"`
		Spans    []struct {
			Type  string `json:"entity_type"`
			Value string `json:"entity_value"`
			Start int    `json:"start_position"` // code points
			End   int    `json:"end_position"`
		} `json:"spans"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	var out []Sample
	for i, r := range raw {
		// byte offset of every code point, and of the end
		offs := make([]int, 0, len(r.FullText)+1)
		for b := range r.FullText {
			offs = append(offs, b)
		}
		offs = append(offs, len(r.FullText))
		s := Sample{Text: r.FullText}
		for _, e := range r.Spans {
			if e.Start < 0 || e.End >= len(offs) || e.Start > e.End || r.FullText[offs[e.Start]:offs[e.End]] != e.Value {
				return nil, fmt.Errorf("%s: sample %d: span [%d,%d) does not hold its labelled value", path, i, e.Start, e.End)
			}
			s.Labels = append(s.Labels, Label{offs[e.Start], offs[e.End], e.Type})
		}
		out = append(out, s)
	}
	return out, nil
}

// ScoreEval scores the findings of a tool on samples, per type in Types
// order; found returns the findings for sample i (offsets in bytes of its
// text).
func ScoreEval(samples []Sample, found func(i int) []Finding) []TypeScore {
	per := map[string]*TypeScore{}
	for _, t := range Types {
		per[t] = &TypeScore{Type: t}
	}
	for i, s := range samples {
		hit := make([]bool, len(s.Labels))
		for _, f := range found(i) {
			if !counted(f.Type) {
				continue
			}
			ts := per[f.Type]
			same, neutral := false, false
			for k, l := range s.Labels {
				if int64(l.Start) < f.End && f.Start < int64(l.End) {
					if labelType[l.Kind] == f.Type {
						same = true
						hit[k] = true
					} else if neutralFor[f.Type][l.Kind] {
						neutral = true
					}
				}
			}
			switch {
			case same:
				ts.Findings++
				ts.TP++
			case neutral:
			default:
				ts.Findings++
				ts.FP++
			}
		}
		for k, l := range s.Labels {
			t, ok := labelType[l.Kind]
			if !ok {
				continue
			}
			per[t].Labels++
			if hit[k] {
				per[t].Hit++
			}
		}
	}
	out := make([]TypeScore, 0, len(Types))
	for _, t := range Types {
		out = append(out, *per[t])
	}
	return out
}
