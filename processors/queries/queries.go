// Package queries is the analysts' SQL library: one named, parameterised
// query per anomaly kind in *.sql, embedded here and rendered in one place.
//
// Parameters are written @name in the SQL. ClickHouse 18.16 has no
// server-side {name:Type} parameters, so Render substitutes typed literals
// on the client: String → a quoted, escaped string; DateTime →
// toDateTime(<unix seconds>) (time-zone free); UInt → a checked number;
// Float → a finite number in parentheses, so a negative value is safe
// after a minus sign. The rendered text is plain SQL any ClickHouse client runs
// (`tributary-query --print <name>` shows it), and the very same text is
// what tributary-query executes. Every query returns entity_type,
// entity_id, window_start, window_end, score first, then its own columns.
package queries

import (
	"embed"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed *.sql
var files embed.FS

// Param is one declared parameter: "-- param: name Type [= default]".
type Param struct {
	Name, Type, Default string
	HasDefault          bool
}

// Query is one parsed file.
type Query struct {
	Name        string
	Description string
	Params      []Param
	SQL         string // with @name placeholders
}

var (
	paramRE = regexp.MustCompile(`^--\s*param:\s*([a-z_][a-z0-9_]*)\s+(String|DateTime|UInt|Float)\s*(?:=\s*(.*))?$`)
	useRE   = regexp.MustCompile(`@([a-z_][a-z0-9_]*)`)
)

// ErrUnknown is returned for a query name not in the library.
var ErrUnknown = errors.New("unknown query")

// All parses every embedded query, sorted by name.
func All() ([]Query, error) {
	ents, err := files.ReadDir(".")
	if err != nil {
		return nil, err
	}
	var out []Query
	for _, e := range ents {
		data, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		q, err := parse(strings.TrimSuffix(e.Name(), ".sql"), string(data))
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	slices.SortFunc(out, func(a, b Query) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Get returns one query by name.
func Get(name string) (Query, error) {
	all, err := All()
	if err != nil {
		return Query{}, err
	}
	for _, q := range all {
		if q.Name == name {
			return q, nil
		}
	}
	return Query{}, fmt.Errorf("%w %q", ErrUnknown, name)
}

func parse(file, text string) (Query, error) {
	q := Query{}
	var desc, body []string
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "-- name:"):
			q.Name = strings.TrimSpace(strings.TrimPrefix(t, "-- name:"))
		case strings.HasPrefix(t, "-- param:"):
			m := paramRE.FindStringSubmatch(t)
			if m == nil {
				return q, fmt.Errorf("query %s: bad param line %q", file, t)
			}
			q.Params = append(q.Params, Param{Name: m[1], Type: m[2], Default: m[3], HasDefault: strings.Contains(t, "=")})
		case strings.HasPrefix(t, "--") && len(body) == 0:
			desc = append(desc, strings.TrimSpace(strings.TrimPrefix(t, "--")))
		default:
			body = append(body, line)
		}
	}
	q.Description = strings.Join(desc, " ")
	q.SQL = strings.TrimSpace(strings.Join(body, "\n"))
	if q.Name != file {
		return q, fmt.Errorf("query %s: header name %q differs from the file name", file, q.Name)
	}
	declared := map[string]bool{}
	for _, p := range q.Params {
		declared[p.Name] = true
	}
	for _, m := range useRE.FindAllStringSubmatch(q.SQL, -1) {
		if !declared[m[1]] {
			return q, fmt.Errorf("query %s: @%s is used but not declared", file, m[1])
		}
	}
	return q, nil
}

// Render substitutes literals for the parameters. values holds raw text
// (flags); missing values take the declared default. For DateTime, a value
// may be RFC 3339, "2006-01-02 15:04:05" (UTC), unix seconds, or a
// duration meaning now minus it ("1h"); since defaults to now−1h and until
// to now.
func (q Query) Render(values map[string]string, now time.Time) (string, error) {
	lits := map[string]string{}
	times := map[string]time.Time{}
	var errs []error
	for k := range values {
		if !slices.ContainsFunc(q.Params, func(p Param) bool { return p.Name == k }) {
			errs = append(errs, fmt.Errorf("query %s has no parameter %q", q.Name, k))
		}
	}
	for _, p := range q.Params {
		v, ok := values[p.Name]
		if !ok {
			switch {
			case p.HasDefault:
				v = p.Default
			case p.Name == "since":
				v = "1h"
			case p.Name == "until":
				v = "0s"
			default:
				errs = append(errs, fmt.Errorf("parameter %s (%s) is required", p.Name, p.Type))
				continue
			}
		}
		lit, err := literal(p.Type, v, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("parameter %s: %w", p.Name, err))
			continue
		}
		lits[p.Name] = lit
		if p.Type == "DateTime" {
			times[p.Name], _ = parseTime(strings.TrimSpace(v), now)
		}
	}
	// An empty window gives an empty result that looks like "nothing
	// found": say what is wrong instead.
	if s, u := times["since"], times["until"]; !s.IsZero() && !u.IsZero() && !u.After(s) {
		errs = append(errs, fmt.Errorf("until %s is not after since %s (UTC): the window is empty",
			u.UTC().Format(time.RFC3339), s.UTC().Format(time.RFC3339)))
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return useRE.ReplaceAllStringFunc(q.SQL, func(m string) string { return lits[m[1:]] }), nil
}

func literal(typ, v string, now time.Time) (string, error) {
	switch typ {
	case "String":
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = v[1 : len(v)-1] // a default written as a SQL literal
		}
		r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
		return "'" + r.Replace(v) + "'", nil
	case "UInt":
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
		return strconv.FormatUint(n, 10), err
	case "Float":
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return "", err
		}
		// ParseFloat accepts NaN and ±Inf, which make every comparison
		// false or true and so silently empty or flood a result.
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("%q is not a finite number", v)
		}
		// Parenthesised so a negative value after a minus sign in the SQL
		// renders as -(-5), not --5, which starts a comment.
		return "(" + strconv.FormatFloat(f, 'g', -1, 64) + ")", nil
	case "DateTime":
		t, err := parseTime(strings.TrimSpace(v), now)
		return "toDateTime(" + strconv.FormatInt(t.Unix(), 10) + ")", err
	}
	return "", fmt.Errorf("unknown type %s", typ)
}

func parseTime(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	for _, l := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(l, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (RFC 3339, 2006-01-02 15:04:05, unix seconds or a duration ago)", v)
}

// ForEntity narrows rendered SQL to the rows of one entity_id, or of
// those matching pattern when it holds '*' (any run of characters): every
// query returns entity_id, so an analyst can drill into one host, user,
// address or task type with any of them.
func ForEntity(sql, pattern string) string {
	lit, _ := literal("String", pattern, time.Time{})
	cond := "entity_id = " + lit
	if strings.Contains(pattern, "*") {
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(pattern)
		like, _ := literal("String", strings.ReplaceAll(esc, "*", "%"), time.Time{})
		cond = "entity_id LIKE " + like
	}
	return "SELECT * FROM (\n" + sql + "\n) WHERE " + cond + "\nORDER BY window_start, entity_id"
}
