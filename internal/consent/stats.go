package consent

import (
	"context"
	"time"

	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
)

// StatsStore is what the ledger's aggregates are read from.
type StatsStore interface {
	ConsentSeries(ctx context.Context, from, to time.Time, bucket time.Duration) ([]store.ConsentPoint, error)
}

// Stats reads aggregates of the consent ledger for dashboards. It is
// apart from Service because it needs none of the service's keys or its
// policy cache, only the ledger.
type Stats struct {
	st StatsStore
}

// NewStats returns the ledger's aggregates read from st.
func NewStats(st StatsStore) *Stats { return &Stats{st: st} }

// SeriesPoint counts, for one purpose at one instant, the subjects whose
// decision in force for the purpose is a grant or a withdrawal.
type SeriesPoint struct {
	At        time.Time
	Purpose   string
	Granted   int64
	Withdrawn int64
}

// MaxSeriesPoints bounds how many instants one series covers: each is an
// aggregate over the whole ledger.
const MaxSeriesPoints = store.MaxConsentBuckets

// Series returns, at the end of every bucket from from+bucket up to to
// (to closes the last, shorter bucket), the decisions in force per
// purpose, ordered by instant then purpose. A subject's decision is the
// ledger's latest event for the purpose at that instant, latest by ledger
// order rather than by the clock, so a backdated event never overrides
// one recorded after it; subjects who never decided are not counted.
// An empty period or bucket, or more than MaxSeriesPoints buckets, is
// refused before the ledger is read.
func (s *Stats) Series(ctx context.Context, from, to time.Time, bucket time.Duration) ([]SeriesPoint, error) {
	if bucket <= 0 || !to.After(from) {
		return nil, fault.New(fault.Invalid, "invalid_period", "a series needs a period that ends after it starts, and buckets longer than zero")
	}
	if n := (to.Sub(from) + bucket - 1) / bucket; n > MaxSeriesPoints {
		return nil, fault.New(fault.Invalid, "too_many_points", "%d buckets is more than %d; choose longer buckets", n, MaxSeriesPoints)
	}
	ps, err := s.st.ConsentSeries(ctx, from, to, bucket)
	if err != nil {
		return nil, err
	}
	out := make([]SeriesPoint, len(ps))
	for i, p := range ps {
		out[i] = SeriesPoint{At: p.At, Purpose: p.Purpose, Granted: p.Granted, Withdrawn: p.Withdrawn}
	}
	return out, nil
}
