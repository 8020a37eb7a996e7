package service

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-io/tributary/infra/observe"
)

// detectMetrics are the detector service's own series, registered on the
// service's registry beside observe's shared ones.
type detectMetrics struct {
	ignored *prometheus.CounterVec // family, reason
}

func newDetectMetrics(m *observe.Metrics) *detectMetrics {
	c := prometheus.Labels{"service": "detect"}
	dm := &detectMetrics{
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_detect_ignored_total", ConstLabels: c,
			Help: "Events the detectors skipped before observing them, by family and reason (invalid, clock_skew)."},
			[]string{"family", "reason"}),
	}
	m.Registry.MustRegister(dm.ignored)
	return dm
}
