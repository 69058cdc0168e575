package api

import (
	"net/http"
	"strconv"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/retention"
)

// Retention sweeps of the organisation's databases: the plan, the runs,
// and a run now. Reading is for staff and auditors; running is the
// admins', as the daily sweep is the server's.
func (a *API) retentionRoutes() []route {
	read := []string{RoleAdmin, RoleOperator, RoleAuditor}
	return []route{
		{"GET", "/v1/retention/plan", read, "What a retention sweep would do now, per datastore, collection and rule; changes nothing", "retentionPlan", "", "RetentionPlan", 200, a.retentionPlan},
		{"GET", "/v1/retention/runs", read, "The latest retention runs, newest first, with their reports", "retentionRuns", "", "RetentionRuns", 200, a.retentionRuns},
		{"POST", "/v1/retention/runs", []string{RoleAdmin}, "Run the retention sweep now, as the server does daily; refused while another run holds it", "runRetention", "", "RetentionReport", 200, a.runRetention},
	}
}

var errNoRetention = fault.New(fault.Unavailable, "retention_unavailable", "no dataset annotation is configured: retention sweeps are not served here")

func (a *API) retention() (*retention.Service, error) {
	if a.opt.Retention == nil {
		return nil, errNoRetention
	}
	return a.opt.Retention, nil
}

func (a *API) retentionPlan(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	rs, err := a.retention()
	if err != nil {
		return err
	}
	p, err := rs.Plan(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, 200, p)
}

func (a *API) retentionRuns(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	rs, err := a.retention()
	if err != nil {
		return err
	}
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return fault.New(fault.BadRequest, "invalid_query", "limit is a number from 1 to 200").At("limit")
		}
		limit = n
	}
	runs, err := rs.Runs(r.Context(), limit)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"runs": runs})
}

func (a *API) runRetention(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	rs, err := a.retention()
	if err != nil {
		return err
	}
	rep, err := rs.Run(r.Context(), who, nil)
	if err != nil && rep.Error == "" {
		return err // the run did not start: another holds the sweep, or no plan
	}
	// A run that stopped midway is reported with what it did and why it
	// stopped (report.error).
	return writeJSON(w, 200, rep)
}
