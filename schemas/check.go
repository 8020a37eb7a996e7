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
	"unsafe"

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
	checkPlanned(t, fs)
	return fs
}

// fields applies the rules of fs to the struct at v; each field is named
// by its path from the top (rules.Field.Path, "geo.lat"). It reads each field at its
// planned offset (rules.Field.Offset) rather than through reflect, which
// boxed every time and list and cost a tenth of the ingest's CPU: v must
// point to a value of the struct type fs was planned from.
func (c *checker) fields(fs []rules.Field, v unsafe.Pointer) {
	for i := range fs {
		f := &fs[i]
		fv := unsafe.Add(v, f.Offset)
		name := f.Path
		switch f.Kind {
		case rules.String:
			c.string(name, -1, *(*string)(fv), f.Rule)
		case rules.Time:
			t := *(*time.Time)(fv)
			if t.IsZero() {
				if f.Rule.Required {
					c.fail(name, "", ErrInvalid, "is required")
				}
				continue
			}
			if f.NotBeforeIndex != nil {
				earlier := *(*time.Time)(unsafe.Add(v, f.NotBeforeOffset))
				if !earlier.IsZero() && t.Before(earlier) {
					c.fail(name, t.Format(time.RFC3339Nano), ErrInvalid, "is before %q", f.Rule.NotBefore)
				}
			}
		case rules.Int:
			n := intAt(fv, f.GoKind)
			if reason := f.OutOfBounds(float64(n)); reason != "" {
				c.fail(name, strconv.FormatInt(n, 10), ErrInvalid, "%s", reason)
			}
		case rules.Float:
			n := floatAt(fv, f.GoKind)
			if math.IsNaN(n) || math.IsInf(n, 0) {
				c.fail(name, strconv.FormatFloat(n, 'g', -1, 64), ErrInvalid, "is not a finite number")
			} else if reason := f.OutOfBounds(n); reason != "" {
				c.fail(name, strconv.FormatFloat(n, 'g', -1, 64), ErrInvalid, "%s", reason)
			}
		case rules.StringList:
			c.list(name, *(*[]string)(fv), f.Rule)
		case rules.StringMap:
			c.stringMap(name, *(*map[string]string)(fv))
		case rules.Object:
			// An object with nothing set is reported once, not per member.
			if isZero(f.Fields, fv) && slices.ContainsFunc(f.Fields, rules.Field.SchemaRequired) {
				c.fail(name, "", ErrInvalid, "is required")
				continue
			}
			c.fields(f.Fields, fv)
		case rules.OptionalObject:
			if p := *(*unsafe.Pointer)(fv); p != nil {
				c.fields(f.Fields, p)
			}
		}
	}
}

// intAt and floatAt read a number of the given Go kind at p.
func intAt(p unsafe.Pointer, k reflect.Kind) int64 {
	switch k {
	case reflect.Int8:
		return int64(*(*int8)(p))
	case reflect.Int16:
		return int64(*(*int16)(p))
	case reflect.Int32:
		return int64(*(*int32)(p))
	case reflect.Int64:
		return *(*int64)(p)
	}
	return int64(*(*int)(p))
}

func floatAt(p unsafe.Pointer, k reflect.Kind) float64 {
	if k == reflect.Float32 {
		return float64(*(*float32)(p))
	}
	return *(*float64)(p)
}

// isZero is reflect.Value.IsZero of the struct at p whose every field is
// in fs (checkPlanned holds each planned type to that).
func isZero(fs []rules.Field, p unsafe.Pointer) bool {
	for i := range fs {
		f := &fs[i]
		fv := unsafe.Add(p, f.Offset)
		zero := true
		switch f.Kind {
		case rules.String:
			zero = len(*(*string)(fv)) == 0
		case rules.Time:
			zero = *(*time.Time)(fv) == time.Time{}
		case rules.Int:
			zero = intAt(fv, f.GoKind) == 0
		case rules.Float:
			if f.GoKind == reflect.Float32 {
				zero = math.Float32bits(*(*float32)(fv)) == 0
			} else {
				zero = math.Float64bits(*(*float64)(fv)) == 0
			}
		case rules.Bool:
			zero = !*(*bool)(fv)
		case rules.StringList, rules.RawJSON:
			zero = *(*[]string)(fv) == nil
		case rules.StringMap:
			zero = *(*map[string]string)(fv) == nil
		case rules.OptionalObject:
			zero = *(*unsafe.Pointer)(fv) == nil
		case rules.Object:
			zero = isZero(f.Fields, fv)
		}
		if !zero {
			return false
		}
	}
	return true
}

// checkPlanned panics unless every field of struct type t, at any depth
// of embedding and nesting, is in its plan fs with the kind the
// offset-based readers (fields, isZero, the fast decoder) assume: a type
// they cannot read exactly must not reach them.
func checkPlanned(t reflect.Type, fs []rules.Field) {
	var walk func(t reflect.Type, base uintptr, fs []rules.Field, nested bool)
	planned := func(fs []rules.Field, off uintptr) *rules.Field {
		for i := range fs {
			if fs[i].Offset == off {
				return &fs[i]
			}
		}
		return nil
	}
	walk = func(t reflect.Type, base uintptr, fs []rules.Field, nested bool) {
		for i := range t.NumField() {
			sf := t.Field(i)
			off := base + sf.Offset
			if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
				walk(sf.Type, off, fs, nested)
				continue
			}
			f := planned(fs, off)
			if f == nil || f.Name == "" {
				panic(fmt.Sprintf("schemas: %s.%s has no rule plan at offset %d", t, sf.Name, off))
			}
			switch f.Kind {
			case rules.Object:
				walk(sf.Type, 0, f.Fields, true)
			case rules.OptionalObject:
				walk(sf.Type.Elem(), 0, f.Fields, true)
			}
		}
	}
	walk(t, 0, fs, false)
}

// string checks presence, size and encoding, then the value's shape. A
// list item is named field[item]; item is -1 for a field of its own.
func (c *checker) string(field string, item int, v string, r rules.Rule) bool {
	if item >= 0 {
		if c.stringOK(v, r) {
			return true
		}
		field = fmt.Sprintf("%s[%d]", field, item)
	}
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

// stringOK says whether string would pass v without a failure to report,
// so that a list item's name is spelled only when it is needed.
func (c *checker) stringOK(v string, r rules.Rule) bool {
	max := c.limits.MaxStringLen
	if r.Text {
		max = c.limits.MaxTextLen
	}
	switch {
	case v == "", len(v) > max && utf8.RuneCountInString(v) > max, !utf8.ValidString(v):
		return false
	case r.Format != nil:
		return r.Format.Check(v) == ""
	case len(r.Enum) > 0:
		return slices.Contains(r.Enum, v)
	case r.Const != "":
		return v == r.Const
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
		ok = c.string(field, i, s, r) && ok
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
	if c.mapOK(m) {
		return // nothing to report, so no need to sort the keys
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

// mapOK says whether stringMap would report nothing for m.
func (c *checker) mapOK(m map[string]string) bool {
	for k, v := range m {
		if k == "" || len(k) > c.limits.MaxStringLen && utf8.RuneCountInString(k) > c.limits.MaxStringLen || !utf8.ValidString(k) {
			return false
		}
		if len(v) > c.limits.MaxTextLen && utf8.RuneCountInString(v) > c.limits.MaxTextLen || !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// isToken reports whether s may be one subject token (the "token" format).
func isToken(s string) bool { return rules.Formats["token"].Check(s) == "" }
