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
// configured (with --retention-at off too: then nothing sweeps by itself).
type Retention interface {
	// Plan works out what is due under every rule now.
	Plan(ctx context.Context) (retention.Plan, error)
	// Runs lists the latest runs, newest first.
	Runs(ctx context.Context, limit int) ([]RetentionRun, error)
	// Run sweeps now as a; retention.ErrRunning when another run holds the sweep.
	Run(ctx context.Context, a audit.Actor) (retention.Report, error)
}

// RetentionRun is one run's record: counts and names, never a value swept.
type RetentionRun = retention.RunRecord

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
	// Off: no dataset is configured.
	Off      bool
	Plan     retention.Plan
	PlanFail bool
	Runs     []retentionRun
	// Ran is the run the admin just started, when the page answers it.
	Ran *retentionRun
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

// runWait is how long Run now waits for the sweep before it answers
// that the run carries on: under the server's write timeout, so that a
// long sweep gets an answer rather than a dropped connection.
var runWait = 20 * time.Second

// runRetention sweeps now, as the signed-in admin, and answers with the
// page showing what the run did. The run is carried to its end even when
// the browser stops waiting, or the page answers before the end: a sweep
// cut short is safe to resume, but it would leave what is due to the
// next run for no reason.
func (c *console) runRetention(w http.ResponseWriter, r *http.Request, s *session) error {
	sw := c.opt.Retention
	if sw == nil {
		return fault.New(fault.NotFound, "not_found", "no retention sweep is configured")
	}
	type outcome struct {
		rep retention.Report
		err error
	}
	done := make(chan outcome, 1)
	ctx := context.WithoutCancel(r.Context())
	go func() {
		rep, err := sw.Run(ctx, s.actor)
		if err != nil && !errors.Is(err, retention.ErrRunning) {
			// The cause may quote a database's values: it goes to the log only.
			c.log.Error("console: retention run", "run", rep.Run, "err", err)
		}
		done <- outcome{rep, err}
	}()
	p := c.page(r, s, "console.retention.title")
	status := http.StatusOK
	var ran *retentionRun
	select {
	case o := <-done:
		switch {
		case errors.Is(o.err, retention.ErrRunning):
			status, p.Alert = http.StatusConflict, p.T("console.retention.busy")
		case o.err != nil:
			status, p.Alert = http.StatusInternalServerError, p.T("console.retention.failed", o.rep.Run)
			ran = &retentionRun{RetentionRun: RetentionRun{ID: o.rep.Run, Report: o.rep}, Rows: rowsChanged(o.rep)}
		default:
			p.Notice = p.T("console.retention.ran", rowsChanged(o.rep), len(o.rep.Certificates))
			ran = &retentionRun{RetentionRun: RetentionRun{ID: o.rep.Run, Report: o.rep}, Rows: rowsChanged(o.rep)}
		}
	case <-time.After(runWait):
		status, p.Notice = http.StatusAccepted, p.T("console.retention.continues")
	case <-r.Context().Done():
		return nil
	}
	d, err := c.retentionData(r.Context())
	if err != nil {
		return err
	}
	d.Ran = ran
	p.Data = c.viewOf(s, d)
	c.r.Render(w, status, "retention", p)
	return nil
}
