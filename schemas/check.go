package schemas

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// checker collects every field error of one event so a producer sees all its
// mistakes at once instead of fixing them one publish at a time.
type checker struct {
	scope  string
	limits Limits
	errs   []error
}

func newChecker(scope string, limits Limits) *checker {
	return &checker{scope: scope, limits: limits}
}

func (c *checker) fail(field, value string, kind error, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{
		Scope:  c.scope,
		Field:  field,
		Value:  value,
		Reason: fmt.Sprintf(format, args...),
		Kind:   kind,
	})
}

func (c *checker) err() error { return errors.Join(c.errs...) }

// bounded checks UTF-8 validity and a length bound; required adds presence.
func (c *checker) bounded(field, v string, required bool, max int) bool {
	switch {
	case v == "":
		if required {
			c.fail(field, "", ErrInvalid, "is required")
		}
		return false
	case len(v) > max:
		c.fail(field, v, ErrTooLarge, "is %d bytes, longer than the limit of %d", len(v), max)
		return false
	case !utf8.ValidString(v):
		c.fail(field, v, ErrInvalid, "is not valid UTF-8")
		return false
	}
	return true
}

// str is for identifiers and short strings.
func (c *checker) str(field, v string, required bool) bool {
	return c.bounded(field, v, required, c.limits.MaxStringLen)
}

// text is for free text such as log bodies and error messages.
func (c *checker) text(field, v string, required bool) bool {
	return c.bounded(field, v, required, c.limits.MaxTextLen)
}

// tokenRE is what may appear as one token of a NATS subject or in a Kafka
// key without escaping: no dots, wildcards or whitespace.
var tokenRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

func (c *checker) token(field, v string, required bool) {
	if !c.str(field, v, required) {
		return
	}
	if !tokenRE.MatchString(v) {
		c.fail(field, v, ErrInvalid, "must be lower-case letters, digits, '_' or '-' (it becomes a subject token)")
	}
}

func (c *checker) enum(field, v string, allowed ...string) {
	if v == "" {
		c.fail(field, "", ErrInvalid, "is required")
		return
	}
	if !slices.Contains(allowed, v) {
		c.fail(field, v, ErrInvalid, "is not one of %v", allowed)
	}
}

func (c *checker) ip(field, v string, required bool) {
	if !c.str(field, v, required) {
		return
	}
	if _, err := netip.ParseAddr(v); err != nil {
		c.fail(field, v, ErrInvalid, "is not an IP address")
	}
}

// uuidV7 requires the canonical lower-case form so ids compare as strings.
func (c *checker) uuidV7(field, v string, required bool) {
	if !c.str(field, v, required) {
		return
	}
	u, err := uuid.Parse(v)
	switch {
	case err != nil || u.String() != v:
		c.fail(field, v, ErrInvalid, "is not a canonical UUID")
	case u.Version() != 7:
		c.fail(field, v, ErrInvalid, "is a version %d UUID, want version 7", u.Version())
	}
}

func (c *checker) timeSet(field string, t time.Time) {
	if t.IsZero() {
		c.fail(field, "", ErrInvalid, "is required")
	}
}

// notBefore checks that later is not before earlier when both are set.
func (c *checker) notBefore(laterField string, later time.Time, earlierField string, earlier time.Time) {
	if !later.IsZero() && !earlier.IsZero() && later.Before(earlier) {
		c.fail(laterField, later.Format(time.RFC3339Nano), ErrInvalid, "is before %q", earlierField)
	}
}

func (c *checker) finite(field string, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		c.fail(field, strconv.FormatFloat(f, 'g', -1, 64), ErrInvalid, "is not a finite number")
	}
}

func (c *checker) between(field string, f, lo, hi float64) {
	if math.IsNaN(f) || f < lo || f > hi {
		c.fail(field, strconv.FormatFloat(f, 'g', -1, 64), ErrInvalid, "is outside [%g, %g]", lo, hi)
	}
}

func (c *checker) nonNegative(field string, n int64) {
	if n < 0 {
		c.fail(field, strconv.FormatInt(n, 10), ErrInvalid, "must not be negative")
	}
}

func (c *checker) positive(field string, n int64) {
	if n <= 0 {
		c.fail(field, strconv.FormatInt(n, 10), ErrInvalid, "must be positive")
	}
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
		if !c.str(field+" key", k, true) {
			continue
		}
		c.text(fmt.Sprintf("%s[%q]", field, k), m[k], false)
	}
}

func (c *checker) list(field string, n int) bool {
	if n > c.limits.MaxListItems {
		c.fail(field, "", ErrTooLarge, "has %d items, more than the limit of %d", n, c.limits.MaxListItems)
		return false
	}
	return true
}
