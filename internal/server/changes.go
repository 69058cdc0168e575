package server

import (
	"context"
	"time"
)

// followChanges keeps every organisation served in step with what other
// instances (and the CLI) write: every poll interval it asks the database
// for the last change of each organisation in one query, and wakes the
// change feeds that have not read that far. A deployment of a hundred
// organisations makes four small queries a second for all of them, not
// four hundred.
func (s *Server) followChanges(ctx context.Context) {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		heads, err := s.st.ChangeHeads(ctx)
		if err != nil {
			if ctx.Err() == nil && !failing {
				s.log.Warn("poll for changes failed; trying again every poll interval", "err", err)
			}
			failing = true
			continue
		}
		if failing {
			s.log.Info("poll for changes works again")
			failing = false
		}
		for _, o := range append([]*Server{s}, s.served()...) {
			if o.svc.Behind(heads[o.st.Org()]) {
				o.wakeChanges()
			}
		}
	}
}

// wakeChanges has the organisation's change feed read its changes; a
// wake-up while one is pending is the same one.
func (s *Server) wakeChanges() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}
