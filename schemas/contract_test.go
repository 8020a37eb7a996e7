package schemas_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tributary-io/tributary/schemas"
)

const (
	// eventDocID is the published document of a whole event: the envelope
	// with, per type, its schema version and payload.
	eventDocID = "https://schemas.tributary.io/event.json"
	// contractSeed fixes the run; change it to explore, keep it to reproduce.
	contractSeed   = 20251120
	contractEvents = 528 // 24 per registered type on average
)

// contractNow is the publisher's clock in the property test: generated
// times fall in the hour before it, as a live producer stamps them.
var contractNow = time.Date(2025, 11, 20, 10, 0, 0, 0, time.UTC)

// acceptLine is what tributary-publish does with one JSON line once id and
// time are present: decode, validate against the clock, resolve routes.
func acceptLine(line []byte) error {
	env, err := schemas.UnmarshalStructured(line)
	if err != nil {
		return err
	}
	if err := schemas.Validate(env, contractNow, schemas.DefaultLimits()); err != nil {
		return err
	}
	_, err = schemas.DefaultRoutingTable().Resolve(env)
	return err
}

// compileContract loads the published documents into a standard validator
// with format assertion on, to double-check the generator against them.
func compileContract(t *testing.T, docs contractDocs) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for id, d := range docs {
		if err := c.AddResource(id, d); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	sch, err := c.Compile(eventDocID)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func schemaValid(t *testing.T, sch *jsonschema.Schema, line []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(v)
}

// TestPublishedContract generates events at random from the published JSON
// Schema documents (jsonschema/*.json, not the Go types) and requires the Go
// validation path to accept every one. It then breaks one rule of each event
// at a time and requires both the Go path and a standard JSON Schema
// validator to reject the result, the Go error naming the field once.
func TestPublishedContract(t *testing.T) {
	docs := loadContractDocs(t, "jsonschema")
	sch := compileContract(t, docs)
	g := &gen{t: t, docs: docs, rng: rand.New(rand.NewPCG(contractSeed, 0)), now: contractNow}
	root := g.docs.expand(t, loc{s: docs[eventDocID], base: eventDocID})

	perType := map[string]int{}
	perRule := map[string]int{}
	covered := map[string]bool{} // "<type> <field> <rule>"
	accepted, mutants := 0, 0
	events := contractEvents
	if testing.Short() {
		events /= 4
	}
	for i := range events {
		g.sites = nil
		ev := g.value(root, nil).(map[string]any)
		line, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		perType[fmt.Sprint(ev["type"])]++
		if err := schemaValid(t, sch, line); err != nil {
			t.Fatalf("event %d does not match the published schema, the generator is wrong: %v\n%s", i, err, line)
		}
		if err := acceptLine(line); err != nil {
			t.Errorf("event %d is valid by the published schema but rejected: %v\n%s", i, err, line)
			continue
		}
		accepted++
		sites := g.sites // mutations generate values too, which add sites
		for _, s := range sites {
			for _, m := range g.mutations(s, ev) {
				mutants++
				perRule[m.rule]++
				covered[fmt.Sprint(ev["type"], " ", m.field, " ", m.rule)] = true
				bad := deepCopy(ev).(map[string]any)
				m.apply(bad)
				b, err := json.Marshal(bad)
				if err != nil {
					t.Fatal(err)
				}
				if m.inSchema {
					if schemaValid(t, sch, b) == nil {
						t.Errorf("%s %s: the published schema accepts the mutant, so the mutation breaks no published rule\n%s", m.rule, m.field, b)
					}
				}
				checkRejection(t, m, acceptLine(b), b)
			}
		}
	}
	t.Logf("%d generated events, %d accepted; %d mutants, by rule %v", events, accepted, mutants, perRule)
	for _, info := range schemas.Types() {
		if perType[info.Type] == 0 {
			t.Errorf("no event of type %s was generated", info.Type)
		}
	}
	for _, rule := range []string{"required", "minLength", "maxLength", "pattern", "format", "enum", "const",
		"minimum", "maximum", "maxItems", "uniqueItems", "maxProperties", "propertyNames", "notBefore", "false"} {
		if perRule[rule] == 0 {
			t.Errorf("no mutation broke a %q rule; the documents or the generator changed", rule)
		}
	}
	// The breaches the issue found: each must have been tried at least once.
	for _, c := range []string{
		"io.tributary.task.retried attempt minimum", // attempt 1 on a retry
		"io.tributary.auth.login.failed source_ip format",
		"io.tributary.auth.login.failed user minLength",
		"io.tributary.telemetry.heartbeat host minLength",
		"io.tributary.task.submitted queue minLength",
		"io.tributary.task.failed duration_ms minimum",
		"io.tributary.auth.account.locked failed_attempts minimum",
		"io.tributary.auth.logout schemaversion required",
	} {
		if !covered[c] {
			t.Errorf("no mutant for %q", c)
		}
	}
}

// checkRejection requires err to be ErrInvalid with exactly one field error,
// and that one naming the mutated field.
func checkRejection(t *testing.T, m mutation, err error, line []byte) {
	t.Helper()
	if err == nil {
		t.Errorf("%s %s: mutant accepted\n%s", m.rule, m.field, line)
		return
	}
	if !errors.Is(err, schemas.ErrInvalid) {
		t.Errorf("%s %s: error %v is not ErrInvalid", m.rule, m.field, err)
	}
	fes := fieldErrors(err)
	named := regexp.MustCompile(`^` + regexp.QuoteMeta(m.field) + `($|\[| )`)
	if len(fes) != 1 || !named.MatchString(fes[0].Field) {
		t.Errorf("%s %s: want one error naming the field, got %d: %v", m.rule, m.field, len(fes), err)
	}
}

func fieldErrors(err error) []*schemas.FieldError {
	if fe, ok := err.(*schemas.FieldError); ok {
		return []*schemas.FieldError{fe}
	}
	var out []*schemas.FieldError
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		for _, sub := range e.Unwrap() {
			out = append(out, fieldErrors(sub)...)
		}
	case interface{ Unwrap() error }:
		out = fieldErrors(e.Unwrap())
	}
	return out
}

// mutation breaks one rule of a generated event.
type mutation struct {
	rule     string // the JSON Schema keyword broken, for the summary
	field    string // the field the Go error must name
	inSchema bool   // false when the rule is an annotation no validator asserts
	apply    func(ev map[string]any)
}

// fieldName is how the Go validator names a path: payload fields without
// the "data." prefix, list items and map entries by their list or map.
func fieldName(path []any) string {
	if len(path) > 1 && path[0] == "data" {
		path = path[1:]
	}
	var parts []string
	for _, p := range path {
		s, ok := p.(string)
		if !ok {
			break
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ".")
}

func (g *gen) mutations(s site, ev map[string]any) []mutation {
	name := fieldName(s.path)
	var out []mutation
	set := func(rule string, v any) {
		out = append(out, mutation{rule: rule, field: name, inSchema: true, apply: func(ev map[string]any) { setAt(ev, s.path, v) }})
	}
	if slices.ContainsFunc(s.ks, func(l loc) bool { b, ok := l.s.(bool); return ok && !b }) {
		set("false", "AAAA")
		return out
	}
	if s.required && s.present {
		out = append(out, mutation{rule: "required", field: name, inSchema: true, apply: func(ev map[string]any) { deleteAt(ev, s.path) }})
	}
	if ref := s.ks.str(notBeforeKey); ref != "" {
		if earlier, ok := getAt(ev, append(slices.Clone(s.path[:len(s.path)-1]), ref)).(string); ok {
			t, err := time.Parse(time.RFC3339Nano, earlier)
			if err != nil {
				g.t.Fatal(err)
			}
			out = append(out, mutation{rule: "notBefore", field: name, apply: func(ev map[string]any) {
				setAt(ev, s.path, t.Add(-time.Second).Format(time.RFC3339Nano))
			}})
		}
	}
	switch s.ks.typ() {
	case "array":
		if !s.present {
			break
		}
		var items keywords
		for _, v := range s.ks.all("items") {
			items = append(items, g.docs.expand(g.t, loc{s: v, base: s.ks[0].base})...)
		}
		if n, ok := s.ks.num("maxItems", false); ok {
			set("maxItems", g.items(items, slices.Contains(s.ks.all("uniqueItems"), any(true)), int(n)+1, nil))
		}
		if slices.Contains(s.ks.all("uniqueItems"), any(true)) {
			v := g.value(items, nil)
			set("uniqueItems", []any{v, v})
		}
		for _, b := range g.badValues(items) {
			set(b.rule, []any{b.v})
		}
	case "object":
		if !s.present || len(s.ks.all("properties")) > 0 {
			break // objects with properties are covered by their fields' sites
		}
		if n, ok := s.ks.num("maxProperties", false); ok {
			m := map[string]any{}
			for i := range int(n) + 1 {
				m["k"+strconv.Itoa(i)] = "v"
			}
			set("maxProperties", m)
		}
		for _, pn := range s.ks.all("propertyNames") {
			if lo, ok := pn.(map[string]any)["minLength"].(float64); ok && lo > 0 {
				set("propertyNames", map[string]any{"": "v"})
			}
		}
		var vals keywords
		for _, v := range s.ks.all("additionalProperties") {
			vals = append(vals, g.docs.expand(g.t, loc{s: v, base: s.ks[0].base})...)
		}
		for _, b := range g.badValues(vals) {
			set("additionalProperties."+b.rule, map[string]any{"k": b.v})
		}
	default:
		for _, b := range g.badValues(s.ks) {
			set(b.rule, b.v)
		}
	}
	return out
}

type badValue struct {
	rule string
	v    any
}

// badValues returns one value per scalar rule of ks that breaks that rule.
func (g *gen) badValues(ks keywords) []badValue {
	var out []badValue
	if c := ks.all("const"); len(c) > 0 {
		out = append(out, badValue{"const", fmt.Sprint(c[0]) + "x"})
	}
	if _, ok := ks.enum(); ok {
		out = append(out, badValue{"enum", "not-in-the-enum"})
	}
	switch ks.typ() {
	case "string":
		lo, _ := ks.num("minLength", true)
		hi, hasHi := ks.num("maxLength", false)
		if lo > 0 {
			out = append(out, badValue{"minLength", ""})
		}
		if hasHi {
			out = append(out, badValue{"maxLength", strings.Repeat("x", int(hi)+1)})
		}
		for _, p := range ks.all("pattern") {
			re := g.re(p.(string))
			for _, c := range []string{"Not A Match!", "!", "0", "a", "A"} {
				if n := float64(len(c)); !re.MatchString(c) && n >= lo && (!hasHi || n <= hi) {
					out = append(out, badValue{"pattern", c})
					break
				}
			}
		}
		formats := ks.all("format")
		for _, alt := range ks.all("anyOf") {
			for _, a := range list(alt) {
				if f, ok := a.(map[string]any)["format"]; ok {
					formats = append(formats, f)
				}
			}
		}
		if len(formats) > 0 {
			out = append(out, badValue{"format", map[any]string{
				"date-time": "20 Nov 2025 10:00", "ipv4": "999.1.1.1", "ipv6": "999.1.1.1",
				"uri-reference": "not a uri", "uuid": "nope",
			}[formats[0]]})
		}
	case "integer", "number":
		step := 1.0
		if ks.typ() == "number" {
			step = 0.5
		}
		if lo, ok := ks.num("minimum", true); ok {
			out = append(out, badValue{"minimum", lo - step})
		}
		if hi, ok := ks.num("maximum", false); ok {
			out = append(out, badValue{"maximum", hi + step})
		}
	}
	return out
}

func getAt(v any, path []any) any {
	for _, p := range path {
		switch c := v.(type) {
		case map[string]any:
			v = c[p.(string)]
		case []any:
			v = c[p.(int)]
		default:
			return nil
		}
	}
	return v
}

func setAt(root map[string]any, path []any, v any) {
	parent := getAt(root, path[:len(path)-1])
	switch c := parent.(type) {
	case map[string]any:
		c[path[len(path)-1].(string)] = v
	case []any:
		c[path[len(path)-1].(int)] = v
	}
}

func deleteAt(root map[string]any, path []any) {
	if m, ok := getAt(root, path[:len(path)-1]).(map[string]any); ok {
		delete(m, path[len(path)-1].(string))
	}
}

func deepCopy(v any) any {
	switch c := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(c))
		for k, x := range c {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		l := make([]any, len(c))
		for i, x := range c {
			l[i] = deepCopy(x)
		}
		return l
	}
	return v
}
