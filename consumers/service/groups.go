package service

import (
	"fmt"
	"strings"

	"github.com/tributary-io/tributary/consumers/internal/ingest"
	"github.com/tributary-io/tributary/schemas"
)

// subscription is one Watermill handler: a topic (Kafka) or subject filter
// (JetStream) feeding one table.
type subscription struct {
	name       string // handler, consumer group and durable name suffix
	table      ingest.Table
	transport  schemas.Transport
	family     schemas.Family // for the dead-letter destination
	topic      string
	deadLetter bool // a dlq.<family> destination feeding dead_letters
}

// subscriptions derives what the ingest groups consume from the routing
// table, so a changed route changes the subscription too:
//   - auth and task from JetStream (their routes), telemetry from its three
//     Kafka topics;
//   - anomalies once, from Kafka when the route has both transports. Every
//     anomaly is published to both (same event id); ingesting both would
//     insert each row twice and double the rollups' delivery counts. Kafka
//     is the right copy for a sink: one topic with a fixed partition count
//     that a consumer group spreads over instances, keyed by entity so a
//     finding's updates stay in order, while the JetStream subjects
//     (anomaly.<tenant>.<kind>) exist for live subscribers that filter;
//   - every dead-letter destination of both transports, into dead_letters.
func subscriptions(routing schemas.RoutingConfig, routes *schemas.RoutingTable) ([]subscription, error) {
	byName := map[string]ingest.Table{}
	for _, t := range ingest.Tables() {
		byName[t.Name] = t
	}
	events := []struct {
		eventType string
		table     string
	}{
		{schemas.TypeLoginFailed, ingest.AuthTable},
		{schemas.TypeTaskSubmitted, ingest.TaskTable},
		{schemas.TypeMetric, ingest.MetricsTable},
		{schemas.TypeLog, ingest.LogsTable},
		{schemas.TypeHeartbeat, ingest.HeartbeatsTable},
		{schemas.TypeAnomaly, ingest.AnomaliesTable},
	}
	var subs []subscription
	for _, e := range events {
		r, err := routing.RouteFor(e.eventType)
		if err != nil {
			return nil, err
		}
		s := subscription{name: e.table, table: byName[e.table], family: schemas.FamilyOf(e.eventType)}
		switch {
		case r.Kafka != nil && (r.JetStream == nil || s.family == schemas.FamilyAnomaly):
			if strings.Contains(r.Kafka.Topic, "{") {
				return nil, fmt.Errorf("route of %s: Kafka topic %q has a placeholder the sink cannot subscribe to", e.eventType, r.Kafka.Topic)
			}
			s.transport, s.topic = schemas.TransportKafka, r.Kafka.Topic
		case r.JetStream != nil:
			s.transport, s.topic = schemas.TransportJetStream, subjectFilter(r.JetStream.Subject)
		default:
			return nil, fmt.Errorf("route of %s has no destination", e.eventType)
		}
		subs = append(subs, s)
	}

	dl := ingest.Table{Name: ingest.DeadLettersTable, Columns: ingest.DeadLettersColumns}
	// One JetStream consumer covers every family's subject.
	subs = append(subs, subscription{name: "dlq", table: dl, transport: schemas.TransportJetStream,
		topic: subjectFilter(routing.DeadLetter.Subject), deadLetter: true, family: schemas.FamilyUnknown})
	// A Kafka subscription is one topic, so one per family.
	seen := map[string]bool{}
	for _, f := range append(schemas.Families(), schemas.FamilyUnknown) {
		d, err := routes.DeadLetterFor(f, schemas.TransportKafka)
		if err != nil {
			return nil, err
		}
		if seen[d.Topic] {
			continue
		}
		seen[d.Topic] = true
		subs = append(subs, subscription{name: "dlq-" + string(f), table: dl, transport: schemas.TransportKafka,
			topic: d.Topic, deadLetter: true, family: f})
	}
	return subs, nil
}

// subjectFilter turns a subject template into the filter that matches every
// subject it expands to: the literal tokens before the first placeholder,
// then ">" ("auth.{tenant}.{name}" → "auth.>").
func subjectFilter(tmpl string) string {
	tokens := strings.Split(tmpl, ".")
	for i, tok := range tokens {
		if strings.Contains(tok, "{") {
			return strings.Join(append(tokens[:i:i], ">"), ".")
		}
	}
	return tmpl
}
