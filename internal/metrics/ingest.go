package metrics

import "github.com/prometheus/client_golang/prometheus"

// ingestSeries counts what POST /v1/events committed: the ingest rate.
type ingestSeries struct {
	events     *prometheus.CounterVec
	deliveries prometheus.Counter
}

func newIngestSeries() ingestSeries {
	s := ingestSeries{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_events_ingested_total",
			Help: "Events accepted by POST /v1/events, by result: new (stored, 202) or repeat (an id already stored, answered 200 with the original).",
		}, []string{"result"}),
		deliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookd_deliveries_created_total",
			Help: "Deliveries created by the fan-out of new events accepted by POST /v1/events.",
		}),
	}
	s.events.WithLabelValues("new")
	s.events.WithLabelValues("repeat")
	return s
}

// ObserveIngest counts an event POST /v1/events committed: created is false for a
// repeated id, whose deliveries were counted the first time; deliveries is the number of
// deliveries its fan-out made.
func (m *Metrics) ObserveIngest(created bool, deliveries int) {
	if !created {
		m.ingest.events.WithLabelValues("repeat").Inc()
		return
	}
	m.ingest.events.WithLabelValues("new").Inc()
	m.ingest.deliveries.Add(float64(deliveries))
}
