package service

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-io/tributary/infra/observe"
)

// detectMetrics are the detector service's own series, registered on the
// service's registry beside observe's shared ones.
type detectMetrics struct {
	ignored         *prometheus.CounterVec // family, reason
	checkpointFails *prometheus.CounterVec // family
	checkpointBytes *prometheus.GaugeVec   // family, form (raw, stored)
}

func newDetectMetrics(m *observe.Metrics) *detectMetrics {
	c := prometheus.Labels{"service": "detect"}
	dm := &detectMetrics{
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_detect_ignored_total", ConstLabels: c,
			Help: "Events the detectors skipped before observing them, by family and reason (invalid, clock_skew)."},
			[]string{"family", "reason"}),
		checkpointFails: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_checkpoint_failures_total", ConstLabels: c,
			Help: "Detector checkpoints that could not be saved, by family."}, []string{"family"}),
		checkpointBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tributary_checkpoint_bytes", ConstLabels: c,
			Help: "Size of the last saved checkpoint, by family: raw (the detector's snapshot) and stored (compressed)."},
			[]string{"family", "form"}),
	}
	m.Registry.MustRegister(dm.ignored, dm.checkpointFails, dm.checkpointBytes)
	return dm
}
