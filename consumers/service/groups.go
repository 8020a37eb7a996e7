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

// subscriptions derives what the ingest groups consume from the routes of
// every declared type (schemas.RoutingTable.Sources), so a type's changed
// route changes its subscription and no type can be published where
// ingest does not read: one subscription per source, into the one table
// its types land in (a type routed to both transports, like anomalies, is
// read from Kafka only); plus every dead-letter destination of both
// transports, into dead_letters. A subscription is named after its table —
// the durable and group names, so keep them stable — and a second source
// for the same table after its filter as well.
func subscriptions(routing schemas.RoutingConfig, routes *schemas.RoutingTable) ([]subscription, error) {
	byName := map[string]ingest.Table{}
	for _, t := range ingest.Tables() {
		byName[t.Name] = t
	}
	srcs, err := routes.Sources(schemas.Types())
	if err != nil {
		return nil, err
	}
	var subs []subscription
	used := map[string]bool{}
	for _, src := range srcs {
		if len(src.Tables) != 1 {
			return nil, fmt.Errorf("source %s %s feeds tables %v: a subscription fills one", src.Transport, src.Filter, src.Tables)
		}
		table, ok := byName[src.Tables[0]]
		if !ok {
			return nil, fmt.Errorf("source %s %s: no row builder for table %s", src.Transport, src.Filter, src.Tables[0])
		}
		name := table.Name
		if used[name] {
			name += "-" + sanitize(src.Filter)
		}
		used[name] = true
		subs = append(subs, subscription{name: name, table: table, family: src.Family, transport: src.Transport, topic: src.Filter})
	}

	dl := ingest.Table{Name: ingest.DeadLettersTable, Columns: ingest.DeadLettersColumns}
	// One JetStream consumer covers every family's subject.
	subs = append(subs, subscription{name: "dlq", table: dl, transport: schemas.TransportJetStream,
		topic: schemas.SubjectFilter(routing.DeadLetter.Subject), deadLetter: true, family: schemas.FamilyUnknown})
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

// sanitize makes a filter usable in a handler, durable or group name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '>' || r == '*' {
			return '_'
		}
		return r
	}, s)
}

// Consumer is one of ingest's subscriptions as the brokers see it.
type Consumer struct {
	// Name is the Kafka consumer group or the JetStream durable consumer.
	Name      string
	Transport schemas.Transport
	// Filter is the Kafka topic or the JetStream subject filter.
	Filter string
}

// Consumers lists what an ingest with this group consumes under the
// default routing, for whatever watches its lag from outside — an
// autoscaler's triggers (infra/helm) or a dashboard — and must name the
// same groups and durables.
func Consumers(group string) ([]Consumer, error) {
	routing := schemas.DefaultRouting()
	routes, err := schemas.NewRoutingTable(routing)
	if err != nil {
		return nil, err
	}
	subs, err := subscriptions(routing, routes)
	if err != nil {
		return nil, err
	}
	out := make([]Consumer, 0, len(subs))
	for _, s := range subs {
		out = append(out, Consumer{Name: group + "-" + s.name, Transport: s.transport, Filter: s.topic})
	}
	return out, nil
}
