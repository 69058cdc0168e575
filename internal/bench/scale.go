package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/store"
)

// ScaleOptions says what `custos bench scale` measures.
type ScaleOptions struct {
	Subjects      int
	Rate          int           // decisions per second in the open-loop runs
	Duration      time.Duration // each decision and write run
	Instances     int           // measure 1..Instances server processes
	Soak          time.Duration // 0: no soak
	CacheSubjects int           // the servers' decision cache (0: default)
	DBConns       int           // the servers' PostgreSQL connections each (0: default)
	Exe           string        // the custos binary, for server processes
	Log           io.Writer     // servers' logs and progress
}

// Figure is one measured figure beside its goal.
type Figure struct {
	Area  string `json:"area"`
	Name  string `json:"name"`
	Value string `json:"value"`
	Goal  string `json:"goal,omitempty"`
	// Met is "yes", "no", or "" when the figure has no goal.
	Met string `json:"met,omitempty"`
}

// ScaleReport is what a scale run measured.
type ScaleReport struct {
	Database string   `json:"database"` // sqlite or postgres
	Subjects int      `json:"subjects"`
	Events   int64    `json:"events"`
	Entries  int64    `json:"entries"`
	Machine  string   `json:"machine"`
	Figures  []Figure `json:"figures"`
}

func (r *ScaleReport) add(area, name, value, goal string, met ...bool) {
	f := Figure{Area: area, Name: name, Value: value, Goal: goal}
	if len(met) > 0 {
		f.Met = "no"
		if met[0] {
			f.Met = "yes"
		}
	}
	r.Figures = append(r.Figures, f)
}

// Print writes the report as one table.
func (r *ScaleReport) Print(w io.Writer) {
	fmt.Fprintf(w, "custos bench scale: %s, %d subjects, %d ledger events, %d audit entries; %s\n\n", r.Database, r.Subjects, r.Events, r.Entries, r.Machine)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "area\tfigure\tvalue\tgoal\tmet")
	for _, f := range r.Figures {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Area, f.Name, f.Value, f.Goal, f.Met)
	}
	tw.Flush()
}

// PopulateScale fills e's database to n subjects unless it holds them
// already, refusing a database that holds anything but a population.
func PopulateScale(ctx context.Context, e *Env, n int, progress func(done, written int)) (PopulationStats, error) {
	if _, err := e.Store.Subject(ctx, SubjectName(0)); errors.Is(err, store.ErrNotFound) {
		any, err := e.Store.HasSubjects(ctx)
		if err != nil {
			return PopulationStats{}, err
		}
		if any {
			return PopulationStats{}, fmt.Errorf("the database holds subjects that are not a scale population: give an empty database")
		}
	} else if err != nil {
		return PopulationStats{}, err
	}
	stats, err := Populate(ctx, e.Store, e.Service, e.Hasher, PopulationOptions{Subjects: n, Progress: progress})
	if err != nil {
		return stats, err
	}
	// Measure with the statistics a running database would have.
	return stats, e.Store.Analyze(ctx)
}

// Scale measures e's populated database.
func Scale(ctx context.Context, e *Env, o ScaleOptions) (*ScaleReport, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	o.Rate = max(o.Rate, 1)
	o.Duration = max(o.Duration, time.Second)
	trail, ledger, err := e.Store.Heads(ctx)
	if err != nil {
		return nil, err
	}
	// Server processes take their settings from the environment.
	if o.CacheSubjects > 0 {
		os.Setenv("CUSTOS_CACHE_SUBJECTS", strconv.Itoa(o.CacheSubjects))
	}
	if o.DBConns > 0 {
		os.Setenv("CUSTOS_DB_CONNS", strconv.Itoa(o.DBConns))
	}
	rep := &ScaleReport{Database: e.Store.Dialect(), Subjects: o.Subjects, Events: ledger.Seq, Entries: trail.Seq, Machine: machine()}
	steps := []struct {
		name string
		run  func(context.Context, *Env, ScaleOptions, *ScaleReport) error
	}{
		{"storage", scaleStorage},
		{"requests", scaleRequests},
		{"verification", scaleVerify},
		{"decisions", scaleDecisions},
		{"writes", scaleWrites},
		{"instances", scaleInstances},
		{"soak", scaleSoak},
	}
	for _, s := range steps {
		fmt.Fprintf(o.Log, "measuring %s…\n", s.name)
		if err := s.run(ctx, e, o, rep); err != nil {
			return rep, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return rep, nil
}

func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	cpus := strconv.Itoa(runtime.NumCPU())
	return strings.TrimSpace(cpus + " CPUs " + model)
}

func bytesText(n float64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", n/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%.0f B", n)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// scaleStorage: bytes on disk per event and per subject, and a year.
func scaleStorage(ctx context.Context, e *Env, o ScaleOptions, rep *ScaleReport) error {
	sizes := map[string]int64{}
	var total int64
	for _, t := range []string{"subjects", "identities", "consent_events", "consent_state", "audit_log", "requests", "request_events"} {
		n, err := e.Store.TableBytes(ctx, t)
		if err != nil {
			return err
		}
		sizes[t] = n
		total += n
	}
	perEvent := float64(sizes["consent_events"]) / float64(max(rep.Events, 1))
	rep.add("storage", "consent ledger per event (table + indexes)", fmt.Sprintf("%.0f B", perEvent), "≤ 250 B", perEvent <= 250)
	rep.add("storage", "audit trail per entry", fmt.Sprintf("%.0f B", float64(sizes["audit_log"])/float64(max(rep.Entries, 1))), "")
	perSubject := float64(total) / float64(max(o.Subjects, 1))
	rep.add("storage", "all of Custos's tables per subject", bytesText(perSubject), "")
	rep.add("storage", "all tables", bytesText(float64(total)), "")
	// The population is two years of activity: a year is about half of
	// the events, entries and requests, and all of the registrations.
	yearly := float64(sizes["consent_events"]+sizes["audit_log"]+sizes["requests"]+sizes["request_events"])/2 +
		float64(sizes["subjects"]+sizes["identities"]+sizes["consent_state"])
	rep.add("storage", fmt.Sprintf("a year of %d people", o.Subjects), bytesText(yearly), "")
	return nil
}

// percentile of sorted durations.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// timeCalls runs fn n times and returns the p50 and p99.
func timeCalls(n int, fn func() error) (p50, p99 time.Duration, err error) {
	lat := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if err := fn(); err != nil {
			return 0, 0, err
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	return percentile(lat, 0.5), percentile(lat, 0.99), nil
}

// scaleRequests: the queue, due_by and the counts behind the metric.
func scaleRequests(ctx context.Context, e *Env, o ScaleOptions, rep *ScaleReport) error {
	const calls = 200
	week := time.Now().AddDate(0, 0, 7).Format(time.DateOnly)
	cases := []struct {
		name string
		fn   func() error
	}{
		// What the console's queue reads: the open requests, and the
		// closed ones (its other view), 500 to a page.
		{"console queue (open requests, 500)", func() error {
			_, err := e.Store.Requests(ctx, store.RequestFilter{States: dsr.OpenStates, Limit: 500})
			return err
		}},
		{"console queue, closed view (500)", func() error {
			_, err := e.Store.Requests(ctx, store.RequestFilter{States: dsr.ClosedStates, Limit: 500})
			return err
		}},
		// What GET /v1/requests?due_by= reads: open requests unless a
		// state is named.
		{"GET /v1/requests?due_by= a week ahead (500)", func() error {
			_, err := e.Store.Requests(ctx, store.RequestFilter{States: dsr.OpenStates, DueBy: week, Limit: 500})
			return err
		}},
		{"custos_requests_due (the counts)", func() error {
			_, err := e.Store.RequestCounts(ctx, dsr.OpenStates)
			return err
		}},
	}
	for _, c := range cases {
		p50, p99, err := timeCalls(calls, c.fn)
		if err != nil {
			return err
		}
		rep.add("requests", c.name+" p50/p99", ms(p50)+" / "+ms(p99), "p99 < 50 ms", p99 < 50*time.Millisecond)
	}
	return nil
}

// scaleVerify: the whole of both chains and the state.
func scaleVerify(ctx context.Context, e *Env, o ScaleOptions, rep *ScaleReport) error {
	var checked int64
	t0 := time.Now()
	r, err := e.Store.VerifyAudit(ctx, nil, func(n int64) { checked += n })
	if err != nil {
		return err
	}
	el := time.Since(t0)
	ok := "verifies"
	if !r.OK {
		ok = fmt.Sprintf("%d problems", len(r.Problems))
	}
	rate := float64(checked) / el.Seconds()
	rep.add("verification", "whole trail, ledger and state", fmt.Sprintf("%s, %d rows in %s: %.0f/s", ok, checked, el.Round(time.Millisecond), rate), "≥ 1,000,000/s", rate >= 1e6 && r.OK)

	// From a checkpoint of the heads as they are now, after 1,000 writes.
	trail, ledger, err := e.Store.Heads(ctx)
	if err != nil {
		return err
	}
	anchors := &audit.Anchors{Trail: []audit.Anchor{{Seq: trail.Seq, Hash: trail.Hash, From: "the heads before the writes"}},
		Ledger: []audit.Anchor{{Seq: ledger.Seq, Hash: ledger.Hash, From: "the heads before the writes"}}}
	for k := range 1000 {
		i := k * 7919 % o.Subjects
		if !writable(i) {
			i = (i + 1) % o.Subjects
		}
		in := consent.ConsentInput{Method: "api", Language: "en", NoticeHash: NoticeHash, Grant: []string{"analytics"}}
		if _, err := e.Service.Record(ctx, benchActor, SubjectName(i), in); err != nil {
			return err
		}
	}
	checked = 0
	t0 = time.Now()
	r, err = e.Store.VerifyAuditFrom(ctx, anchors, func(n int64) { checked += n })
	if err != nil {
		return err
	}
	el = time.Since(t0)
	ok = "verifies"
	if !r.OK {
		ok = fmt.Sprintf("%d problems", len(r.Problems))
	}
	rep.add("verification", "from the last checkpoint, 1,000 writes later", fmt.Sprintf("%s, %d rows in %s", ok, checked, el.Round(time.Millisecond)),
		"proportional to the new entries", r.OK && el < time.Second)
	return nil
}

// zipfQueries draws n decision queries whose subjects follow Zipf(1.1)
// over all subjects (rank k is a fixed scattering of the population, so
// that the popular subjects are not the first registered), or uniformly.
func zipfQueries(subjects, n int, uniform bool, seed uint64) CheckData {
	r := rand.New(rand.NewPCG(seed, 7))
	z := rand.NewZipf(r, 1.1, 1, uint64(subjects-1))
	d := CheckData{Queries: make([]Query, n)}
	for i := range d.Queries {
		var k uint64
		if uniform {
			k = r.Uint64N(uint64(subjects))
		} else {
			k = (z.Uint64() * 2654435761) % uint64(subjects)
		}
		q := checkAsks[r.IntN(len(checkAsks))]
		q.Subject = SubjectName(int(k))
		d.Queries[i] = q
	}
	return d
}

// scaleDecisions: open loop against one server process, Zipf then uniform.
func scaleDecisions(ctx context.Context, e *Env, o ScaleOptions, rep *ScaleReport) error {
	base, key, proc, stop, err := ServeProcess(ctx, e, o.Exe, o.Log)
	if err != nil {
		return err
	}
	defer stop()
	t := CustosTarget(base, key)
	for _, uniform := range []bool{false, true} {
		name := "Zipf(1.1)"
		if uniform {
			name = "uniform"
		}
		d := zipfQueries(o.Subjects, min(o.Rate*int(o.Duration.Seconds()), 2_000_000), uniform, 1)
		// A warm-up fills the cache as traffic would have by then.
		Open(t, d, o.Rate, 64, o.Duration/3)
		h0, m0 := cacheCounts(base)
		res := Open(t, d, o.Rate, 64, o.Duration)
		h1, m1 := cacheCounts(base)
		lat := res.FromDue
		hit := "-"
		if dh, dm := h1-h0, m1-m0; dh+dm > 0 {
			hit = fmt.Sprintf("%.1f%%", 100*dh/(dh+dm))
		}
		figure := fmt.Sprintf("%s at %d/s p50 / p99 / p999", name, o.Rate)
		value := fmt.Sprintf("%s / %s / %s (%d errors)", ms(lat.P50), ms(lat.P99), ms(lat.P999), lat.Errors)
		if uniform {
			rep.add("decisions", figure, value, "(the worst case)")
		} else {
			rep.add("decisions", figure, value, "p99 < 5 ms", lat.P99 < 5*time.Millisecond && lat.Errors == 0)
		}
		rep.add("decisions", name+" cache hit ratio", hit, "")
		rep.add("decisions", name+" server RSS", bytesText(float64(processRSS(proc.Pid))), "bounded by the cache size")
	}
	return nil
}

// cacheCounts reads the decision cache's hits and misses from the
// server's metrics (zero when it does not export them).
func cacheCounts(base string) (hits, misses float64) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		for name, dst := range map[string]*float64{"custos_decision_cache_hits_total": &hits, "custos_decision_cache_misses_total": &misses} {
			if v, ok := strings.CutPrefix(l, name+" "); ok {
				*dst, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
			}
		}
	}
	return hits, misses
}

// processRSS is a process's resident set in bytes, from /proc (0 elsewhere).
func processRSS(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// scaleWrites: consent writes into the populated ledger against the same
// into an empty database of the same kind.
func scaleWrites(ctx context.Context, e *Env, o ScaleOptions, rep *ScaleReport) error {
	full, err := ConsentWrites(ctx, e, 64, o.Duration, nil)
	if err != nil {
		return err
	}
	base := ""
	if e.Store.Dialect() == "postgres" {
		base = e.DSN
	}
	empty, err := NewEnv(ctx, base, 0, 0)
	if err != nil {
		return err
	}
	defer empty.Close()
	idle, err := ConsentWrites(ctx, empty, 64, o.Duration, nil)
	if err != nil {
		return err
	}
	ratio := full.PerSec / math.Max(idle.PerSec, 1e-9)
	rep.add("writes", "consent writes/s, 64 clients: populated / empty", fmt.Sprintf("%.0f / %.0f (%.2fx, p99 %s / %s)", full.PerSec, idle.PerSec, ratio, ms(full.P99), ms(idle.P99)),
		"≥ 0.8x", ratio >= 0.8 && full.Errors == 0)
	return nil
}
