package schemas

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unsafe"

	"github.com/tributary-io/tributary/schemas/internal/rules"
)

// Family groups event types that share a stream, a dead-letter queue and a
// partitioning rule.
type Family string

const (
	FamilyAuth      Family = "auth"
	FamilyTask      Family = "task"
	FamilyTelemetry Family = "telemetry"
	FamilyAnomaly   Family = "anomaly"
	// FamilyUnknown is what FamilyOf returns for a type that is not ours, so
	// such poison still has a dead-letter destination ("dlq.unknown").
	FamilyUnknown Family = "unknown"
)

// Families lists the families in a stable order. It cannot read the
// declarations: validation rules (an anomaly's family must be one of
// these) are planned while the declarations are being built. buildRegistry
// checks the two agree, so a family declared and not listed (or listed
// and not declared) fails at start.
func Families() []Family {
	return []Family{FamilyAuth, FamilyTask, FamilyTelemetry, FamilyAnomaly}
}

// EnumValues lists the families an event may name (not FamilyUnknown); the
// validator and the JSON Schema documents both read it.
func (Family) EnumValues() []string {
	fams := Families()
	out := make([]string, len(fams))
	for i, f := range fams {
		out[i] = string(f)
	}
	return out
}

// TypePrefix starts every Tributary event type: "io.tributary.<family>.<name>".
const TypePrefix = "io.tributary."

// Payload is the data of one event type. Implementations are value types, so
// consumers type-switch on e.g. `case schemas.LoginFailed:`.
type Payload interface {
	// Validate checks the payload against DefaultLimits. Use the package-level
	// Validate to apply a deployment's Limits and check the envelope too.
	Validate() error
	// EventType returns the CloudEvents type, e.g. "io.tributary.auth.login.failed".
	EventType() string
}

// Keyed is implemented by payloads that have a natural partition key (the
// user, the task id, the host, the anomaly's entity). NewEvent stamps it into
// the partitionkey extension so ordering per key survives any transport.
type Keyed interface {
	PartitionKey() string
}

// TypeInfo describes one registered event type.
type TypeInfo struct {
	Type          string       // "io.tributary.auth.login.failed"
	Family        Family       // "auth"
	Name          string       // "login.failed": the type without prefix and family
	SchemaVersion string       // "1"; bumped only for breaking changes
	GoType        reflect.Type // the payload's Go type, e.g. LoginFailed
	// Table is the ClickHouse table its events land in; ingest has a row
	// builder per table (a test fails when one is missing).
	Table string
	// Route, when set, is the type's own default route; else its family's.
	Route *Route

	fields []rules.Field // read from GoType's `check` tags
	decode func(data []byte) (Payload, error)
	// check applies fields to a payload of GoType (or a pointer to one).
	check func(c *checker, p Payload)
	// fast is decode for data in the plain form (fastDecode); false
	// means decode and checkJSON must judge it.
	fast func(data []byte, share bool) (Payload, bool)
}

// Short is the type without TypePrefix ("auth.login.failed"); it prefixes
// validation errors and names the JSON Schema documents.
func (t TypeInfo) Short() string { return string(t.Family) + "." + t.Name }

// register reads T's rules from its `check` tags (see internal/rules); its
// events land in table.
func register[T Payload](schemaVersion, table string) TypeInfo {
	var zero T
	typ := zero.EventType()
	fam, name, ok := splitType(typ)
	if !ok {
		panic(fmt.Sprintf("schemas: malformed event type %q", typ))
	}
	fields := mustPlan(reflect.TypeFor[T]())
	// Two fields of one JSON name (an outer field shadowing an embedded
	// one) are matched by encoding/json's rules of depth, which fastDecode
	// does not follow: such a type takes the reference path.
	plain := distinctNames(fields)
	return TypeInfo{
		Type:          typ,
		Family:        fam,
		Name:          name,
		SchemaVersion: schemaVersion,
		Table:         table,
		GoType:        reflect.TypeFor[T](),
		fields:        fields,
		check: func(c *checker, p Payload) {
			if v, ok := p.(T); ok {
				c.fields(fields, unsafe.Pointer(&v))
			} else if v, ok := any(p).(*T); ok && v != nil {
				c.fields(fields, unsafe.Pointer(v))
			} else {
				panic(fmt.Sprintf("schemas: a %T claims event type %s, registered for %s", p, typ, reflect.TypeFor[T]()))
			}
		},
		fast: func(data []byte, share bool) (Payload, bool) {
			if !plain {
				return nil, false
			}
			var v T
			if !fastDecode(data, fields, unsafe.Pointer(&v), share) {
				return nil, false
			}
			return v, true
		},
		decode: func(data []byte) (Payload, error) {
			var v T
			// Unknown fields are accepted on purpose: a producer on a newer
			// minor revision may add optional fields older readers ignore.
			if err := json.Unmarshal(data, &v); err != nil {
				return nil, err
			}
			return v, nil
		},
	}
}

func distinctNames(fs []rules.Field) bool {
	for i := range fs {
		for j := range i {
			if strings.EqualFold(fs[i].Name, fs[j].Name) {
				return false
			}
		}
		if !distinctNames(fs[i].Fields) {
			return false
		}
	}
	return true
}

func splitType(typ string) (Family, string, bool) {
	rest, ok := strings.CutPrefix(typ, TypePrefix)
	if !ok {
		return "", "", false
	}
	fam, name, ok := strings.Cut(rest, ".")
	if !ok || fam == "" || name == "" {
		return "", "", false
	}
	return Family(fam), name, true
}

// declared are the families, each declared once in its own file; adding a
// family is a file declaring it and a line here.
var declared = []FamilyInfo{authFamily(), taskFamily(), telemetryFamily(), anomalyFamily()}

// registry is built once at init and never written afterwards.
var registry = buildRegistry(declared)

func buildRegistry(fams []FamilyInfo) map[string]TypeInfo {
	listed := Families()
	if len(listed) != len(fams) {
		panic(fmt.Sprintf("schemas: %d families declared, %d listed by Families", len(fams), len(listed)))
	}
	for i, f := range fams {
		if f.Family != listed[i] {
			panic(fmt.Sprintf("schemas: family %q declared where Families lists %q", f.Family, listed[i]))
		}
	}
	m := map[string]TypeInfo{}
	for _, f := range fams {
		for _, info := range f.Types {
			if _, dup := m[info.Type]; dup {
				panic(fmt.Sprintf("schemas: event type %q registered twice", info.Type))
			}
			if info.Family != f.Family {
				panic(fmt.Sprintf("schemas: event type %q declared in family %q", info.Type, f.Family))
			}
			m[info.Type] = info
		}
	}
	return m
}

// Lookup returns the registration of an event type.
func Lookup(eventType string) (TypeInfo, bool) {
	info, ok := registry[eventType]
	return info, ok
}

// Types returns every registered event type, sorted by type.
func Types() []TypeInfo {
	out := make([]TypeInfo, 0, len(registry))
	for _, info := range registry {
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// FamilyOf returns the family of an event type, or FamilyUnknown when the
// type is not of a known family (so it can still be dead-lettered).
func FamilyOf(eventType string) Family {
	if info, ok := registry[eventType]; ok {
		return info.Family
	}
	fam, _, ok := splitType(eventType)
	if ok {
		for _, f := range Families() {
			if f == fam {
				return f
			}
		}
	}
	return FamilyUnknown
}

// validatePayload runs a payload's checks under the given limits, with the
// short event type as the error scope.
func validatePayload(p Payload, limits Limits) error {
	scope := strings.TrimPrefix(p.EventType(), TypePrefix)
	c := newChecker(scope, limits)
	if info, ok := registry[p.EventType()]; ok {
		info.check(c, p)
	}
	return c.err()
}
