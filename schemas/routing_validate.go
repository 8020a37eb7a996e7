package schemas

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Validate reports every problem of the routing table at once: unknown keys,
// bad names and templates, registered types without a route, and subjects
// captured by two streams (JetStream refuses overlapping streams).
func (c RoutingConfig) Validate() error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("routing: "+format, args...))
	}
	keys := make([]string, 0, len(c.Routes))
	for k := range c.Routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := Lookup(k); !ok && !slices.Contains(Families(), Family(k)) {
			add("route %q: not a registered event type or family", k)
		}
		for _, e := range c.Routes[k].problems() {
			add("route %q: %s", k, e)
		}
	}
	for _, info := range Types() {
		if _, err := c.RouteFor(info.Type); err != nil {
			add("event type %q has no route (add one for the type or family %q)", info.Type, info.Family)
		}
	}
	dl := c.DeadLetter
	if !streamNameRE.MatchString(dl.Stream) {
		add("dead_letter.stream %q is not a valid stream name", dl.Stream)
	}
	for _, e := range templateProblems(dl.Subject, PlaceholderFamily) {
		add("dead_letter.subject %q: %s", dl.Subject, e)
	}
	for _, e := range templateProblems(dl.Topic, PlaceholderFamily) {
		add("dead_letter.topic %q: %s", dl.Topic, e)
	}
	if len(errs) == 0 {
		errs = append(errs, c.overlaps()...)
	}
	return errors.Join(errs...)
}

func (r Route) problems() []string {
	var out []string
	if r.JetStream == nil && r.Kafka == nil {
		out = append(out, "has neither a jetstream nor a kafka target")
	}
	switch r.Key {
	case "", KeyPartitionKey, KeyTenant, KeyID:
	default:
		out = append(out, fmt.Sprintf("key %q is not one of partitionkey, tenant, id", r.Key))
	}
	if t := r.JetStream; t != nil {
		if !streamNameRE.MatchString(t.Stream) {
			out = append(out, fmt.Sprintf("jetstream.stream %q is not a valid stream name", t.Stream))
		}
		for _, e := range templateProblems(t.Subject, PlaceholderFamily, PlaceholderName, PlaceholderTenant, PlaceholderKind) {
			out = append(out, fmt.Sprintf("jetstream.subject %q: %s", t.Subject, e))
		}
	}
	if t := r.Kafka; t != nil {
		// Topics cannot take {tenant} or {kind}: they must be enumerable so
		// infra can create them before anything is published.
		for _, e := range templateProblems(t.Topic, PlaceholderFamily, PlaceholderName) {
			out = append(out, fmt.Sprintf("kafka.topic %q: %s", t.Topic, e))
		}
		if sample := expand(t.Topic, map[string]string{PlaceholderFamily: "f", PlaceholderName: "n.n"}); !topicRE.MatchString(sample) {
			out = append(out, fmt.Sprintf("kafka.topic %q is not a valid topic name", t.Topic))
		}
	}
	return out
}

// templateProblems checks placeholders and, by expanding them to sample
// values, that the result is a dot-separated name without empty tokens or
// wildcards. Tenant and kind must be whole tokens so a wildcard can stand in
// for them when provisioning.
func templateProblems(tmpl string, allowed ...string) []string {
	if tmpl == "" {
		return []string{"is empty"}
	}
	var out []string
	for _, ph := range placeholderRE.FindAllString(tmpl, -1) {
		if !slices.Contains(allowed, ph) {
			out = append(out, fmt.Sprintf("placeholder %s is not allowed here (allowed: %v)", ph, allowed))
		}
	}
	for tok := range strings.SplitSeq(tmpl, ".") {
		for _, ph := range []string{PlaceholderTenant, PlaceholderKind} {
			if strings.Contains(tok, ph) && tok != ph {
				out = append(out, fmt.Sprintf("%s must be a whole token", ph))
			}
		}
	}
	sample := expand(tmpl, map[string]string{
		PlaceholderFamily: "f", PlaceholderName: "n.n", PlaceholderTenant: "t", PlaceholderKind: "k",
	})
	for tok := range strings.SplitSeq(sample, ".") {
		if !subjectTokenRE.MatchString(tok) {
			out = append(out, "has an empty token, whitespace or a wildcard")
			break
		}
	}
	return out
}

// overlaps finds subject patterns captured by two different streams.
func (c RoutingConfig) overlaps() []error {
	type owned struct{ stream, pattern string }
	var all []owned
	for _, info := range Types() {
		r, err := c.RouteFor(info.Type)
		if err != nil || r.JetStream == nil {
			continue
		}
		all = append(all, owned{r.JetStream.Stream, subjectPattern(r.JetStream.Subject, info)})
	}
	for _, f := range append(Families(), FamilyUnknown) {
		d, _ := c.deadLetterFor(f, TransportJetStream)
		all = append(all, owned{d.Stream, d.Subject})
	}
	var errs []error
	seen := map[string]bool{}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			a, b := all[i], all[j]
			if a.stream == b.stream || !subjectsOverlap(a.pattern, b.pattern) {
				continue
			}
			msg := fmt.Sprintf("routing: subject %q of stream %s overlaps %q of stream %s", a.pattern, a.stream, b.pattern, b.stream)
			if !seen[msg] {
				seen[msg] = true
				errs = append(errs, errors.New(msg))
			}
		}
	}
	return errs
}

// subjectsOverlap reports whether some subject matches both patterns; our
// patterns only use the single-token wildcard "*".
func subjectsOverlap(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	if len(at) != len(bt) {
		return false
	}
	for i := range at {
		if at[i] != bt[i] && at[i] != "*" && bt[i] != "*" {
			return false
		}
	}
	return true
}
