package scanbench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos-privacy/custos/internal/bench/procmem"
	"github.com/custos-privacy/custos/internal/detect"
)

// Options of a run.
type Options struct {
	Size       int64         // corpus bytes, at least
	Seed       uint64        // corpus seed
	Workers    int           // goroutines of the parallel Custos run
	PeerBudget time.Duration // each peer's own time on the corpus, at most
	Scripts    string        // directory of the peers' driver scripts
	EvalDir    string        // pii-eval of the shared data; "" skips accuracy
	NoPeers    bool          // measure Custos alone
}

// Throughput is one tool's run over the corpus.
type Throughput struct {
	Tool     string  `json:"tool"`
	Version  string  `json:"version,omitempty"`
	Workers  int     `json:"workers"`
	Bytes    int64   `json:"bytes"`
	Seconds  float64 `json:"seconds"`
	MBps     float64 `json:"mb_per_s"`
	PerCore  float64 `json:"mb_per_s_per_core"`
	PeakRSS  int64   `json:"peak_rss_bytes"`
	Complete bool    `json:"complete"`         // read the whole corpus within its budget
	Errors   int64   `json:"errors,omitempty"` // a peer's calls that failed
	// Agreement with the planted truth of the part read; absent for the
	// parallel run, which finds the same spans.
	Agreement *Agreement `json:"agreement,omitempty"`
}

// EvalTool is one tool's accuracy on the labelled corpora.
type EvalTool struct {
	Tool   string                 `json:"tool"`
	Pooled []TypeScore            `json:"pooled"`
	PerSet map[string][]TypeScore `json:"per_set"`
}

// Report is what a run measured.
type Report struct {
	Corpus      CorpusStats       `json:"corpus"`
	Seed        uint64            `json:"seed"`
	CPUs        int               `json:"cpus"`
	Throughput  []Throughput      `json:"throughput"`
	FastestPeer string            `json:"fastest_peer,omitempty"`
	Ratio       float64           `json:"custos_per_core_over_fastest_peer,omitempty"`
	Eval        []EvalTool        `json:"eval,omitempty"`
	EvalSets    []string          `json:"eval_sets,omitempty"`
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

const chunkLimit = 16 << 10

// readChunks hands fn the corpus in chunks of whole lines of at most 16 KiB
// (a longer line is a chunk of its own), as the peers' drivers read it.
func readChunks(r io.Reader, fn func(base int64, chunk []byte)) error {
	buf := make([]byte, 1<<20)
	var carry []byte
	var base int64
	for {
		n, err := io.ReadFull(r, buf)
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return err
		}
		data := append(carry, buf[:n]...)
		cut := len(data)
		if !eof {
			cut = lastNL(data) + 1
		}
		for off := 0; off < cut; {
			end := min(off+chunkLimit, cut)
			if end < cut {
				if nl := lastNL(data[off:end]); nl >= 0 {
					end = off + nl + 1
				} else if nl := indexNL(data[end:cut]); nl >= 0 {
					end += nl + 1
				} else {
					end = cut
				}
			}
			fn(base+int64(off), data[off:end])
			off = end
		}
		base += int64(cut)
		carry = append([]byte(nil), data[cut:]...)
		if eof {
			return nil
		}
	}
}

func lastNL(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			return i
		}
	}
	return -1
}

func indexNL(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}

// resetPeakRSS asks the kernel to start VmHWM afresh (Linux clear_refs).
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// CustosCorpus runs detect.Text over the corpus in one goroutine and scores
// its spans against the truth. Seconds count the calls only.
func CustosCorpus(corpus, truth string) (Throughput, error) {
	cf, err := os.Open(corpus)
	if err != nil {
		return Throughput{}, err
	}
	defer cf.Close()
	tf, err := os.Open(truth)
	if err != nil {
		return Throughput{}, err
	}
	defer tf.Close()
	resetPeakRSS()
	sc := NewCorpusScorer(tf)
	var spent time.Duration
	var bytes int64
	err = readChunks(cf, func(base int64, chunk []byte) {
		s := string(chunk)
		t0 := time.Now()
		spans := detect.Text(s)
		spent += time.Since(t0)
		bytes += int64(len(chunk))
		for _, sp := range spans {
			if sp.Masked {
				continue
			}
			sc.Add(Finding{Start: base + int64(sp.Start), End: base + int64(sp.End), Type: SpanType(sp)})
		}
	})
	if err != nil {
		return Throughput{}, err
	}
	a, err := sc.Finish()
	if err != nil {
		return Throughput{}, err
	}
	t := Throughput{Tool: "custos", Workers: 1, Bytes: bytes, Seconds: spent.Seconds(), Complete: true, Agreement: &a,
		PeakRSS: int64(procmem.Status("VmHWM"))}
	t.MBps = mbps(bytes, t.Seconds)
	t.PerCore = t.MBps
	return t, nil
}

// CustosParallel runs detect.Text over the corpus with workers goroutines;
// Seconds is the wall time, reading included.
func CustosParallel(corpus string, workers int) (Throughput, error) {
	f, err := os.Open(corpus)
	if err != nil {
		return Throughput{}, err
	}
	defer f.Close()
	resetPeakRSS()
	jobs := make(chan string, workers*4)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				_ = detect.Text(s)
			}
		}()
	}
	var bytes int64
	t0 := time.Now()
	err = readChunks(f, func(_ int64, chunk []byte) {
		bytes += int64(len(chunk))
		jobs <- string(chunk)
	})
	close(jobs)
	wg.Wait()
	wall := time.Since(t0)
	if err != nil {
		return Throughput{}, err
	}
	t := Throughput{Tool: "custos", Workers: workers, Bytes: bytes, Seconds: wall.Seconds(), Complete: true, PeakRSS: int64(procmem.Status("VmHWM"))}
	t.MBps = mbps(bytes, t.Seconds)
	t.PerCore = t.MBps / float64(workers)
	return t, nil
}

func mbps(bytes int64, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(bytes) / 1e6 / seconds
}

// PeerCorpus runs a peer over the corpus for at most budget of its own
// time and scores what it found on the part it read.
func PeerCorpus(ctx context.Context, scripts, npmDir string, p Peer, corpus, truth, work string, budget time.Duration) (Throughput, error) {
	out := filepath.Join(work, "findings-"+strings.NewReplacer("@", "", "/", "-").Replace(p.Name)+".txt")
	defer os.Remove(out)
	s, err := runDriver(ctx, scripts, npmDir, p, "corpus", corpus, out, strconv.FormatFloat(budget.Seconds(), 'f', 3, 64))
	if err != nil {
		return Throughput{}, err
	}
	tf, err := os.Open(truth)
	if err != nil {
		return Throughput{}, err
	}
	defer tf.Close()
	sc := NewCorpusScorer(TruthUpTo(tf, s.Bytes))
	ff, err := os.Open(out)
	if err != nil {
		return Throughput{}, err
	}
	defer ff.Close()
	r := bufio.NewScanner(ff)
	for n := 1; r.Scan(); n++ {
		st, en, typ, err := ParseCorpusFinding(r.Text())
		if err != nil {
			return Throughput{}, fmt.Errorf("%s findings line %d: %v", p.Name, n, err)
		}
		sc.Add(Finding{Start: st, End: en, Type: PeerType(typ)})
	}
	if err := r.Err(); err != nil {
		return Throughput{}, err
	}
	a, err := sc.Finish()
	if err != nil {
		return Throughput{}, err
	}
	t := Throughput{Tool: p.Name, Version: s.Version, Workers: 1, Bytes: s.Bytes, Seconds: s.Seconds, PeakRSS: s.MaxRSS, Complete: s.Complete, Errors: s.Errors, Agreement: &a}
	t.MBps = mbps(s.Bytes, s.Seconds)
	t.PerCore = t.MBps
	return t, nil
}

// custosEval scores detect.Text on each set.
func custosEval(sets []EvalSet) EvalTool {
	return scoreSets("custos", sets, func(set, i int) []Finding {
		var out []Finding
		for _, sp := range detect.Text(sets[set].Samples[i].Text) {
			if !sp.Masked {
				out = append(out, Finding{Start: int64(sp.Start), End: int64(sp.End), Type: SpanType(sp)})
			}
		}
		return out
	})
}

func scoreSets(tool string, sets []EvalSet, found func(set, i int) []Finding) EvalTool {
	e := EvalTool{Tool: tool, PerSet: map[string][]TypeScore{}}
	pooled := make([]TypeScore, len(Types))
	for k, t := range Types {
		pooled[k].Type = t
	}
	for si, set := range sets {
		scores := ScoreEval(set.Samples, func(i int) []Finding { return found(si, i) })
		e.PerSet[set.Name] = scores
		for k := range scores {
			pooled[k].add(scores[k])
		}
	}
	e.Pooled = pooled
	return e
}

// peerEval runs a peer over every labelled text and scores it.
func peerEval(ctx context.Context, scripts, npmDir string, p Peer, sets []EvalSet, texts, work string) (EvalTool, error) {
	out := filepath.Join(work, "eval-findings.txt")
	defer os.Remove(out)
	if _, err := runDriver(ctx, scripts, npmDir, p, "eval", texts, out); err != nil {
		return EvalTool{}, err
	}
	n := 0
	for _, s := range sets {
		n += len(s.Samples)
	}
	f, err := os.Open(out)
	if err != nil {
		return EvalTool{}, err
	}
	defer f.Close()
	all, err := ParseEvalFindings(f, n)
	if err != nil {
		return EvalTool{}, fmt.Errorf("%s: %v", p.Name, err)
	}
	firsts := make([]int, len(sets))
	for i := 1; i < len(sets); i++ {
		firsts[i] = firsts[i-1] + len(sets[i-1].Samples)
	}
	return scoreSets(p.Name, sets, func(set, i int) []Finding { return all[firsts[set]+i] }), nil
}

func writeTexts(sets []EvalSet, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, s := range sets {
		for _, sm := range s.Samples {
			if err := enc.Encode(struct {
				Text string `json:"text"`
			}{sm.Text}); err != nil {
				f.Close()
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Run generates the corpus in a temporary directory and measures Custos and
// each available peer; progress goes to log.
func Run(ctx context.Context, o Options, log io.Writer) (*Report, error) {
	work, err := os.MkdirTemp("", "custos-bench-scan-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	rep := &Report{Seed: o.Seed, CPUs: runtime.NumCPU(), Unavailable: map[string]string{}}
	corpus, truth := filepath.Join(work, "corpus.txt"), filepath.Join(work, "truth.txt")
	fmt.Fprintf(log, "generating %d MB of text …\n", o.Size/1e6)
	if rep.Corpus, err = generateFiles(corpus, truth, o.Size, o.Seed); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "custos, one goroutine …\n")
	single, err := CustosCorpus(corpus, truth)
	if err != nil {
		return nil, err
	}
	rep.Throughput = append(rep.Throughput, single)
	if o.Workers > 1 {
		fmt.Fprintf(log, "custos, %d goroutines …\n", o.Workers)
		par, err := CustosParallel(corpus, o.Workers)
		if err != nil {
			return nil, err
		}
		rep.Throughput = append(rep.Throughput, par)
	}

	var sets []EvalSet
	if o.EvalDir != "" {
		if sets, err = EvalSets(o.EvalDir); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(log, "no labelled corpora at %s: accuracy skipped\n", o.EvalDir)
			sets = nil
		} else if err != nil {
			return nil, err
		}
	}
	if len(sets) > 0 {
		for _, s := range sets {
			rep.EvalSets = append(rep.EvalSets, s.Name)
		}
		rep.Eval = append(rep.Eval, custosEval(sets))
	}
	if o.NoPeers {
		return rep, nil
	}

	if _, err := os.Stat(filepath.Join(o.Scripts, "driver.mjs")); err != nil {
		for _, p := range Peers {
			rep.Unavailable[p.Name] = fmt.Sprintf("no driver scripts in %s: run from a source checkout or give --peers-dir", o.Scripts)
		}
		return rep, nil
	}
	npmDir := filepath.Join(work, "npm")
	if err := os.Mkdir(npmDir, 0o755); err != nil {
		return nil, err
	}
	rep.Unavailable = InstallPeers(ctx, npmDir, log)
	texts := filepath.Join(work, "texts.jsonl")
	if len(sets) > 0 {
		if err := writeTexts(sets, texts); err != nil {
			return nil, err
		}
	}
	for _, p := range Peers {
		if _, gone := rep.Unavailable[p.Name]; gone {
			continue
		}
		fmt.Fprintf(log, "%s over the corpus (at most %s of its time) …\n", p.Name, o.PeerBudget)
		t, err := PeerCorpus(ctx, o.Scripts, npmDir, p, corpus, truth, work, o.PeerBudget)
		if err != nil {
			rep.Unavailable[p.Name] = err.Error()
			continue
		}
		rep.Throughput = append(rep.Throughput, t)
		if t.MBps > 0 && (rep.FastestPeer == "" || t.MBps > peerMBps(rep, rep.FastestPeer)) {
			rep.FastestPeer = t.Tool
		}
		if len(sets) > 0 {
			fmt.Fprintf(log, "%s over the labelled corpora …\n", p.Name)
			e, err := peerEval(ctx, o.Scripts, npmDir, p, sets, texts, work)
			if err != nil {
				rep.Unavailable[p.Name] = "accuracy: " + err.Error()
				continue
			}
			rep.Eval = append(rep.Eval, e)
		}
	}
	if rep.FastestPeer != "" {
		rep.Ratio = single.PerCore / peerMBps(rep, rep.FastestPeer)
	}
	return rep, nil
}

func peerMBps(rep *Report, name string) float64 {
	for _, t := range rep.Throughput {
		if t.Tool == name {
			return t.MBps
		}
	}
	return 0
}

func generateFiles(corpus, truth string, size int64, seed uint64) (CorpusStats, error) {
	cf, err := os.Create(corpus)
	if err != nil {
		return CorpusStats{}, err
	}
	defer cf.Close()
	tf, err := os.Create(truth)
	if err != nil {
		return CorpusStats{}, err
	}
	defer tf.Close()
	st, err := Generate(cf, tf, size, seed)
	if err != nil {
		return st, err
	}
	if err := cf.Close(); err != nil {
		return st, err
	}
	return st, tf.Close()
}

// WriteText prints the report as tables.
func (r *Report) WriteText(w io.Writer) {
	c := r.Corpus
	var planted []string
	for _, t := range Types {
		if n := c.Planted[t]; n > 0 {
			planted = append(planted, fmt.Sprintf("%s %d", t, n))
		}
	}
	fmt.Fprintf(w, "corpus: %.1f MB, %d lines, %d with personal information (%.1f%%), %d hard negatives; seed %d\n",
		float64(c.Bytes)/1e6, c.Lines, c.LinesPI, 100*float64(c.LinesPI)/float64(max(c.Lines, 1)), c.Negatives, r.Seed)
	fmt.Fprintf(w, "planted: %s\n\n", strings.Join(planted, ", "))
	fmt.Fprintf(w, "%-22s %8s %9s %8s %10s %9s %8s %9s %9s\n", "tool", "workers", "MB read", "seconds", "MB/s/core", "peak RSS", "recall", "precision", "other")
	for _, t := range r.Throughput {
		name := t.Tool
		if t.Version != "" {
			name += "@" + t.Version
		}
		rec, prec, other := "", "", ""
		if a := t.Agreement; a != nil {
			rec, prec, other = pct(a.All.Recall()), pct(a.All.Precision()), strconv.Itoa(a.Other)
		}
		part := ""
		if !t.Complete {
			part = "*"
		}
		fmt.Fprintf(w, "%-22s %8d %8.1f%1s %8.2f %10.2f %8.0fM %8s %9s %9s\n", name, t.Workers, float64(t.Bytes)/1e6, part, t.Seconds, t.PerCore, float64(t.PeakRSS)/(1<<20), rec, prec, other)
	}
	for _, t := range r.Throughput {
		if t.Errors > 0 {
			fmt.Fprintf(w, "%s failed on %d chunks, counted as finding nothing there\n", t.Tool, t.Errors)
		}
	}
	if r.FastestPeer != "" {
		fmt.Fprintf(w, "\ncustos MB/s per core / fastest peer (%s): %.1fx\n", r.FastestPeer, r.Ratio)
	}
	for _, t := range r.Throughput {
		if !t.Complete {
			fmt.Fprintf(w, "* the peer's time budget ran out: figures are on the part it read\n")
			break
		}
	}
	var names []string
	for n := range r.Unavailable {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "unavailable: %s: %s\n", n, r.Unavailable[n])
	}

	fmt.Fprintf(w, "\nagreement with the planted truth per type, recall/precision\n%-10s", "type")
	for _, t := range r.Throughput {
		if t.Agreement != nil {
			fmt.Fprintf(w, " %19s", trim(t.Tool, 19))
		}
	}
	fmt.Fprintln(w)
	for k, typ := range Types {
		if c.Planted[typ] == 0 {
			continue
		}
		fmt.Fprintf(w, "%-10s", typ)
		for _, t := range r.Throughput {
			if t.Agreement != nil {
				s := t.Agreement.Types[k]
				fmt.Fprintf(w, " %19s", pct(s.Recall())+"/"+pct(s.Precision()))
			}
		}
		fmt.Fprintln(w)
	}

	if len(r.Eval) == 0 {
		return
	}
	fmt.Fprintf(w, "\naccuracy on the labelled corpora together, precision/recall/F1 per type\n")
	r.evalTable(w, func(e EvalTool) []TypeScore { return e.Pooled }, false)
	for _, set := range r.EvalSets {
		fmt.Fprintf(w, "\n%s\n", set)
		r.evalTable(w, func(e EvalTool) []TypeScore { return e.PerSet[set] }, true)
	}
}

// evalTable prints one row per type, one column per tool; with labelled
// only, the types the set has labels of.
func (r *Report) evalTable(w io.Writer, scores func(EvalTool) []TypeScore, labelled bool) {
	fmt.Fprintf(w, "%-10s %6s", "type", "labels")
	for _, e := range r.Eval {
		fmt.Fprintf(w, " %19s", trim(e.Tool, 19))
	}
	fmt.Fprintln(w)
	for k, typ := range Types {
		n := scores(r.Eval[0])[k].Labels
		if labelled && n == 0 {
			continue
		}
		fmt.Fprintf(w, "%-10s %6d", typ, n)
		for _, e := range r.Eval {
			s := scores(e)[k]
			fmt.Fprintf(w, " %19s", frac(s.Precision())+"/"+frac(s.Recall())+"/"+fmt.Sprintf("%.2f", s.F1()))
		}
		fmt.Fprintln(w)
	}
}

func pct(v float64) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func frac(v float64) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ParseSize reads a byte count: 100MB, 1GB, 512KB, 1.5GB or plain bytes
// (decimal units, as the throughput figures are).
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v != v || v*mult < 1 || v*mult > 1e12 {
		return 0, fmt.Errorf("size %q: want an amount from 1B to 1000GB such as 100MB, 1GB or 500KB", s)
	}
	return int64(v * mult), nil
}
