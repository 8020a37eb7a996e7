package rules

import (
	"fmt"
	"mime"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
)

// Format is a named string shape. Pattern and Not are written in the common
// subset of RE2 and ECMA-262, so Go compiles the very expressions the
// documents publish. Formats names standard JSON Schema formats the value
// has (several: any of them); Valid is the Go check such a format stands for.
type Format struct {
	Name    string
	Pattern string
	Reason  string // why a value does not match Pattern or Valid
	Formats []string
	Valid   func(v string) bool
	Not     []Forbidden
	// Explain, when set, gives a more precise reason than Reason.
	Explain func(v string) string
	// Match, when set, is a hand-written equivalent of Pattern that Check
	// uses instead of the regexp: these formats are checked on every event
	// and the regexp engine cost a tenth of the ingest's CPU. A test holds
	// each Match to its Pattern.
	Match func(v string) bool
	// Memo, when set, remembers values that passed every check: sources,
	// tenants, media types and metric names repeat from event to event, and
	// url.Parse and the regexp engine cost a fifth of the ingest's CPU.
	Memo *Memo

	re *regexp.Regexp
}

// Forbidden is a form the value must not take, even though it matches.
// Match, when set, is a hand-written equivalent of Pattern (see Format).
type Forbidden struct {
	Pattern, Reason string
	Match           func(v string) bool
	re              *regexp.Regexp
}

func (n *Forbidden) matches(v string) bool {
	if n.Match != nil {
		return n.Match(v)
	}
	return n.re.MatchString(v)
}

// Check returns why v does not have the format, or "" when it does.
func (f *Format) Check(v string) string {
	if f.Memo != nil && f.Memo.Has(v) {
		return ""
	}
	why := f.check(v)
	if why == "" && f.Memo != nil {
		f.Memo.Add(v)
	}
	return why
}

func (f *Format) check(v string) string {
	if !f.matches(v) || (f.Valid != nil && !f.Valid(v)) {
		if f.Explain != nil {
			return f.Explain(v)
		}
		return f.Reason
	}
	for i := range f.Not {
		if f.Not[i].matches(v) {
			return f.Not[i].Reason
		}
	}
	return ""
}

func (f *Format) matches(v string) bool {
	switch {
	case f.Match != nil:
		return f.Match(v)
	case f.re != nil:
		return f.re.MatchString(v)
	}
	return true
}

// Formats is every named format, by the name tags use.
var Formats = compile(
	&Format{Name: "token", Pattern: `^[a-z0-9][a-z0-9_-]*$`,
		// It becomes one token of a NATS subject or a Kafka key unescaped.
		Reason: "must be lower-case letters, digits, '_' or '-' (it becomes a subject token)",
		Match:  func(v string) bool { return len(v) > 0 && isLowerDigit(v[0]) && all(v, isToken) }, Memo: NewMemo(4096)},
	&Format{Name: "ip", Formats: []string{"ipv4", "ipv6"}, Reason: "is not an IP address",
		Valid: func(v string) bool { _, err := netip.ParseAddr(v); return err == nil }},
	// Canonical lower-case form so ids compare as strings; version 7 so they
	// sort by time.
	&Format{Name: "uuid7", Pattern: `^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$`,
		Reason: "is not a canonical UUID", Explain: explainUUID, Match: isUUID7},
	&Format{Name: "uri", Pattern: `^[^ \t\r\n]+$`, Formats: []string{"uri-reference"}, Reason: "is not a URI reference",
		Match: func(v string) bool { return len(v) > 0 && !strings.ContainsAny(v, " \t\r\n") },
		Valid: func(v string) bool { _, err := url.Parse(v); return err == nil }, Memo: NewMemo(4096)},
	&Format{Name: "country", Pattern: `^[A-Z]{2}$`, Reason: "is not an ISO 3166-1 alpha-2 code",
		Match: func(v string) bool { return len(v) == 2 && all(v, isUpper) }, Memo: NewMemo(512)},
	// The Prometheus/OpenTelemetry charset, so samples export without renaming.
	&Format{Name: "metricname", Pattern: `^[a-zA-Z_:][a-zA-Z0-9_:.]*$`,
		Reason: "is not a valid metric name (want ^[a-zA-Z_:][a-zA-Z0-9_:.]*$)",
		Match: func(v string) bool {
			return len(v) > 0 && (isLetter(v[0]) || v[0] == '_' || v[0] == ':') && all(v, isMetricChar)
		}, Memo: NewMemo(4096)},
	// At most one parameter, such as a charset; the type itself is fixed.
	&Format{Name: "jsonmedia", Pattern: `^application/json( *; *[A-Za-z0-9._-]+=[A-Za-z0-9._-]+)? *$`,
		Reason: `is not "application/json"`, Memo: NewMemo(64),
		Valid: func(v string) bool {
			mt, _, err := mime.ParseMediaType(v)
			return err == nil && mt == "application/json"
		}},
	// W3C Trace Context level 1: version-traceid-parentid-flags. Later
	// versions may append fields, which readers must accept.
	&Format{Name: "traceparent", Pattern: `^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$`,
		Reason: "is not a W3C traceparent", Match: isTraceParent, Not: []Forbidden{
			{Pattern: `^ff-`, Reason: "has the forbidden version ff",
				Match: func(v string) bool { return strings.HasPrefix(v, "ff-") }},
			{Pattern: `^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}-`, Reason: "has trailing fields, not allowed in version 00",
				Match: func(v string) bool {
					return strings.HasPrefix(v, "00-") && traceFields(v) && len(v) > 55 && v[55] == '-'
				}},
			{Pattern: `^[0-9a-f]{2}-0{32}-`, Reason: "has an all-zero trace id",
				Match: func(v string) bool { return len(v) >= 36 && hexDash(v[:3]) && v[3:35] == zeros[:32] && v[35] == '-' }},
			{Pattern: `^[0-9a-f]{2}-[0-9a-f]{32}-0{16}-`, Reason: "has an all-zero parent id",
				Match: func(v string) bool {
					return len(v) >= 53 && hexDash(v[:3]) && all(v[3:35], isHexLower) && v[35] == '-' && v[36:52] == zeros[:16] && v[52] == '-'
				}},
		}},
)

func compile(fs ...*Format) map[string]*Format {
	m := make(map[string]*Format, len(fs))
	for _, f := range fs {
		if f.Pattern != "" {
			f.re = regexp.MustCompile(f.Pattern)
		}
		for i := range f.Not {
			f.Not[i].re = regexp.MustCompile(f.Not[i].Pattern)
		}
		m[f.Name] = f
	}
	return m
}

var uuidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func explainUUID(v string) string {
	if m := uuidShape.FindStringSubmatch(v); m != nil {
		return fmt.Sprintf("is a version %s UUID, want version 7", m[1])
	}
	return "is not a canonical UUID"
}
