package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/retention"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/web/console"
)

// openDatasetStores connects to every datastore of a dataset annotation.
// Connections come from the environment or a file the annotation names.
func openDatasetStores(ctx context.Context, path string) (_ *dataset.Dataset, _ []execute.Store, err error) {
	ds, err := dataset.Load(path)
	if err != nil {
		return nil, nil, err
	}
	var out []execute.Store
	defer func() {
		if err != nil {
			for _, s := range out {
				s.DB.Close()
			}
		}
	}()
	for i := range ds.Datastores {
		a := &ds.Datastores[i]
		dsn := a.DSN
		switch {
		case a.DSNEnv != "":
			dsn = os.Getenv(a.DSNEnv)
		case a.DSNFile != "":
			b, err := os.ReadFile(a.DSNFile)
			if err != nil {
				return nil, nil, fmt.Errorf("datastore %s: %w", a.ID, err)
			}
			dsn = strings.TrimSpace(string(b))
		}
		if dsn == "" {
			return nil, nil, fmt.Errorf("datastore %s: no connection (set %s)", a.ID, a.DSNEnv)
		}
		c, err := connector.Open(ctx, connector.Config{DSN: dsn})
		if err != nil {
			return nil, nil, fmt.Errorf("datastore %s: %w", a.ID, err)
		}
		db, _ := connector.DB(c)
		out = append(out, execute.Store{DS: a, DB: db, Kind: c.Kind()})
	}
	return ds, out, nil
}

// policyOf reads the manifest in force from the consent service.
func policyOf(svc *consent.Service) func(context.Context) (*manifest.Manifest, error) {
	return func(context.Context) (*manifest.Manifest, error) {
		_, m, _, err := svc.Policy()
		return m, err
	}
}

// retentionJob is the daily retention sweep and what it reports.
type retentionJob struct {
	svc       *retention.Service
	at        time.Duration // after midnight, China time
	scheduled bool          // false with --retention-at off: runs only when asked
	rows      *prometheus.CounterVec
	overdue   *prometheus.GaugeVec
	last      prometheus.Gauge
	runs      *prometheus.CounterVec
	log       *slog.Logger
}

// newRetentionJob registers the retention metrics; the caller sets svc,
// made with observe as its Observe.
func newRetentionJob(at time.Duration, scheduled bool, reg prometheus.Registerer, log *slog.Logger) *retentionJob {
	j := &retentionJob{at: at, scheduled: scheduled, log: log,
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_retention_rows_total",
			Help: "Rows of the organisation's databases this instance deleted, erased or anonymised because their retention ended."},
			[]string{"datastore", "collection", "action"}),
		overdue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "custos_retention_overdue_rows",
			Help: "Rows past their retention and not held, as the last plan found them: what the next sweep will change."},
			[]string{"datastore", "collection"}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{Name: "custos_retention_last_run_timestamp_seconds",
			Help: "When this instance last finished a retention sweep without error (Unix time)."}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_retention_runs_total",
			Help: "Retention sweeps this instance started, by outcome: done, failed, or skipped (another instance held the sweep)."},
			[]string{"outcome"}),
	}
	for _, o := range []string{"done", "failed", "skipped"} {
		j.runs.WithLabelValues(o)
	}
	reg.MustRegister(j.rows, j.overdue, j.last, j.runs)
	return j
}

// next is the first scheduled time after now.
func (j *retentionJob) next(now time.Time) time.Time {
	y, m, d := now.In(calendar.China).Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, calendar.China).Add(j.at)
	if !t.After(now) {
		t = time.Date(y, m, d+1, 0, 0, 0, 0, calendar.China).Add(j.at)
	}
	return t
}

// sweepRetention runs the retention sweep every day at the configured
// time. Of several instances, the first to start a run holds the sweep;
// the others find it held and skip.
func (s *Server) sweepRetention(ctx context.Context) {
	j := s.retentionJob
	for {
		wait := time.Until(j.next(time.Now()))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if _, err := s.RunRetention(ctx); err != nil && ctx.Err() == nil {
			if errors.Is(err, retention.ErrRunning) {
				s.log.Info("retention sweep held by another instance; skipped")
				continue
			}
			s.log.Error("retention sweep failed", "err", err)
		}
	}
}

// RunRetention runs the retention sweep now, as the schedule does, and
// updates the metrics. Nil Report and no error when no dataset is configured.
func (s *Server) RunRetention(ctx context.Context) (*retention.Report, error) {
	j := s.retentionJob
	if j == nil {
		return nil, nil
	}
	rep, err := runRetention(ctx, j, audit.System(hostname()))
	return &rep, err
}

// Retention returns the organisation's retention sweep; nil without a
// dataset. With --retention-at off it runs only when asked.
func (s *Server) Retention() *retention.Service {
	if s.retentionJob == nil {
		return nil
	}
	return s.retentionJob.svc
}

// runRetention runs the sweep as a, whoever asks (the schedule, the
// command, an admin on the console); observe keeps the metrics.
func runRetention(ctx context.Context, j *retentionJob, a audit.Actor) (retention.Report, error) {
	return j.svc.Run(ctx, a, nil)
}

// observe keeps the metrics of every run of the organisation's sweep,
// whoever started it (the schedule, the API, the console, the command
// line in the server's process), and logs it.
func (j *retentionJob) observe(ctx context.Context, rep retention.Report, err error) {
	for _, r := range rep.Results {
		j.rows.WithLabelValues(r.Datastore, r.Collection, r.Action).Add(float64(r.Rows))
	}
	switch {
	case errors.Is(err, retention.ErrRunning):
		j.runs.WithLabelValues("skipped").Inc()
		return
	case err != nil:
		j.runs.WithLabelValues("failed").Inc()
	default:
		j.runs.WithLabelValues("done").Inc()
		j.last.Set(float64(rep.Finished.Unix()))
		var rows int64
		for _, r := range rep.Results {
			rows += r.Rows
		}
		j.log.Info("retention sweep done", "run", rep.Run, "targets", len(rep.Results), "rows", rows)
	}
	if plan, perr := j.svc.Plan(ctx); perr == nil {
		j.overdue.Reset()
		for _, l := range plan.Lines {
			if l.Swept() {
				j.overdue.WithLabelValues(l.Datastore, l.Collection).Add(float64(l.Due - l.Held))
			}
		}
	}
}

// consoleRetention is the sweep as the console shows and starts it: a
// run from the console goes through runRetention like a scheduled one,
// so the metrics count it.
type consoleRetention struct {
	j   *retentionJob
	log *slog.Logger
}

func (c consoleRetention) Plan(ctx context.Context) (retention.Plan, error) { return c.j.svc.Plan(ctx) }

func (c consoleRetention) Run(ctx context.Context, a audit.Actor) (retention.Report, error) {
	return runRetention(ctx, c.j, a)
}

func (c consoleRetention) Runs(ctx context.Context, limit int) ([]console.RetentionRun, error) {
	return c.j.svc.Runs(ctx, limit)
}

// orgLabel is the organisation a certificate names: none for the
// deployment's own, whose certificates need no qualifier.
func orgLabel(org string) string {
	if org == store.DefaultOrg {
		return ""
	}
	return org
}
