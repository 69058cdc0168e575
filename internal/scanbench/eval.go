package scanbench

import "github.com/custos-privacy/custos/internal/detect"

// The scorer here is span-level, as the detector's own evaluation is: a
// labelled value is found when a finding of its type overlaps it, and a
// finding is right when it overlaps a labelled value of its type. The
// corpora, the labels' types and the neutral labels are the detector
// evaluation's (detect.LoadEval, detect.EvalTypeOfLabel, detect.EvalNeutral):
// only the peers' findings, which are not Spans, are counted here.

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
// shared data) as the detector's own evaluation reads them
// (detect.LoadEval), in the order of detect.EvalSets, with offsets in bytes.
func EvalSets(dir string) ([]EvalSet, error) {
	loaded, err := detect.LoadEval(dir)
	if err != nil {
		return nil, err
	}
	out := make([]EvalSet, 0, len(detect.EvalSets))
	for _, name := range detect.EvalSets {
		set := EvalSet{Name: name}
		for _, es := range loaded[name] {
			s := Sample{Text: es.Text}
			for _, sp := range es.Spans {
				s.Labels = append(s.Labels, Label{sp.Start, sp.End, sp.Label})
			}
			set.Samples = append(set.Samples, s)
		}
		out = append(out, set)
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
					if labelType(l.Kind) == f.Type {
						same = true
						hit[k] = true
					} else if detect.EvalNeutral(f.Type, l.Kind) {
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
			t := labelType(l.Kind)
			if t == "" {
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
