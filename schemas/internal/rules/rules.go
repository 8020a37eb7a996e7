// Package rules holds the one declaration of every field rule of the event
// contract and derives both of its uses from it: package schemas validates
// Go values with it, package schemagen writes it into the published JSON
// Schema documents. A rule is declared in a `check` struct tag on the field
// it constrains, so reading a payload type shows its whole contract.
//
// Tag options, separated by commas:
//
//	required        the field must be present: a non-empty string, a
//	                non-zero time, an object with its required fields
//	text            free text, bounded by the text limit instead of the
//	                string limit
//	<format>        a named string shape from Formats: ip, uuid7, token, ...
//	enum=a|b        one of the listed strings; a field whose Go type has an
//	                EnumValues() []string method gets that list by default
//	const=v         exactly v
//	min=n, max=n    numeric bounds, inclusive
//	why=text        appended to the bound's message, e.g. "for a retry"
//	notbefore=name  a time not before the sibling time field name
//	unique          the items of a list are distinct
//	child.option    on an embedded or nested struct: option for its field
//	                child, to tighten a shared type for one event type
//
// On a list of strings, the string options apply to each item.
package rules

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TagKey is the struct tag the rules are read from.
const TagKey = "check"

// Kind is the shape of a field's Go type; it decides which options apply
// and what the JSON Schema type is.
type Kind int

const (
	String Kind = iota
	Time
	Int
	Float
	Bool
	StringList
	StringMap
	Object         // a struct value
	OptionalObject // a pointer to a struct: nil means absent
	RawJSON        // json.RawMessage, checked by its owner
)

// Rule is what one field must satisfy.
type Rule struct {
	Required  bool
	Text      bool
	Format    *Format
	Enum      []string
	Const     string
	Min, Max  *float64
	Why       string
	NotBefore string
	Unique    bool
}

// Field is one JSON member of a struct and its rule.
type Field struct {
	Name   string // JSON member name
	Path   string // from the top-level struct, "geo.lat", for error messages
	Index  []int  // for reflect.Value.FieldByIndex from the enclosing struct
	Kind   Kind
	Rule   Rule
	Fields []Field // members of an Object or OptionalObject
	// NotBeforeIndex locates Rule.NotBefore's sibling in the enclosing struct.
	NotBeforeIndex []int

	// Offset is where the field sits in the enclosing struct, in bytes,
	// and NotBeforeOffset where Rule.NotBefore's sibling does: with GoKind
	// (the Go kind, e.g. reflect.Int32 for an Int) and Elem (an
	// OptionalObject's struct type) they let a validator or decoder reach
	// the field without reflect on every event.
	Offset, NotBeforeOffset uintptr
	GoKind                  reflect.Kind
	Elem                    reflect.Type
}

// Enumerated is implemented by string types whose values are a closed set.
type Enumerated interface{ EnumValues() []string }

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
	enumType = reflect.TypeFor[Enumerated]()
)

// Plan reads the rules of every JSON member of struct type t, flattening
// embedded structs the way encoding/json does.
func Plan(t reflect.Type) ([]Field, error) {
	return plan(t, nil)
}

func plan(t reflect.Type, refine map[string][]string) ([]Field, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("plan %s: not a struct", t)
	}
	var out []Field
	for sf := range fieldsOf(t) {
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		opts, children := splitOptions(sf.Tag.Get(TagKey))
		if name == "-" || (!sf.IsExported() && !(sf.Anonymous && sf.Type.Kind() == reflect.Struct)) {
			continue
		}
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			sub, err := plan(sf.Type, children)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sf.Name, err)
			}
			for _, f := range sub {
				f.Index = append([]int{sf.Index[0]}, f.Index...)
				f.Offset += sf.Offset
				if f.NotBeforeIndex != nil {
					f.NotBeforeIndex = append([]int{sf.Index[0]}, f.NotBeforeIndex...)
					f.NotBeforeOffset += sf.Offset
				}
				out = append(out, f)
			}
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f, err := field(sf, name, append(opts, refine[name]...), children)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		out = append(out, f)
	}
	for name := range refine {
		if !slices.ContainsFunc(out, func(f Field) bool { return f.Name == name }) {
			return nil, fmt.Errorf("a rule names %q, which %s does not have", name, t)
		}
	}
	for i, f := range out {
		if f.Rule.NotBefore == "" {
			continue
		}
		j := slices.IndexFunc(out, func(g Field) bool { return g.Name == f.Rule.NotBefore })
		if f.Kind != Time || j < 0 || out[j].Kind != Time {
			return nil, fmt.Errorf("field %s: notbefore=%s must name a sibling time", f.Name, f.Rule.NotBefore)
		}
		out[i].NotBeforeIndex = out[j].Index
		out[i].NotBeforeOffset = out[j].Offset
	}
	return out, nil
}

func fieldsOf(t reflect.Type) func(yield func(reflect.StructField) bool) {
	return func(yield func(reflect.StructField) bool) {
		for i := range t.NumField() {
			if !yield(t.Field(i)) {
				return
			}
		}
	}
}

// splitOptions separates a tag's own options from those addressed to a
// child field ("attempt.min=2").
func splitOptions(tag string) ([]string, map[string][]string) {
	var own []string
	children := map[string][]string{}
	if tag == "" {
		return nil, children
	}
	for opt := range strings.SplitSeq(tag, ",") {
		key, _, _ := strings.Cut(opt, "=")
		if child, _, ok := strings.Cut(key, "."); ok {
			children[child] = append(children[child], opt[len(child)+1:])
			continue
		}
		own = append(own, opt)
	}
	return own, children
}

func field(sf reflect.StructField, name string, opts []string, children map[string][]string) (Field, error) {
	f := Field{Name: name, Path: name, Index: sf.Index, Offset: sf.Offset, GoKind: sf.Type.Kind()}
	t := sf.Type
	switch {
	case t == timeType:
		f.Kind = Time
	case t == rawType:
		f.Kind = RawJSON
	case t.Kind() == reflect.String:
		f.Kind = String
		if t.Implements(enumType) {
			f.Rule.Enum = reflect.Zero(t).Interface().(Enumerated).EnumValues()
		}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		f.Kind = Int
	case t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32:
		f.Kind = Float
	case t.Kind() == reflect.Bool:
		f.Kind = Bool
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		f.Kind = StringList
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String:
		f.Kind = StringMap
	case t.Kind() == reflect.Struct:
		f.Kind = Object
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		f.Kind = OptionalObject
		t = t.Elem()
		f.Elem = t
	default:
		return Field{}, fmt.Errorf("type %s has no rules", t)
	}
	if f.Kind == Object || f.Kind == OptionalObject {
		sub, err := plan(t, children)
		if err != nil {
			return Field{}, err
		}
		prefixPaths(sub, name+".")
		f.Fields = sub
	} else if len(children) > 0 {
		return Field{}, fmt.Errorf("options for members of a %s, which has none", t)
	}
	for _, opt := range opts {
		if err := f.Rule.set(opt); err != nil {
			return Field{}, err
		}
	}
	return f, f.validate()
}

func prefixPaths(fs []Field, prefix string) {
	for i := range fs {
		fs[i].Path = prefix + fs[i].Path
		prefixPaths(fs[i].Fields, prefix)
	}
}

func (r *Rule) set(opt string) error {
	key, val, hasVal := strings.Cut(opt, "=")
	num := func() (*float64, error) {
		n, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, fmt.Errorf("option %q: not a number", opt)
		}
		return &n, nil
	}
	var err error
	switch {
	case key == "required" && !hasVal:
		r.Required = true
	case key == "text" && !hasVal:
		r.Text = true
	case key == "unique" && !hasVal:
		r.Unique = true
	case key == "enum" && val != "":
		r.Enum = strings.Split(val, "|")
	case key == "const" && val != "":
		r.Const = val
	case key == "min":
		r.Min, err = num()
	case key == "max":
		r.Max, err = num()
	case key == "why" && val != "":
		r.Why = val
	case key == "notbefore" && val != "":
		r.NotBefore = val
	case !hasVal && Formats[key] != nil:
		r.Format = Formats[key]
	default:
		return fmt.Errorf("unknown %s option %q", TagKey, opt)
	}
	return err
}

// validate rejects options that mean nothing for the field's kind, so a
// misplaced rule fails at startup instead of being silently ignored.
func (f Field) validate() error {
	r := f.Rule
	isString := f.Kind == String || f.Kind == StringList
	switch {
	case (r.Format != nil || r.Text || r.Enum != nil || r.Const != "") && !isString:
		return fmt.Errorf("string options on a non-string field")
	case (r.Min != nil || r.Max != nil || r.Why != "") && f.Kind != Int && f.Kind != Float:
		return fmt.Errorf("numeric bounds on a non-numeric field")
	case r.Unique && f.Kind != StringList:
		return fmt.Errorf("unique on a field that is not a list")
	case r.Required && (f.Kind == Int || f.Kind == Float || f.Kind == Bool || f.Kind == StringMap || f.Kind == OptionalObject):
		return fmt.Errorf("required on a %v field, which decoding cannot tell missing (for a number, say min=1 instead)", f.Kind)
	case r.Min != nil && r.Max != nil && *r.Min > *r.Max:
		return fmt.Errorf("min %g above max %g", *r.Min, *r.Max)
	}
	return nil
}

// OutOfBounds says why n breaks the numeric bounds, or "" when it does not.
func (f Field) OutOfBounds(n float64) string {
	r := f.Rule
	var reason string
	switch {
	case r.Min != nil && r.Max != nil && (n < *r.Min || n > *r.Max || math.IsNaN(n)):
		reason = fmt.Sprintf("is outside [%g, %g]", *r.Min, *r.Max)
	case r.Min != nil && (n < *r.Min || math.IsNaN(n)):
		switch {
		case *r.Min == 0:
			reason = "must not be negative"
		case *r.Min == 1 && f.Kind == Int:
			reason = "must be positive"
		default:
			reason = fmt.Sprintf("must be at least %g", *r.Min)
		}
	case r.Max != nil && (n > *r.Max || math.IsNaN(n)):
		reason = fmt.Sprintf("must be at most %g", *r.Max)
	default:
		return ""
	}
	if r.Why != "" {
		reason += " " + r.Why
	}
	return reason
}

// SchemaRequired reports whether a document must list the field as
// required: exactly when the validator rejects its absence. A number is
// required when zero breaks its bounds, since absent decodes as zero.
func (f Field) SchemaRequired() bool {
	switch f.Kind {
	case Int, Float:
		return f.OutOfBounds(0) != ""
	case Object:
		return slices.ContainsFunc(f.Fields, Field.SchemaRequired)
	case StringList, StringMap, Bool, OptionalObject:
		return false
	}
	return f.Rule.Required
}

func (k Kind) String() string {
	return [...]string{"string", "time", "integer", "number", "boolean", "list", "map", "object", "optional object", "raw JSON"}[k]
}
