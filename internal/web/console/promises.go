package console

import (
	"net/http"

	"github.com/custos-privacy/custos/internal/promise"
)

// promiseRow is one promise as the page shows it.
type promiseRow struct {
	promise.Promise
	Says string
}

// promises shows the promise map of the policy in force with the
// deployment's live status: not kept first, then what needs configuration.
func (c *console) promises(w http.ResponseWriter, r *http.Request, s *session) error {
	p := c.page(r, s, "")
	data := map[string]any{}
	v, m, _, err := c.opt.Consent.Policy()
	if err != nil {
		// Nothing published yet: no promises.
		return c.render(w, r, s, "promises", "console.promises.title", data)
	}
	ps := promise.Map(m, &c.opt.Deployment)
	counts := promise.Counts(ps)
	var rows []promiseRow
	for _, k := range []promise.Keeper{promise.NotKept, promise.Configured, promise.Enforced, promise.Organisational} {
		for _, x := range ps {
			if x.Keeper == k {
				rows = append(rows, promiseRow{Promise: x, Says: x.Says.In(p.Lang)})
			}
		}
	}
	data["Version"] = v.Version
	data["Rows"] = rows
	data["Counts"] = []int{len(ps), counts[promise.Enforced], counts[promise.Configured], counts[promise.Organisational], counts[promise.NotKept]}
	return c.render(w, r, s, "promises", "console.promises.title", data)
}
