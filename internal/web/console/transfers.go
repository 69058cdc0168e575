package console

import (
	"net/http"

	"github.com/custos-privacy/custos/internal/fault"
)

// transfers shows the register of cross-border transfers, this year's
// people per transfer, the mechanism they call for, the alerts sent and
// the manifest entries whose mechanism no longer suffices. Numbers and
// manifest ids only: never a person.
func (c *console) transfers(w http.ResponseWriter, r *http.Request, s *session) error {
	ts := c.opt.Transfers
	if ts == nil {
		return fault.New(fault.NotFound, "not_found", "no such page")
	}
	reg, err := ts.Register(r.Context())
	if err != nil {
		return err
	}
	counts, err := ts.Counts(r.Context(), 0)
	if err != nil {
		return err
	}
	ps, err := ts.Problems(r.Context())
	if err != nil {
		return err
	}
	var problems []string
	for _, p := range ps {
		problems = append(problems, p.String())
	}
	return c.render(w, r, s, "transfers", "console.transfers.title", map[string]any{"Register": reg, "Counts": counts, "Problems": problems})
}
