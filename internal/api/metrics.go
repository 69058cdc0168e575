package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
)

// metrics carry no personal information: labels are route patterns,
// statuses, decision reasons and consent actions, all from fixed sets.
type metrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	decisions *prometheus.CounterVec
	byReason  sync.Map // reason label → its prometheus.Counter, resolved once
	consents  *prometheus.CounterVec
	auditOK   prometheus.Gauge
	handler   http.Handler
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_http_requests_total", Help: "HTTP requests by route pattern and status."},
			[]string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "custos_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1}}, []string{"method", "route"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_check_decisions_total", Help: "Purpose decisions by reason."}, []string{"reason"}),
		consents:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_consent_events_total", Help: "Consent ledger events recorded by action."}, []string{"action"}),
		auditOK:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "custos_audit_chain_ok", Help: "1 if the last audit chain verification found no problem."}),
	}
	reg.MustRegister(m.requests, m.latency, m.decisions, m.consents, m.auditOK)
	if err := reg.Register(prometheus.NewGoCollector()); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		panic(err)
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// decided counts a decision by its reason. The label's series is looked
// up once; WithLabelValues on every decision validated and hashed it each
// time.
func (m *metrics) decided(reason string) {
	label := reasonLabel(reason)
	if c, ok := m.byReason.Load(label); ok {
		c.(prometheus.Counter).Inc()
		return
	}
	c := m.decisions.WithLabelValues(label)
	m.byReason.Store(label, c)
	c.Inc()
}

// routeMetrics holds one route's series, resolved once rather than by
// label lookup on every request.
type routeMetrics struct {
	m             *metrics
	method, route string
	latency       prometheus.Observer
	mu            sync.RWMutex
	byStatus      map[int]prometheus.Counter
}

func (m *metrics) route(method, route string) *routeMetrics {
	return &routeMetrics{m: m, method: method, route: route, latency: m.latency.WithLabelValues(method, route), byStatus: map[int]prometheus.Counter{}}
}

func (r *routeMetrics) observe(status int, d time.Duration) {
	r.latency.Observe(d.Seconds())
	r.mu.RLock()
	c, ok := r.byStatus[status]
	r.mu.RUnlock()
	if !ok {
		c = r.m.requests.WithLabelValues(r.method, r.route, strconv.Itoa(status))
		r.mu.Lock()
		r.byStatus[status] = c
		r.mu.Unlock()
	}
	c.Inc()
}

func (a *API) metricsHandler(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	a.metrics.handler.ServeHTTP(w, r)
	return nil
}

// requestsCollector reports open requests by state and by days left to
// their due date, read when Prometheus scrapes.
type requestsCollector struct {
	a        *API
	byState  *prometheus.Desc
	byWindow *prometheus.Desc
}

func newRequestsCollector(a *API) *requestsCollector {
	return &requestsCollector{a: a,
		byState:  prometheus.NewDesc("custos_requests_open", "Open rights requests by state.", []string{"state"}, nil),
		byWindow: prometheus.NewDesc("custos_requests_due", "Open rights requests by time left to their due date.", []string{"window"}, nil),
	}
}

func (c *requestsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.byState
	ch <- c.byWindow
}

// window buckets days left: overdue, due today, within 3 days, within 7, later.
func window(days int) string {
	switch {
	case days < 0:
		return "overdue"
	case days == 0:
		return "today"
	case days <= 3:
		return "3d"
	case days <= 7:
		return "7d"
	}
	return "later"
}

func (c *requestsCollector) Collect(ch chan<- prometheus.Metric) {
	d := c.a.opt.Requests
	if d == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cs, err := d.Counts(ctx)
	if err != nil {
		c.a.log.Warn("requests metric", "err", err)
		return
	}
	for _, st := range dsr.OpenStates {
		if n := cs.ByState[st]; n > 0 {
			ch <- prometheus.MustNewConstMetric(c.byState, prometheus.GaugeValue, float64(n), st)
		}
	}
	windows := map[string]float64{"overdue": 0, "today": 0, "3d": 0, "7d": 0, "later": 0}
	for days, n := range cs.DaysLeft {
		windows[window(days)] += float64(n)
	}
	for w, n := range windows {
		ch <- prometheus.MustNewConstMetric(c.byWindow, prometheus.GaugeValue, n, w)
	}
}
