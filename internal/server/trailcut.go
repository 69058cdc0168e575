package server

import (
	"context"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/keep"
)

// cutTrail cuts the organisation's audit trail past its retention period
// (CutTrail), at start and then hourly.
func (s *Server) cutTrail(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if c, err := s.CutTrail(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Error("audit trail past its retention: cut failed", "err", err)
			}
		} else if c.Whole() {
			s.log.Info("audit trail not cut: a legal hold is in force", "holds", c.Held)
		} else if c.Deleted > 0 || c.Held > 0 {
			attrs := []any{"deleted", c.Deleted, "start", c.Start, "retention", s.cfg.AuditRetention}
			if c.HeldFrom != nil {
				attrs = append(attrs, "holds", c.Held, "held_from", c.HeldFrom.UTC().Format(time.RFC3339))
			}
			s.log.Info("audit trail past its retention cut", attrs...)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CutTrail cuts the organisation's audit trail past the audit retention
// (--audit-retention), as the server does hourly: see TrailCut.
func (s *Server) CutTrail(ctx context.Context) (TrailCut, error) {
	period, err := s.cfg.AuditPeriod()
	if err != nil {
		return TrailCut{}, err
	}
	return CutTrail(ctx, s.trail, s.holds, period, audit.System(hostname()), s.now())
}

// TrailCut is what a cut of the trail under its retention did.
type TrailCut struct {
	audit.Cut
	// Held counts the legal holds in force that kept entries past the
	// period: the whole trail, or (HeldFrom) the entries from a time on.
	Held int `json:"held,omitempty"`
	// HeldFrom, when holds kept only part of what is past the period, is
	// the start of the earliest of their periods: the cut went no further.
	HeldFrom *time.Time `json:"held_from,omitempty"`
}

// Whole reports whether legal holds kept the whole trail.
func (c TrailCut) Whole() bool { return c.Held > 0 && c.HeldFrom == nil }

// CutTrail deletes the entries of trail older than period at now, up to
// the last signed checkpoint before the cutoff (audit.Trail.Cut), by a.
// Legal holds in force keep what they cover (hold.Trail): a hold's period
// moves the cutoff back to its start, and a hold without a start (on a
// person, say, whose entries lie anywhere in the one chain) keeps the
// whole trail. A period of forever cuts nothing. The server's hourly cut
// and custos audit cut both come here.
func CutTrail(ctx context.Context, trail *audit.Trail, holds *hold.Service, period keep.Period, a audit.Actor, now time.Time) (TrailCut, error) {
	if err := keep.Trail.Check(period); err != nil {
		return TrailCut{}, err
	}
	cutoff, ok := period.Cutoff(now)
	if !ok {
		return TrailCut{}, nil
	}
	active, err := holds.Active(ctx, now)
	if err != nil {
		return TrailCut{}, err
	}
	var tc TrailCut
	switch from, whole, n := hold.Trail(active, cutoff, now); {
	case whole:
		return TrailCut{Held: n}, nil
	case n > 0:
		cutoff, tc.Held, tc.HeldFrom = from, n, &from
	}
	tc.Cut, err = trail.Cut(ctx, a, cutoff, now)
	return tc, err
}

// Trail returns the organisation's audit trail as the API verifies it:
// against the signed checkpoints when they go to a file.
func (s *Server) Trail() *audit.Trail { return s.trail }

// Config returns the configuration the organisation is served with: the
// deployment's, with the organisation's own secrets and retention.
func (s *Server) Config() config.Config { return s.cfg }
