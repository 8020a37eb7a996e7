package schemas

import (
	"fmt"
	"slices"
	"strings"
)

// Source is where a consumer reads a set of event types from: a JetStream
// subject filter, or a Kafka topic.
type Source struct {
	Transport Transport `json:"transport"`
	Filter    string    `json:"filter"` // JetStream subject filter, or Kafka topic
	Family    Family    `json:"family"`
	Types     []string  `json:"types"` // sorted
	Tables    []string  `json:"tables"`
}

// Sources returns where consumers read types from, derived from each
// type's resolved route — so a route changed for one type (or family)
// changes what its consumers read, and nothing can publish where no
// consumer reads. One Source per distinct filter, sorted by transport and
// filter:
//   - a JetStream route's subject template becomes a filter of its literal
//     tokens up to the first placeholder, then ">" ("auth.{tenant}.{name}"
//     → "auth.>"), so a family's types share one consumer;
//   - a type routed to both transports is read from Kafka only: reading
//     both would store every event twice, and a topic with a fixed
//     partition count is what a consumer group spreads over instances;
//   - two JetStream filters where one contains the other would deliver an
//     event twice, and are an error; so is one filter for several families.
func (t *RoutingTable) Sources(types []TypeInfo) ([]Source, error) {
	byKey := map[string]*Source{}
	for _, info := range types {
		r, err := t.cfg.RouteFor(info.Type)
		if err != nil {
			return nil, err
		}
		vars := map[string]string{PlaceholderFamily: string(info.Family), PlaceholderName: info.Name}
		var src Source
		switch {
		case r.Kafka != nil:
			src = Source{Transport: TransportKafka, Filter: expand(r.Kafka.Topic, vars)}
			if strings.Contains(src.Filter, "{") {
				return nil, fmt.Errorf("source of %s: Kafka topic %q has a placeholder a consumer cannot subscribe to", info.Short(), src.Filter)
			}
		case r.JetStream != nil:
			src = Source{Transport: TransportJetStream, Filter: SubjectFilter(expand(r.JetStream.Subject, vars))}
		default:
			return nil, fmt.Errorf("source of %s: its route has no destination", info.Short())
		}
		key := string(src.Transport) + " " + src.Filter
		s, ok := byKey[key]
		if !ok {
			src.Family = info.Family
			s = &src
			byKey[key] = s
		}
		if s.Family != info.Family {
			return nil, fmt.Errorf("source %s %s: types of families %s and %s share it", s.Transport, s.Filter, s.Family, info.Family)
		}
		s.Types = append(s.Types, info.Type)
		if !slices.Contains(s.Tables, info.Table) {
			s.Tables = append(s.Tables, info.Table)
		}
	}
	var out []Source
	for _, s := range byKey {
		slices.Sort(s.Types)
		slices.Sort(s.Tables)
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Source) int {
		return strings.Compare(string(a.Transport)+" "+a.Filter, string(b.Transport)+" "+b.Filter)
	})
	for i, a := range out {
		for _, b := range out[i+1:] {
			if a.Transport == TransportJetStream && b.Transport == TransportJetStream && filtersOverlap(a.Filter, b.Filter) {
				return nil, fmt.Errorf("sources %q and %q overlap: an event would be read twice", a.Filter, b.Filter)
			}
		}
	}
	return out, nil
}

// SubjectFilter turns a subject template into the filter that matches
// every subject it expands to: the literal tokens before the first
// placeholder, then ">" ("auth.{tenant}.{name}" → "auth.>"); a template
// without placeholders is its own filter.
func SubjectFilter(tmpl string) string {
	i := strings.IndexByte(tmpl, '{')
	if i < 0 {
		return tmpl
	}
	prefix := tmpl[:i]
	if j := strings.LastIndexByte(prefix, '.'); j >= 0 {
		return prefix[:j+1] + ">"
	}
	return ">"
}

// filtersOverlap: a subject matched by one filter can be matched by the
// other (the filters here are literal prefixes ending in ">", or literal
// subjects).
func filtersOverlap(a, b string) bool {
	pa, wa := strings.CutSuffix(a, ">")
	pb, wb := strings.CutSuffix(b, ">")
	switch {
	case wa && wb:
		return strings.HasPrefix(pa, pb) || strings.HasPrefix(pb, pa)
	case wa:
		return strings.HasPrefix(b, pa)
	case wb:
		return strings.HasPrefix(a, pb)
	}
	return a == b
}
