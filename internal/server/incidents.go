package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-privacy/custos/internal/incident"
)

var (
	incidentDeadlineDesc = prometheus.NewDesc("custos_incident_deadline_seconds",
		"Seconds left before each running clock of a security incident not closed reaches its deadline (negative: overdue); a clock met is not shown.",
		[]string{"incident", "clock"}, nil)
	incidentsOpenDesc = prometheus.NewDesc("custos_incidents_open", "Security incidents not closed.", nil, nil)
)

// incidentMetrics reads the incidents' clocks at each scrape: a countdown
// is the time left now, not when something last changed.
type incidentMetrics struct {
	svc *incident.Service
	log *slog.Logger
}

func (m incidentMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- incidentDeadlineDesc
	ch <- incidentsOpenDesc
}

func (m incidentMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	open, err := m.svc.List(ctx, false)
	if err != nil {
		m.log.Error("incident metrics: listing incidents failed", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(incidentsOpenDesc, prometheus.GaugeValue, float64(len(open)))
	for _, i := range open {
		for _, c := range m.svc.Clocks(ctx, i) {
			if c.MetAt != nil {
				continue
			}
			ch <- prometheus.MustNewConstMetric(incidentDeadlineDesc, prometheus.GaugeValue, float64(c.SecondsLeft), i.ID, c.Name)
		}
	}
}

// escalateIncidents tells the operators the policy names of incident
// clocks near or past their deadline, at start and every minute after.
func (s *Server) escalateIncidents(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if _, err := s.EscalateIncidents(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("incident escalations failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// EscalateIncidents runs one pass of incident escalations
// (incident.Service.Escalate) and logs what it sent.
func (s *Server) EscalateIncidents(ctx context.Context) ([]incident.Escalation, error) {
	es, err := s.incidents.Escalate(ctx)
	for _, e := range es {
		s.log.Warn("incident deadline escalated", "incident", e.Incident, "clock", e.Clock, "stage", e.Stage, "messages", e.Messages)
	}
	return es, err
}

// Incidents returns the organisation's security incidents service.
func (s *Server) Incidents() *incident.Service { return s.incidents }
