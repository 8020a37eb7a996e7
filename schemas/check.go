package schemas

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tributary-io/tributary/schemas/internal/rules"
)

// checker collects every field error of one event so a producer sees all its
// mistakes at once instead of fixing them one publish at a time.
type checker struct {
	scope  string
	limits Limits
	errs   []error
	// kinds replaces ErrInvalid for the fields it names, for attributes
	// whose failures have a more specific sentinel (type, versions).
	kinds map[string]error
}

func newChecker(scope string, limits Limits) *checker {
	return &checker{scope: scope, limits: limits}
}

func (c *checker) fail(field, value string, kind error, format string, args ...any) {
	if k, ok := c.kinds[field]; ok && kind == ErrInvalid {
		kind = k
	}
	c.errs = append(c.errs, &FieldError{
		Scope:  c.scope,
		Field:  field,
		Value:  value,
		Reason: fmt.Sprintf(format, args...),
		Kind:   kind,
	})
}

func (c *checker) err() error { return errors.Join(c.errs...) }

// reported says whether field already has an error.
func (c *checker) reported(field string) bool {
	return slices.ContainsFunc(c.errs, func(err error) bool {
		fe, ok := err.(*FieldError)
		return ok && fe.Field == field
	})
}

// mustPlan reads the `check` tags of a type at init; a malformed tag is a
// programming error that every test run catches.
func mustPlan(t reflect.Type) []rules.Field {
	fs, err := rules.Plan(t)
	if err != nil {
		panic(fmt.Sprintf("schemas: rules of %s: %v", t, err))
	}
	return fs
}

// fields applies the rules of fs to the struct v; prefix is the JSON path
// of v ("geo.") for error messages.
func (c *checker) fields(fs []rules.Field, v reflect.Value, prefix string) {
	for _, f := range fs {
		fv := v.FieldByIndex(f.Index)
		name := prefix + f.Name
		switch f.Kind {
		case rules.String:
			c.string(name, fv.String(), f.Rule)
		case rules.Time:
			t := fv.Interface().(time.Time)
			if t.IsZero() {
				if f.Rule.Required {
					c.fail(name, "", ErrInvalid, "is required")
				}
				continue
			}
			if f.NotBeforeIndex != nil {
				earlier := v.FieldByIndex(f.NotBeforeIndex).Interface().(time.Time)
				if !earlier.IsZero() && t.Before(earlier) {
					c.fail(name, t.Format(time.RFC3339Nano), ErrInvalid, "is before %q", f.Rule.NotBefore)
				}
			}
		case rules.Int:
			if reason := f.OutOfBounds(float64(fv.Int())); reason != "" {
				c.fail(name, strconv.FormatInt(fv.Int(), 10), ErrInvalid, "%s", reason)
			}
		case rules.Float:
			n := fv.Float()
			if math.IsNaN(n) || math.IsInf(n, 0) {
				c.fail(name, strconv.FormatFloat(n, 'g', -1, 64), ErrInvalid, "is not a finite number")
			} else if reason := f.OutOfBounds(n); reason != "" {
				c.fail(name, strconv.FormatFloat(n, 'g', -1, 64), ErrInvalid, "%s", reason)
			}
		case rules.StringList:
			c.list(name, fv.Interface().([]string), f.Rule)
		case rules.StringMap:
			c.stringMap(name, fv.Interface().(map[string]string))
		case rules.Object:
			// An object with nothing set is reported once, not per member.
			if fv.IsZero() && slices.ContainsFunc(f.Fields, rules.Field.SchemaRequired) {
				c.fail(name, "", ErrInvalid, "is required")
				continue
			}
			c.fields(f.Fields, fv, name+".")
		case rules.OptionalObject:
			if !fv.IsNil() {
				c.fields(f.Fields, fv.Elem(), name+".")
			}
		}
	}
}

// string checks presence, size and encoding, then the value's shape.
func (c *checker) string(field, v string, r rules.Rule) bool {
	max := c.limits.MaxStringLen
	if r.Text {
		max = c.limits.MaxTextLen
	}
	if !c.bounded(field, v, r.Required, max) {
		return false
	}
	switch {
	case r.Format != nil:
		if reason := r.Format.Check(v); reason != "" {
			c.fail(field, v, ErrInvalid, "%s", reason)
			return false
		}
	case len(r.Enum) > 0 && !slices.Contains(r.Enum, v):
		c.fail(field, v, ErrInvalid, "is not one of %v", r.Enum)
		return false
	case r.Const != "" && v != r.Const:
		c.fail(field, v, ErrInvalid, "is not %q", r.Const)
		return false
	}
	return true
}

// bounded checks UTF-8 validity and a length bound in characters (what JSON
// Schema's maxLength counts); required adds presence.
func (c *checker) bounded(field, v string, required bool, max int) bool {
	switch {
	case v == "":
		if required {
			c.fail(field, "", ErrInvalid, "is required")
		}
		return false
	case len(v) > max && utf8.RuneCountInString(v) > max:
		c.fail(field, v, ErrTooLarge, "is %d characters, longer than the limit of %d", utf8.RuneCountInString(v), max)
		return false
	case !utf8.ValidString(v):
		c.fail(field, v, ErrInvalid, "is not valid UTF-8")
		return false
	}
	return true
}

// list bounds the item count and checks each item; items are named by
// index so a producer can find the bad one.
func (c *checker) list(field string, items []string, r rules.Rule) {
	if len(items) > c.limits.MaxListItems {
		c.fail(field, "", ErrTooLarge, "has %d items, more than the limit of %d", len(items), c.limits.MaxListItems)
		return
	}
	ok := true
	for i, s := range items {
		ok = c.string(fmt.Sprintf("%s[%d]", field, i), s, r) && ok
	}
	if r.Unique && ok {
		if dup := firstDuplicate(items); dup != "" {
			c.fail(field, dup, ErrInvalid, "is listed twice")
		}
	}
}

func firstDuplicate(items []string) string {
	s := slices.Clone(items)
	slices.Sort(s)
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return s[i]
		}
	}
	return ""
}

// stringMap bounds entry count, key and value sizes. Keys are visited in
// order so error messages are deterministic.
func (c *checker) stringMap(field string, m map[string]string) {
	if len(m) > c.limits.MaxMapEntries {
		c.fail(field, "", ErrTooLarge, "has %d entries, more than the limit of %d", len(m), c.limits.MaxMapEntries)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" {
			c.fail(field, "", ErrInvalid, "has an empty key")
			continue
		}
		if !c.bounded(field+" key", k, true, c.limits.MaxStringLen) {
			continue
		}
		c.bounded(fmt.Sprintf("%s[%q]", field, k), m[k], false, c.limits.MaxTextLen)
	}
}

// isToken reports whether s may be one subject token (the "token" format).
func isToken(s string) bool { return rules.Formats["token"].Check(s) == "" }
