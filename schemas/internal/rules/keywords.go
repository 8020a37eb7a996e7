package rules

import (
	"fmt"
	"strings"
)

// NotBeforeKeyword carries the one rule JSON Schema cannot state, that a
// time is not before a sibling time. Validators ignore unknown keywords, so
// it is documentation for them and a rule for our generators.
const NotBeforeKeyword = "x-tributary-not-before"

// Bounds are the size limits a document states; the validator applies the
// deployment's limits, which start from these defaults.
type Bounds struct {
	String, Text, ListItems, MapEntries int
}

// Keywords are the JSON Schema keywords of one field's rule, with no tie to
// a JSON Schema library so that this package stays light for every module
// that imports schemas.
type Keywords struct {
	MinLength, MaxLength *uint64
	Pattern              string
	Formats              []string // one: format; several: anyOf of formats
	Not                  []string // patterns the value must not match
	Enum                 []string
	Const                string
	Minimum, Maximum     *float64
	MaxItems             *uint64
	UniqueItems          bool
	Items                *Keywords // of each list item
	MaxProperties        *uint64
	PropertyNames        *Keywords // of each map key
	Values               *Keywords // of each map value
	NotBefore            string
	Note                 string // a sentence for the description
}

// Keywords derives the field's JSON Schema keywords from its rule. Members
// of objects are not included: callers walk Fields.
func (f Field) Keywords(b Bounds) Keywords {
	switch f.Kind {
	case String:
		return f.Rule.stringKeywords(b)
	case StringList:
		items := f.Rule.stringKeywords(b)
		return Keywords{MaxItems: u(b.ListItems), UniqueItems: f.Rule.Unique, Items: &items}
	case StringMap:
		return Keywords{
			MaxProperties: u(b.MapEntries),
			PropertyNames: &Keywords{MinLength: u(1), MaxLength: u(b.String)},
			Values:        &Keywords{MaxLength: u(b.Text)},
		}
	case Int, Float:
		k := Keywords{Minimum: f.Rule.Min, Maximum: f.Rule.Max}
		if f.Rule.Why != "" {
			k.Note = sentence(f.OutOfBounds(minBelow(f.Rule)))
		}
		return k
	case Time:
		if f.Rule.NotBefore != "" {
			return Keywords{NotBefore: f.Rule.NotBefore, Note: fmt.Sprintf("Not before %s.", f.Rule.NotBefore)}
		}
	}
	return Keywords{}
}

func (r Rule) stringKeywords(b Bounds) Keywords {
	if len(r.Enum) > 0 || r.Const != "" {
		return Keywords{Enum: r.Enum, Const: r.Const}
	}
	max := b.String
	if r.Text {
		max = b.Text
	}
	k := Keywords{MaxLength: u(max)}
	if r.Required {
		k.MinLength = u(1)
	}
	if f := r.Format; f != nil {
		k.Pattern = f.Pattern
		k.Formats = f.Formats
		for _, n := range f.Not {
			k.Not = append(k.Not, n.Pattern)
		}
	}
	return k
}

// minBelow is a value under the lower bound, to phrase the bound's message.
func minBelow(r Rule) float64 {
	if r.Min != nil {
		return *r.Min - 1
	}
	return *r.Max + 1
}

func sentence(s string) string { return strings.ToUpper(s[:1]) + s[1:] + "." }

func u(n int) *uint64 { v := uint64(n); return &v }
