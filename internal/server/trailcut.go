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
		} else if c.Held > 0 {
			s.log.Info("audit trail not cut: a legal hold is in force", "holds", c.Held)
		} else if c.Deleted > 0 {
			s.log.Info("audit trail past its retention cut", "deleted", c.Deleted, "start", c.Start, "retention", s.cfg.AuditRetention)
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
	// Held counts the legal holds in force that kept the trail whole.
	Held int `json:"held,omitempty"`
}

// CutTrail deletes the entries of trail older than period at now, up to
// the last signed checkpoint before the cutoff (audit.Trail.Cut), by a.
// Nothing is cut while a legal hold is in force in the organisation: the
// trail is one chain, and a hold on a person or a period keeps what it
// covers. A period of forever cuts nothing. The server's hourly cut and
// custos audit cut both come here.
func CutTrail(ctx context.Context, trail *audit.Trail, holds *hold.Service, period keep.Period, a audit.Actor, now time.Time) (TrailCut, error) {
	if err := keep.Trail.Check(period); err != nil {
		return TrailCut{}, err
	}
	cutoff, ok := period.Cutoff(now)
	if !ok {
		return TrailCut{}, nil
	}
	held, err := holds.Active(ctx, now)
	if err != nil {
		return TrailCut{}, err
	}
	if len(held) > 0 {
		return TrailCut{Held: len(held)}, nil
	}
	c, err := trail.Cut(ctx, a, cutoff, now)
	return TrailCut{Cut: c}, err
}

// Trail returns the organisation's audit trail as the API verifies it:
// against the signed checkpoints when they go to a file.
func (s *Server) Trail() *audit.Trail { return s.trail }

// Config returns the configuration the organisation is served with: the
// deployment's, with the organisation's own secrets and retention.
func (s *Server) Config() config.Config { return s.cfg }
