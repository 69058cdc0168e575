package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-privacy/custos/internal/consent"
)

// cacheCollector reports the decision cache's lookups and size, read
// from the service when Prometheus scrapes: the hot path counts in its
// own shards and pays nothing for the metric.
type cacheCollector struct {
	svc                 *consent.Service
	hits, misses, count *prometheus.Desc
}

func newCacheCollector(svc *consent.Service) *cacheCollector {
	return &cacheCollector{svc: svc,
		hits:   prometheus.NewDesc("custos_decision_cache_hits_total", "Decisions whose subject was in the cache.", nil, nil),
		misses: prometheus.NewDesc("custos_decision_cache_misses_total", "Decisions whose subject was read from the database.", nil, nil),
		count:  prometheus.NewDesc("custos_decision_cache_subjects", "Subjects in the decision cache (at most --cache-subjects).", nil, nil),
	}
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.hits
	ch <- c.misses
	ch <- c.count
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	hits, misses, n := c.svc.CacheStats()
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(hits))
	ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(misses))
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(n))
}
