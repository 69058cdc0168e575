package retention

import (
	"context"
	"fmt"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/certificate"
)

// ActionCertify is the audit action of issuing a sweep's certificate.
const ActionCertify = "retention.certificate"

// certify issues, for each rule under which the run changed rows, a
// certificate signed with the receipt key: which datastores, collections
// and fields, how many rows by action, the plan's hash, start and end.
// Counts and names only, never a value. Without a signer nothing is
// issued and the run says so in its log.
func (s *Service) certify(ctx context.Context, a audit.Actor, rep *Report) error {
	type group struct {
		c       certificate.Certificate
		changed bool
	}
	var order []string
	byRule := map[string]*group{}
	for _, r := range rep.Results {
		if r.Rows == 0 {
			continue
		}
		g := byRule[r.Rule]
		if g == nil {
			g = &group{c: certificate.Certificate{Kind: certificate.KindSweep, Rule: r.Rule, PlanHash: rep.PlanHash,
				Started: r.Started, Finished: r.Finished, Instance: rep.Instance, Org: s.opt.Org}}
			byRule[r.Rule] = g
			order = append(order, r.Rule)
		}
		if r.Started.Before(g.c.Started) {
			g.c.Started = r.Started
		}
		if r.Finished.After(g.c.Finished) {
			g.c.Finished = r.Finished
		}
		g.c.Targets = append(g.c.Targets, certificate.Target{Datastore: r.Datastore, Collection: r.Collection, Action: r.Action, Fields: r.Fields, Rows: r.Rows})
	}
	if len(order) == 0 {
		return nil
	}
	if s.opt.Signer == nil {
		s.opt.Logger.Warn("retention sweep changed rows but issued no certificate: no receipt key is configured", "run", rep.Run)
		return nil
	}
	for _, rule := range order {
		c, err := s.opt.Signer.Sign(byRule[rule].c)
		if err != nil {
			return fmt.Errorf("retention: certify %s: %w", rule, err)
		}
		e := audit.NewEntry(s.opt.Now(), a, ActionCertify, "certificate:"+c.ID, "retention", audit.OutcomeOK,
			map[string]any{"run": rep.Run, "rule": rule, "rows": c.Rows(), "collections": len(c.Targets)})
		if err := s.st.PutCertificate(ctx, c, e); err != nil {
			return fmt.Errorf("retention: keep certificate for %s: %w", rule, err)
		}
		rep.Certificates = append(rep.Certificates, c.ID)
	}
	return nil
}
