package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/open-policy-agent/opa/v1/version"
)

// Result is what the embedded mode prints. Every figure is per decision, that
// is per purpose asked, not per query.
type Result struct {
	Queries                  int     `json:"queries"`
	Decisions                int     `json:"decisions"` // in one pass over the queries
	OPAVersion               string  `json:"opa_version"`
	OPAEmbeddedNsPerDecision float64 `json:"opa_embedded_ns_per_decision"`
	CustosNsPerDecision      float64 `json:"custos_ns_per_decision"`
	Ratio                    float64 `json:"ratio"` // OPA time over Custos time
	OPAAllocsPerDecision     float64 `json:"opa_allocs_per_decision"`
	CustosAllocsPerDecision  float64 `json:"custos_allocs_per_decision"`
	OPADecisionsMeasured     int64   `json:"opa_decisions_measured"`
	CustosDecisionsMeasured  int64   `json:"custos_decisions_measured"`
}

// rounds is how many turns each engine takes.
const rounds = 10

// embedded checks that both engines agree on every query, then runs each for
// duration over the queries in turn.
func embedded(ctx context.Context, d *Data, duration time.Duration, stderr io.Writer) (*Result, error) {
	o, err := newOPAEngine(ctx, d)
	if err != nil {
		return nil, err
	}
	c := newCustosEngine(d)
	n, err := parity(ctx, d, o, c)
	if err != nil {
		var pe *parityError
		if errors.As(err, &pe) {
			pe.report(stderr)
		}
		return nil, err
	}
	fmt.Fprintf(stderr, "parity: %d queries, %d decisions, engines agree\n", len(d.Queries), n)

	// The engines take turns, so that a change in the machine's load during
	// the run weighs on both alike.
	var opa, cus measurement
	opaNext, cusNext := opaStep(ctx, d, o), custosStep(d, c)
	slice := duration / rounds
	for range rounds {
		m, err := measure(slice, opaNext)
		if err != nil {
			return nil, err
		}
		opa.add(m)
		if m, err = measure(slice, cusNext); err != nil {
			return nil, err
		}
		cus.add(m)
	}
	if opa.decisions == 0 || cus.decisions == 0 {
		return nil, errors.New("measure: the queries ask for no purposes")
	}
	return &Result{
		Queries:                  len(d.Queries),
		Decisions:                n,
		OPAVersion:               version.Version,
		OPAEmbeddedNsPerDecision: opa.nsPerDecision(),
		CustosNsPerDecision:      cus.nsPerDecision(),
		Ratio:                    opa.nsPerDecision() / cus.nsPerDecision(),
		OPAAllocsPerDecision:     opa.allocsPerDecision(),
		CustosAllocsPerDecision:  cus.allocsPerDecision(),
		OPADecisionsMeasured:     opa.decisions,
		CustosDecisionsMeasured:  cus.decisions,
	}, nil
}

// step answers the next query, going round the queries, and returns how many
// decisions it made and how many of them allow. Counting the allowed ones
// makes each engine's answer be read.
type step func() (decisions, allowed int, err error)

func opaStep(ctx context.Context, d *Data, o *opaEngine) step {
	i := 0
	return func() (int, int, error) {
		arr, err := o.eval(ctx, i)
		if err != nil {
			return 0, 0, err
		}
		if i++; i == len(d.Queries) {
			i = 0
		}
		allowed := 0
		for _, x := range arr {
			if m, ok := x.(map[string]any); ok && m["allowed"] == true {
				allowed++
			}
		}
		return len(arr), allowed, nil
	}
}

func custosStep(d *Data, c *custosEngine) step {
	i := 0
	buf := make([]check.Decision, 0, 64)
	return func() (int, int, error) {
		buf = c.decide(&d.Queries[i], buf[:0])
		if i++; i == len(d.Queries) {
			i = 0
		}
		allowed := 0
		for _, x := range buf {
			if x.Allowed {
				allowed++
			}
		}
		return len(buf), allowed, nil
	}
}

type measurement struct {
	decisions int64
	allowed   int64
	elapsed   time.Duration
	mallocs   uint64
}

func (m *measurement) add(o measurement) {
	m.decisions += o.decisions
	m.allowed += o.allowed
	m.elapsed += o.elapsed
	m.mallocs += o.mallocs
}

func (m measurement) nsPerDecision() float64 {
	return float64(m.elapsed.Nanoseconds()) / float64(m.decisions)
}

func (m measurement) allocsPerDecision() float64 {
	return float64(m.mallocs) / float64(m.decisions)
}

// clockEvery is how many queries run between looks at the clock, so that
// reading it costs little next to a query of either engine.
const clockEvery = 64

// measure runs s until duration has passed. The garbage collection left over
// from the previous turn is done before the clock starts; the one s causes
// counts against it.
func measure(duration time.Duration, s step) (measurement, error) {
	var m measurement
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	for {
		for range clockEvery {
			dec, al, err := s()
			if err != nil {
				return m, err
			}
			m.decisions += int64(dec)
			m.allowed += int64(al)
		}
		if m.elapsed = time.Since(start); m.elapsed >= duration {
			break
		}
	}
	runtime.ReadMemStats(&after)
	m.mallocs = after.Mallocs - before.Mallocs
	return m, nil
}
