package promise

import (
	"fmt"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/manifest"
)

const (
	sweepComponent   = "retention sweep (internal/retention, daily in the server at --retention-at, custos retention run)"
	sweepTest        = "internal/retention TestSweepScenario; internal/execute TestSweepDialects, TestSweepResumes"
	requestComponent = "account cancellation request erasing the dataset's databases (internal/dsr Datastores)"
	requestTest      = "internal/dsr TestDeletionReachesTheOrganisationsDatabase"
)

// retentionKept sets what keeps rule r in the organisation's databases,
// from the collections the dataset binds to it: a sweep by clock, the
// account's cancellation request for account_deletion, or nothing for
// events Custos does not observe.
func (b *builder) retentionKept(p *Promise, r manifest.Retention) {
	var swept, byRequest, unobserved []string
	withdrawal := false
	for _, s := range b.ds.Datastores {
		for _, c := range s.Collections {
			for _, t := range c.Retention {
				if t.Rule != r.ID {
					continue
				}
				where := s.ID + "." + c.Name
				switch {
				case t.Clock != "":
					swept = append(swept, where)
				case t.Event == dataset.EventConsentWithdrawn:
					swept, withdrawal = append(swept, where), true
				case t.Event == dataset.EventAccountDeletion:
					byRequest = append(byRequest, where)
				default:
					unobserved = append(unobserved, where+" ("+t.Event+")")
				}
			}
		}
	}
	switch {
	case len(swept)+len(byRequest)+len(unobserved) == 0:
		p.Why = fmt.Sprintf("no collection of %s is bound to the rule: nothing deletes at the end of its period", b.ds.File)
	case len(unobserved) > 0:
		slices.Sort(unobserved)
		p.Why = "Custos does not yet observe the event that ends retention for " + strings.Join(unobserved, ", ") + ": the organisation acts on it"
	case len(byRequest) > 0 && len(swept) > 0:
		p.Keeper, p.Why = Enforced, ""
		p.Component, p.Test = sweepComponent+"; "+requestComponent, sweepTest+"; "+requestTest
	case len(byRequest) > 0:
		p.Keeper, p.Why, p.Component, p.Test = Enforced, "", requestComponent, requestTest
	default:
		p.Keeper, p.Why, p.Component, p.Test = Enforced, "", sweepComponent, sweepTest
	}
	if withdrawal && p.Keeper == Enforced {
		p.Test += "; internal/retention TestWithdrawalSweep"
	}
}
