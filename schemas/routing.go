package schemas

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Transport is a message broker we publish to.
type Transport string

const (
	TransportJetStream Transport = "jetstream"
	TransportKafka     Transport = "kafka"
)

// KeySource says which attribute becomes a destination's partition key (the
// Kafka record key; on JetStream it is carried for consumers that shard).
type KeySource string

const (
	// KeyPartitionKey uses the partitionkey extension, falling back to the
	// tenant. NewEvent fills that extension with the payload's natural key:
	// user for auth, task id for task, host for telemetry, entity for anomaly.
	KeyPartitionKey KeySource = "partitionkey"
	KeyTenant       KeySource = "tenant"
	KeyID           KeySource = "id"
)

// Placeholders allowed in subject and topic templates. {name} is the type
// without prefix and family ("login.failed"); {kind} is an anomaly's kind.
const (
	PlaceholderFamily = "{family}"
	PlaceholderName   = "{name}"
	PlaceholderTenant = "{tenant}"
	PlaceholderKind   = "{kind}"
)

// JetStreamTarget is a stream and a subject template.
type JetStreamTarget struct {
	Stream  string `json:"stream"`
	Subject string `json:"subject"`
}

// KafkaTarget is a topic template; it may not use {tenant} or {kind}, so the
// set of topics is finite and can be provisioned ahead of time.
type KafkaTarget struct {
	Topic string `json:"topic"`
}

// Route sends an event to one or both transports.
type Route struct {
	JetStream *JetStreamTarget `json:"jetstream,omitempty"`
	Kafka     *KafkaTarget     `json:"kafka,omitempty"`
	Key       KeySource        `json:"key,omitempty"` // empty means KeyPartitionKey
}

// DeadLetterConfig names where poison events go; templates may use {family}.
type DeadLetterConfig struct {
	Stream  string `json:"stream"`
	Subject string `json:"subject"`
	Topic   string `json:"topic"`
}

// RoutingConfig is the routing table. Routes are keyed by event type or by
// family; a type's entry wins over its family's. To override the defaults,
// decode a config file over DefaultRouting() (decoding into the existing map
// replaces only the entries the file names) and pass it to NewRoutingTable.
type RoutingConfig struct {
	Routes     map[string]Route `json:"routes"`
	DeadLetter DeadLetterConfig `json:"dead_letter"`
}

// DefaultRouting returns the routing every deployment starts from: each
// family's declared route, and each type's own where it declares one.
func DefaultRouting() RoutingConfig {
	routes := map[string]Route{}
	for _, f := range declared {
		if f.Route != nil {
			routes[string(f.Family)] = f.Route.clone()
		}
		for _, t := range f.Types {
			if t.Route != nil {
				routes[t.Type] = t.Route.clone()
			}
		}
	}
	return RoutingConfig{
		Routes:     routes,
		DeadLetter: DeadLetterConfig{Stream: "DLQ", Subject: "dlq.{family}", Topic: "dlq.{family}"},
	}
}

// clone copies r's targets, so a caller changing a returned route changes
// nothing shared.
func (r Route) clone() Route {
	if r.JetStream != nil {
		js := *r.JetStream
		r.JetStream = &js
	}
	if r.Kafka != nil {
		k := *r.Kafka
		r.Kafka = &k
	}
	return r
}

// Destination is one concrete place to publish an event.
type Destination struct {
	Transport Transport `json:"transport"`
	Stream    string    `json:"stream,omitempty"`  // JetStream only
	Subject   string    `json:"subject,omitempty"` // JetStream only
	Topic     string    `json:"topic,omitempty"`   // Kafka only
	Key       string    `json:"key,omitempty"`
}

// Name is what a Watermill publisher or subscriber calls the destination:
// the JetStream subject, or the Kafka topic.
func (d Destination) Name() string {
	if d.Transport == TransportJetStream {
		return d.Subject
	}
	return d.Topic
}

// RouteFor returns the route of a registered event type: the type's entry,
// else its family's.
func (c RoutingConfig) RouteFor(eventType string) (Route, error) {
	info, ok := Lookup(eventType)
	if !ok {
		return Route{}, fmt.Errorf("route %q: %w", eventType, ErrUnknownType)
	}
	if r, ok := c.Routes[info.Type]; ok {
		return r, nil
	}
	if r, ok := c.Routes[string(info.Family)]; ok {
		return r, nil
	}
	return Route{}, fmt.Errorf("route %q: no route for the type or family %q", eventType, info.Family)
}

// RoutingTable is a validated, immutable RoutingConfig; it is safe for
// concurrent use. Build it once at startup with NewRoutingTable.
type RoutingTable struct {
	cfg RoutingConfig
}

// NewRoutingTable validates cfg and copies it, so later changes to the
// caller's maps cannot change routing under running publishers.
func NewRoutingTable(cfg RoutingConfig) (*RoutingTable, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cp := RoutingConfig{Routes: make(map[string]Route, len(cfg.Routes)), DeadLetter: cfg.DeadLetter}
	for k, r := range cfg.Routes {
		cp.Routes[k] = r.clone()
	}
	return &RoutingTable{cfg: cp}, nil
}

// DefaultRoutingTable is NewRoutingTable(DefaultRouting()), which cannot fail.
func DefaultRoutingTable() *RoutingTable {
	t, err := NewRoutingTable(DefaultRouting())
	if err != nil {
		panic("schemas: default routing is invalid: " + err.Error())
	}
	return t
}

// RouteFor returns the route of a registered event type.
func (t *RoutingTable) RouteFor(eventType string) (Route, error) { return t.cfg.RouteFor(eventType) }

// Resolve returns where to publish env: JetStream first, then Kafka. Only
// events whose templates use {kind} have their payload decoded.
func (t *RoutingTable) Resolve(env Envelope) ([]Destination, error) {
	r, err := t.cfg.RouteFor(env.Type)
	if err != nil {
		return nil, err
	}
	info, _ := Lookup(env.Type)
	vars := map[string]string{PlaceholderFamily: string(info.Family), PlaceholderName: info.Name}
	needs := func(ph string) bool {
		return (r.JetStream != nil && strings.Contains(r.JetStream.Subject, ph)) ||
			(r.Kafka != nil && strings.Contains(r.Kafka.Topic, ph))
	}
	if needs(PlaceholderTenant) {
		if !isToken(env.Tenant) {
			return nil, fmt.Errorf("route %s: tenant %q is not a subject token: %w", info.Short(), env.Tenant, ErrInvalid)
		}
		vars[PlaceholderTenant] = env.Tenant
	}
	if needs(PlaceholderKind) {
		kind, err := routingKind(env)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", info.Short(), err)
		}
		vars[PlaceholderKind] = kind
	}
	key := routeKey(r.Key, env)
	var out []Destination
	if js := r.JetStream; js != nil {
		out = append(out, Destination{Transport: TransportJetStream, Stream: js.Stream,
			Subject: expand(js.Subject, vars), Key: key})
	}
	if k := r.Kafka; k != nil {
		out = append(out, Destination{Transport: TransportKafka, Topic: expand(k.Topic, vars), Key: key})
	}
	return out, nil
}

func routingKind(env Envelope) (string, error) {
	p, err := env.DecodeData()
	if err != nil {
		return "", err
	}
	k, ok := p.(interface{ RoutingKind() string })
	if !ok {
		return "", fmt.Errorf("payload %T has no kind for {kind}: %w", p, ErrInvalid)
	}
	if !isToken(k.RoutingKind()) {
		return "", fmt.Errorf("kind %q is not a subject token: %w", k.RoutingKind(), ErrInvalid)
	}
	return k.RoutingKind(), nil
}

func routeKey(src KeySource, env Envelope) string {
	switch src {
	case KeyTenant:
		return env.Tenant
	case KeyID:
		return env.ID
	default:
		if env.PartitionKey != "" {
			return env.PartitionKey
		}
		return env.Tenant
	}
}

// DeadLetterFor returns where a poison event of family f goes on transport t.
// Take f from FamilyOf(metadata[MetaType]) so even an event whose envelope
// cannot be parsed has a destination.
func (t *RoutingTable) DeadLetterFor(f Family, tr Transport) (Destination, error) {
	return t.cfg.deadLetterFor(f, tr)
}

func (c RoutingConfig) deadLetterFor(f Family, t Transport) (Destination, error) {
	if !isToken(string(f)) {
		f = FamilyUnknown
	}
	vars := map[string]string{PlaceholderFamily: string(f)}
	switch t {
	case TransportJetStream:
		return Destination{Transport: t, Stream: c.DeadLetter.Stream, Subject: expand(c.DeadLetter.Subject, vars)}, nil
	case TransportKafka:
		return Destination{Transport: t, Topic: expand(c.DeadLetter.Topic, vars)}, nil
	default:
		return Destination{}, fmt.Errorf("dead letter for %s: unknown transport %q", f, t)
	}
}

func expand(tmpl string, vars map[string]string) string {
	for ph, v := range vars {
		tmpl = strings.ReplaceAll(tmpl, ph, v)
	}
	return tmpl
}

// StreamSpec is a JetStream stream and the subjects it must capture; "*"
// stands for the tenant or anomaly kind token.
type StreamSpec struct {
	Name     string   `json:"name"`
	Subjects []string `json:"subjects"`
}

// Provisioning is everything infra must create, sorted, so it can be applied
// idempotently and diffed.
type Provisioning struct {
	Streams []StreamSpec `json:"streams"`
	Topics  []string     `json:"topics"`
}

// Provisioning lists the streams (with subject wildcards) and topics the
// routing table publishes to, dead-letter destinations included.
func (t *RoutingTable) Provisioning() Provisioning {
	c := t.cfg
	streams := map[string][]string{}
	topics := map[string]bool{}
	for _, info := range Types() {
		r, _ := c.RouteFor(info.Type)
		if js := r.JetStream; js != nil {
			streams[js.Stream] = append(streams[js.Stream], subjectPattern(js.Subject, info))
		}
		if k := r.Kafka; k != nil {
			topics[expand(k.Topic, map[string]string{PlaceholderFamily: string(info.Family), PlaceholderName: info.Name})] = true
		}
	}
	for _, f := range append(Families(), FamilyUnknown) {
		js, _ := c.deadLetterFor(f, TransportJetStream)
		streams[js.Stream] = append(streams[js.Stream], js.Subject)
		k, _ := c.deadLetterFor(f, TransportKafka)
		topics[k.Topic] = true
	}
	var p Provisioning
	for name, subs := range streams {
		slices.Sort(subs)
		p.Streams = append(p.Streams, StreamSpec{Name: name, Subjects: slices.Compact(subs)})
	}
	sort.Slice(p.Streams, func(i, j int) bool { return p.Streams[i].Name < p.Streams[j].Name })
	for t := range topics {
		p.Topics = append(p.Topics, t)
	}
	slices.Sort(p.Topics)
	return p
}

func subjectPattern(tmpl string, info TypeInfo) string {
	return expand(tmpl, map[string]string{
		PlaceholderFamily: string(info.Family), PlaceholderName: info.Name,
		PlaceholderTenant: "*", PlaceholderKind: "*",
	})
}

var (
	streamNameRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	topicRE        = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)
	subjectTokenRE = regexp.MustCompile(`^[^\s.*>]+$`)
	placeholderRE  = regexp.MustCompile(`\{[^}]*\}`)
)

// CheckTenant reports an event whose tenant differs from the one in the
// subject or topic it arrived on (origin), where the route names the
// tenant there ({tenant}): a producer allowed to publish only under its
// own tenant's subjects must not write as another tenant through the
// header. Routes without {tenant} (shared topics) have nothing to check.
func (t *RoutingTable) CheckTenant(env Envelope, transport Transport, origin string) error {
	r, err := t.cfg.RouteFor(env.Type)
	if err != nil {
		return nil // unknown types fail decoding on their own
	}
	var tmpl string
	switch {
	case transport == TransportJetStream && r.JetStream != nil:
		tmpl = r.JetStream.Subject
	case transport == TransportKafka && r.Kafka != nil:
		tmpl = r.Kafka.Topic
	}
	tokens := strings.Split(tmpl, ".")
	i := slices.Index(tokens, PlaceholderTenant)
	if i < 0 {
		return nil
	}
	got := strings.Split(origin, ".")
	if i >= len(got) || got[i] != env.Tenant {
		sub := ""
		if i < len(got) {
			sub = got[i]
		}
		return &FieldError{Scope: "envelope", Field: "tenant", Value: env.Tenant,
			Reason: fmt.Sprintf("tenant_mismatch: is not the tenant %q of %s %q", sub, map[Transport]string{TransportJetStream: "subject", TransportKafka: "topic"}[transport], origin),
			Kind:   ErrTenantMismatch}
	}
	return nil
}
