package server

import (
	"context"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
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

// CutTrail deletes the entries of the audit trail older than the audit
// retention (--audit-retention), up to the last signed checkpoint before
// the cutoff (audit.Trail.Cut). Nothing is cut while a legal hold is in
// force in the organisation: the trail is one chain, and a hold on a
// person or a period keeps what it covers.
func (s *Server) CutTrail(ctx context.Context) (audit.Cut, error) {
	period, err := s.cfg.AuditPeriod()
	if err != nil {
		return audit.Cut{}, err
	}
	now := s.now()
	cutoff, ok := period.Cutoff(now)
	if !ok {
		return audit.Cut{}, nil
	}
	held, err := s.holds.Active(ctx, now)
	if err != nil {
		return audit.Cut{}, err
	}
	if len(held) > 0 {
		s.log.Info("audit trail not cut: a legal hold is in force", "holds", len(held))
		return audit.Cut{}, nil
	}
	return s.trail.Cut(ctx, audit.System(hostname()), cutoff, now)
}

// Trail returns the organisation's audit trail as the API verifies it:
// against the signed checkpoints when they go to a file.
func (s *Server) Trail() *audit.Trail { return s.trail }
