package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/retention"
)

// Retention is the organisation's retention sweep as the console shows
// and starts it. The server gives it only when a dataset annotation is
// configured and the sweep is on.
type Retention interface {
	// Plan works out what is due under every rule now.
	Plan(ctx context.Context) (retention.Plan, error)
	// Runs lists the latest runs, newest first.
	Runs(ctx context.Context, limit int) ([]RetentionRun, error)
	// Run sweeps now as a; retention.ErrRunning when another run holds the sweep.
	Run(ctx context.Context, a audit.Actor) (retention.Report, error)
}

// RetentionRun is one run's record: counts and names, never a value swept.
type RetentionRun struct {
	ID, Instance, State string
	StartedAt           time.Time
	FinishedAt          time.Time // zero while running
	// Report is zero while the run is under way.
	Report retention.Report
}

// runsShown is how many past runs the page lists.
const runsShown = 20

// retentionRun is a run as the page lists it.
type retentionRun struct {
	RetentionRun
	Rows int64
}

// rowsChanged sums what a run changed under every target.
func rowsChanged(rep retention.Report) int64 {
	var n int64
	for _, r := range rep.Results {
		n += r.Rows
	}
	return n
}

// retentionPage is the page's data.
type retentionPage struct {
	// Off: no dataset is configured, or the sweep is off.
	Off      bool
	Plan     retention.Plan
	PlanFail bool
	Runs     []retentionRun
	// Ran is the run the admin just started, when the page answers it.
	Ran  *retentionRun
	Busy bool
}

func (c *console) retention(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := c.retentionData(r.Context())
	if err != nil {
		return err
	}
	return c.render(w, r, s, "retention", "console.retention.title", d)
}

// retentionData reads the plan and the runs. A plan reads the
// organisation's databases, which may be down: the page then says so and
// still lists the runs.
func (c *console) retentionData(ctx context.Context) (*retentionPage, error) {
	sw := c.opt.Retention
	if sw == nil {
		return &retentionPage{Off: true}, nil
	}
	d := &retentionPage{}
	plan, err := sw.Plan(ctx)
	if err != nil {
		c.log.Error("console: retention plan", "err", err)
		d.PlanFail = true
	}
	d.Plan = plan
	runs, err := sw.Runs(ctx, runsShown)
	if err != nil {
		return nil, err
	}
	for _, run := range runs {
		d.Runs = append(d.Runs, retentionRun{RetentionRun: run, Rows: rowsChanged(run.Report)})
	}
	return d, nil
}

// runRetention sweeps now, as the signed-in admin, and answers with the
// page showing what the run did. The run is carried to its end even when
// the browser stops waiting: a sweep cut short is safe to resume, but it
// would leave what is due to the next run for no reason.
func (c *console) runRetention(w http.ResponseWriter, r *http.Request, s *session) error {
	sw := c.opt.Retention
	if sw == nil {
		return fault.New(fault.NotFound, "not_found", "no retention sweep is configured")
	}
	ctx := context.WithoutCancel(r.Context())
	rep, runErr := sw.Run(ctx, s.actor)
	d, err := c.retentionData(ctx)
	if err != nil {
		return err
	}
	p := c.page(r, s, "console.retention.title")
	status := http.StatusOK
	switch {
	case errors.Is(runErr, retention.ErrRunning):
		status, d.Busy = http.StatusConflict, true
		p.Alert = p.T("console.retention.busy")
	case runErr != nil:
		// The cause may quote a database's values: it goes to the log only.
		c.log.Error("console: retention run", "run", rep.Run, "err", runErr)
		status = http.StatusInternalServerError
		p.Alert = p.T("console.retention.failed", rep.Run)
		d.Ran = &retentionRun{RetentionRun: RetentionRun{ID: rep.Run, Report: rep}, Rows: rowsChanged(rep)}
	default:
		p.Notice = p.T("console.retention.ran", rowsChanged(rep), len(rep.Certificates))
		d.Ran = &retentionRun{RetentionRun: RetentionRun{ID: rep.Run, Report: rep}, Rows: rowsChanged(rep)}
	}
	p.Data = view{Me: s.op, Can: map[string]bool{"work": s.is(workers...), "admin": s.is(adminsOn...)}, Data: d}
	c.r.Render(w, status, "retention", p)
	return nil
}
