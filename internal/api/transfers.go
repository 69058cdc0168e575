package api

import (
	"net/http"
	"strconv"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/transfer"
)

// Cross-border transfers: the register read from the policy in force,
// the people counted this year and the mechanism their number calls for.
// The application reports the transfers it makes; staff and auditors read.
func (a *API) transferRoutes() []route {
	read := []string{RoleAdmin, RoleOperator, RoleAuditor}
	return []route{
		{"GET", "/v1/transfers/register", read, "The register of cross-border transfers of the policy in force, with the problems this year's counts raise", "transferRegister", "", "TransferRegister", 200, a.transferRegister},
		{"GET", "/v1/transfers/counts", read, "People whose personal information went abroad in a calendar year (?year=, default this one), per transfer and in total, with the mechanism each needs and the alerts sent", "transferCounts", "", "TransferCounts", 200, a.transferCounts},
		{"POST", "/v1/transfers", []string{RoleAdmin, RoleService}, "Report a transfer made: the people of a flow (or recipient) of the register are counted once a year", "reportTransfer", "TransferReport", "TransferReportResult", 200, a.reportTransfer},
	}
}

// TransferRegister is the register with the problems of its mechanisms.
type TransferRegister struct {
	Flows      []transfer.Flow     `json:"flows"`
	Thresholds transfer.Thresholds `json:"thresholds"`
	Problems   []string            `json:"problems"`
}

var errNoTransfers = fault.New(fault.Unavailable, "transfers_unavailable", "cross-border transfers are not counted here")

func (a *API) transfers() (*transfer.Service, error) {
	if a.opt.Transfers == nil {
		return nil, errNoTransfers
	}
	return a.opt.Transfers, nil
}

func problemStrings(ps manifest.Problems) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func (a *API) transferRegister(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	ts, err := a.transfers()
	if err != nil {
		return err
	}
	reg, err := ts.Register(r.Context())
	if err != nil {
		return err
	}
	ps, err := ts.Problems(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, 200, TransferRegister{Flows: reg.Flows, Thresholds: reg.Thresholds, Problems: problemStrings(ps)})
}

func (a *API) transferCounts(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	ts, err := a.transfers()
	if err != nil {
		return err
	}
	year := 0
	if v := r.URL.Query().Get("year"); v != "" {
		if year, err = strconv.Atoi(v); err != nil || year <= 0 {
			return fault.New(fault.BadRequest, "invalid_query", "year is a calendar year such as 2026").At("year")
		}
	}
	c, err := ts.Counts(r.Context(), year)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, c)
}

func (a *API) reportTransfer(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	ts, err := a.transfers()
	if err != nil {
		return err
	}
	var in transfer.ReportInput
	if err := decode(r, &in); err != nil {
		return err
	}
	res, err := ts.Report(r.Context(), transfer.Actor{ID: who.ID, Role: who.Role, Place: who.Place}, in)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, res)
}
