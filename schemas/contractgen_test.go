package schemas_test

// A random event generator that reads the published JSON Schema documents,
// as a producer written in another language would, rather than the Go types.
// It covers the keywords our documents use: type, properties, required,
// additionalProperties, propertyNames, maxProperties, items, maxItems,
// uniqueItems, enum, const, minLength, maxLength, pattern, format, minimum,
// maximum, anyOf, not, allOf, $ref, if/then, and the one annotation of ours
// that JSON Schema cannot express (x-tributary-not-before).

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// notBeforeKey is the annotation for "this time is not before that sibling".
const notBeforeKey = "x-tributary-not-before"

// loc is a subschema together with the URI of the document it sits in, so
// relative $refs resolve the way a standard validator resolves them.
type loc struct {
	s    any // map[string]any or bool
	base string
}

func (l loc) m() map[string]any { m, _ := l.s.(map[string]any); return m }

// contractDocs holds every published document by its $id.
type contractDocs map[string]any

func loadContractDocs(t *testing.T, dir string) contractDocs {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no documents in %s: %v", dir, err)
	}
	docs := contractDocs{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		id, _ := d["$id"].(string)
		if id == "" {
			t.Fatalf("%s has no $id", p)
		}
		docs[id] = d
	}
	return docs
}

// resolve follows a $ref (a URI reference with an optional JSON pointer).
func (d contractDocs) resolve(ref, base string) (loc, error) {
	b, err := url.Parse(base)
	if err != nil {
		return loc{}, err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return loc{}, err
	}
	u := b.ResolveReference(r)
	frag := u.Fragment
	u.Fragment = ""
	doc, ok := d[u.String()]
	if !ok {
		return loc{}, fmt.Errorf("$ref %q: no document %s", ref, u)
	}
	cur := doc
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return loc{}, fmt.Errorf("$ref %q: %s is not an object", ref, tok)
		}
		cur = m[tok]
	}
	return loc{s: cur, base: u.String()}, nil
}

// expand flattens $ref and allOf into the list of subschemas that all apply
// to one instance. if/then stay in place: they depend on the instance.
func (d contractDocs) expand(t *testing.T, ls ...loc) []loc {
	var out []loc
	for _, l := range ls {
		m := l.m()
		if m == nil {
			out = append(out, l)
			continue
		}
		base := l.base
		if id, ok := m["$id"].(string); ok {
			base = id
		}
		l.base = base
		out = append(out, l)
		if ref, ok := m["$ref"].(string); ok {
			r, err := d.resolve(ref, base)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, d.expand(t, r)...)
		}
		for _, sub := range list(m["allOf"]) {
			out = append(out, d.expand(t, loc{s: sub, base: base})...)
		}
	}
	return out
}

func list(v any) []any { l, _ := v.([]any); return l }

// keywords reads one keyword across all applicable subschemas.
type keywords []loc

func (k keywords) all(name string) []any {
	var out []any
	for _, l := range k {
		if v, ok := l.m()[name]; ok {
			out = append(out, v)
		}
	}
	return out
}

func (k keywords) str(name string) string {
	for _, v := range k.all(name) {
		if s, ok := v.(string); ok {
			return s
		}
	}
	return ""
}

// num returns the tightest bound: the largest of minimums (lower=true) or
// the smallest of maximums.
func (k keywords) num(name string, lower bool) (float64, bool) {
	var best float64
	found := false
	for _, v := range k.all(name) {
		f, ok := v.(float64)
		if !ok {
			continue
		}
		if !found || (lower && f > best) || (!lower && f < best) {
			best, found = f, true
		}
	}
	return best, found
}

func (k keywords) enum() ([]any, bool) {
	var out []any
	found := false
	for _, v := range k.all("enum") {
		vals := list(v)
		if !found {
			out, found = slices.Clone(vals), true
			continue
		}
		out = slices.DeleteFunc(out, func(x any) bool { return !slices.Contains(vals, x) })
	}
	return out, found
}

func (k keywords) typ() string {
	if s := k.str("type"); s != "" {
		return s
	}
	if c := k.all("const"); len(c) > 0 {
		return jsonType(c[0])
	}
	if e, ok := k.enum(); ok && len(e) > 0 {
		return jsonType(e[0])
	}
	if len(k.all("properties")) > 0 {
		return "object"
	}
	return "string"
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "null"
}

// site is one place in a generated event and the subschemas that apply
// there; mutations break one of their rules.
type site struct {
	path     []any // keys (string) and array indexes (int) from the root
	ks       keywords
	required bool
	present  bool
	parent   keywords // the enclosing object's subschemas
}

// gen generates instances; all randomness comes from rng so a seed
// reproduces a run.
type gen struct {
	t     *testing.T
	docs  contractDocs
	rng   *rand.Rand
	now   time.Time // date-times are generated in the hour before now
	sites []site
	res   map[string]*regexp.Regexp
}

func (g *gen) re(pattern string) *regexp.Regexp {
	if g.res == nil {
		g.res = map[string]*regexp.Regexp{}
	}
	if re, ok := g.res[pattern]; ok {
		return re
	}
	re := regexp.MustCompile(pattern)
	g.res[pattern] = re
	return re
}

func (g *gen) value(ks keywords, at []any) any {
	if c := ks.all("const"); len(c) > 0 {
		return c[0]
	}
	if e, ok := ks.enum(); ok {
		if len(e) == 0 {
			g.t.Fatalf("%v: enums have no common value", at)
		}
		return e[g.rng.IntN(len(e))]
	}
	switch ks.typ() {
	case "object":
		return g.object(ks, at)
	case "array":
		return g.array(ks, at)
	case "integer":
		return g.integer(ks)
	case "number":
		return g.number(ks)
	case "boolean":
		return g.rng.IntN(2) == 0
	case "string":
		return g.string(ks, at)
	}
	g.t.Fatalf("%v: cannot generate type %q", at, ks.typ())
	return nil
}

// object generates the properties named by if-conditions first, applies the
// then-branches whose condition holds, then generates the rest; a property
// with a not-before annotation waits for the property it refers to.
func (g *gen) object(ks keywords, at []any) map[string]any {
	obj := map[string]any{}
	props := map[string][]loc{}
	required := map[string]bool{}
	var conds []loc
	var collect func(parts []loc)
	collect = func(parts []loc) {
		for _, l := range parts {
			m := l.m()
			if p, ok := m["properties"].(map[string]any); ok {
				for name, s := range p {
					props[name] = append(props[name], loc{s: s, base: l.base})
				}
			}
			for _, r := range list(m["required"]) {
				required[r.(string)] = true
			}
			if _, ok := m["if"]; ok {
				conds = append(conds, l)
			}
		}
	}
	collect(ks)
	all := keywords(ks)

	first := map[string]bool{}
	for _, c := range conds {
		if p, ok := c.m()["if"].(map[string]any)["properties"].(map[string]any); ok {
			for name := range p {
				first[name] = true
			}
		}
	}
	done := map[string]bool{}
	genProp := func(name string) {
		done[name] = true
		pks := keywords(g.docs.expand(g.t, props[name]...))
		path := append(slices.Clone(at), name)
		if slices.ContainsFunc(pks, func(l loc) bool { b, ok := l.s.(bool); return ok && !b }) {
			g.sites = append(g.sites, site{path: path, ks: pks, parent: all})
			return // a false schema: the property must not appear
		}
		present := required[name] || g.rng.IntN(2) == 0
		if present {
			if ref := pks.str(notBeforeKey); ref != "" {
				obj[name] = g.notBefore(obj[ref])
			} else {
				obj[name] = g.value(pks, path)
			}
		}
		g.sites = append(g.sites, site{path: path, ks: pks, required: required[name], present: present, parent: all})
	}
	for _, name := range sortedKeys(first) {
		if _, ok := props[name]; ok {
			genProp(name)
		}
	}
	for _, c := range conds {
		m := c.m()
		branch := "else"
		if g.matches(obj, keywords(g.docs.expand(g.t, loc{s: m["if"], base: c.base}))) {
			branch = "then"
		}
		if b, ok := m[branch]; ok {
			parts := g.docs.expand(g.t, loc{s: b, base: c.base})
			collect(parts)
			all = append(all, parts...)
		}
	}
	names := sortedKeys(props)
	// Properties that must not precede another go last.
	sort.SliceStable(names, func(i, j int) bool {
		return !hasNotBefore(props[names[i]]) && hasNotBefore(props[names[j]])
	})
	for _, name := range names {
		if !done[name] {
			genProp(name)
		}
	}
	if len(props) == 0 {
		g.mapEntries(all, obj)
		g.sites = append(g.sites, site{path: slices.Clone(at), ks: all, present: true})
	} else if ap := all.all("additionalProperties"); len(ap) == 0 || ap[0] == true {
		// Readers must ignore members they do not know.
		if g.rng.IntN(10) == 0 {
			obj["xextra"+strconv.Itoa(g.rng.IntN(100))] = "ignored"
		}
	}
	return obj
}

func hasNotBefore(ls []loc) bool {
	return slices.ContainsFunc(ls, func(l loc) bool { _, ok := l.m()[notBeforeKey]; return ok })
}

// mapEntries fills a map-like object (additionalProperties only).
func (g *gen) mapEntries(ks keywords, obj map[string]any) {
	hi := 8
	if n, ok := ks.num("maxProperties", false); ok {
		hi = int(n)
	}
	n := g.count(0, hi)
	var vals keywords
	for _, v := range ks.all("additionalProperties") {
		vals = append(vals, g.docs.expand(g.t, loc{s: v, base: ks[0].base})...)
	}
	var names keywords
	for _, v := range ks.all("propertyNames") {
		names = append(names, g.docs.expand(g.t, loc{s: v, base: ks[0].base})...)
	}
	for tries := 0; len(obj) < n && tries < 10*n; tries++ {
		obj[g.string(names, nil)] = g.value(vals, nil)
	}
}

func (g *gen) array(ks keywords, at []any) []any {
	hi := 8
	if n, ok := ks.num("maxItems", false); ok {
		hi = int(n)
	}
	lo := 0
	if n, ok := ks.num("minItems", true); ok {
		lo = int(n)
	}
	var items keywords
	for _, v := range ks.all("items") {
		items = append(items, g.docs.expand(g.t, loc{s: v, base: ks[0].base})...)
	}
	return g.items(items, slices.Contains(ks.all("uniqueItems"), any(true)), g.count(lo, hi), at)
}

func (g *gen) items(items keywords, unique bool, n int, at []any) []any {
	out := make([]any, 0, n)
	for tries := 0; len(out) < n && tries < 10*n; tries++ {
		v := g.value(items, append(slices.Clone(at), len(out)))
		if unique && slices.ContainsFunc(out, func(o any) bool { return fmt.Sprint(o) == fmt.Sprint(v) }) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// count picks a size, mostly small, sometimes at either bound.
func (g *gen) count(lo, hi int) int {
	switch r := g.rng.IntN(20); {
	case r == 0:
		return lo
	case r == 1:
		return hi
	default:
		return lo + g.rng.IntN(min(hi-lo, 4)+1)
	}
}

func (g *gen) integer(ks keywords) int64 {
	lo, hasLo := ks.num("minimum", true)
	hi, hasHi := ks.num("maximum", false)
	switch {
	case !hasLo && !hasHi:
		lo, hi = -1e6, 1e6
	case !hasHi:
		hi = lo + 1e6
	case !hasLo:
		lo = hi - 1e6
	}
	l, h := int64(math.Ceil(lo)), int64(math.Floor(hi))
	switch g.rng.IntN(10) {
	case 0:
		return l
	case 1:
		return h
	}
	return l + g.rng.Int64N(h-l+1)
}

func (g *gen) number(ks keywords) float64 {
	lo, hasLo := ks.num("minimum", true)
	hi, hasHi := ks.num("maximum", false)
	switch {
	case !hasLo && !hasHi:
		if g.rng.IntN(10) == 0 {
			return []float64{0, 1e300, -1e-300, math.MaxFloat64}[g.rng.IntN(4)]
		}
		lo, hi = -1e6, 1e6
	case !hasHi:
		hi = lo + 1e6
	case !hasLo:
		lo = hi - 1e6
	}
	switch g.rng.IntN(10) {
	case 0:
		return lo
	case 1:
		return hi
	}
	return lo + g.rng.Float64()*(hi-lo)
}

// string tries candidates until one satisfies every string keyword,
// including anyOf alternatives and not.
func (g *gen) string(ks keywords, at []any) string {
	for try := 0; try < 200; try++ {
		parts := ks
		for _, alt := range ks.all("anyOf") {
			opts := list(alt)
			parts = append(slices.Clone(parts), g.docs.expand(g.t, loc{s: opts[g.rng.IntN(len(opts))], base: ks[0].base})...)
		}
		var s string
		switch f, p := parts.str("format"), parts.str("pattern"); {
		case f != "":
			s = g.format(f)
		case p != "":
			s = g.fromPattern(p, parts)
		default:
			s = g.text(parts)
		}
		if g.matches(s, ks) {
			return s
		}
	}
	g.t.Fatalf("%v: no string satisfies %v", at, ks)
	return ""
}

var alphabet = []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.:/@é日🙂\"\\\n")

func (g *gen) text(ks keywords) string {
	lo, _ := ks.num("minLength", true)
	hi, ok := ks.num("maxLength", false)
	if !ok {
		hi = 64
	}
	n := g.count(int(lo), int(hi))
	if g.rng.IntN(20) == 0 {
		n = int(lo) + g.rng.IntN(int(hi-lo)+1)
	}
	r := make([]rune, n)
	for i := range r {
		r[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(r)
}

func (g *gen) format(f string) string {
	switch f {
	case "date-time":
		t := g.now.Add(-time.Duration(g.rng.Int64N(int64(time.Hour))))
		return g.timeText(t)
	case "ipv4":
		var b [4]byte
		for i := range b {
			b[i] = byte(g.rng.IntN(256))
		}
		return netip.AddrFrom4(b).String()
	case "ipv6":
		var b [16]byte
		for i := range b {
			if g.rng.IntN(3) > 0 { // runs of zeros exercise "::"
				b[i] = byte(g.rng.IntN(256))
			}
		}
		return netip.AddrFrom16(b).String()
	case "uri-reference":
		return []string{"//tributary/", "https://example.com/", "urn:tributary:", "/svc/"}[g.rng.IntN(4)] +
			g.fromPattern("^[a-z][a-z0-9-]{0,20}$", nil)
	case "uuid":
		return g.fromPattern("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", nil)
	}
	g.t.Fatalf("format %q is not supported by the generator", f)
	return ""
}

// timeText writes t as RFC 3339 with a random precision and offset.
func (g *gen) timeText(t time.Time) string {
	if g.rng.IntN(3) == 0 {
		t = t.In(time.FixedZone("", (g.rng.IntN(27)-12)*3600))
	} else {
		t = t.UTC()
	}
	layout := []string{time.RFC3339, "2006-01-02T15:04:05.000Z07:00", time.RFC3339Nano}[g.rng.IntN(3)]
	return t.Format(layout)
}

func (g *gen) notBefore(ref any) string {
	s, _ := ref.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t = g.now.Add(-time.Hour)
	}
	return g.timeText(t.Add(time.Duration(g.rng.Int64N(int64(g.now.Sub(t)) + 1))))
}

// fromPattern generates a string matching an RE2-compatible pattern.
func (g *gen) fromPattern(p string, ks keywords) string {
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		g.t.Fatalf("pattern %q: %v", p, err)
	}
	hi, ok := ks.num("maxLength", false)
	if !ok {
		hi = 64
	}
	var b strings.Builder
	g.emit(&b, re.Simplify(), int(hi))
	return b.String()
}

func (g *gen) emit(b *strings.Builder, re *syntax.Regexp, budget int) {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		b.WriteRune(g.runeIn(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteRune(alphabet[g.rng.IntN(len(alphabet)-1)]) // not the newline
	case syntax.OpCapture:
		g.emit(b, re.Sub[0], budget)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			g.emit(b, s, budget)
		}
	case syntax.OpAlternate:
		g.emit(b, re.Sub[g.rng.IntN(len(re.Sub))], budget)
	case syntax.OpQuest:
		if g.rng.IntN(2) == 0 {
			g.emit(b, re.Sub[0], budget)
		}
	case syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		lo, hi := re.Min, re.Max
		switch re.Op {
		case syntax.OpStar:
			lo, hi = 0, -1
		case syntax.OpPlus:
			lo, hi = 1, -1
		}
		if hi < 0 {
			hi = lo + min(12, max(0, budget-b.Len()))
		}
		for range lo + g.rng.IntN(hi-lo+1) {
			g.emit(b, re.Sub[0], budget)
		}
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
	default:
		g.t.Fatalf("regexp op %v is not supported by the generator", re.Op)
	}
}

// runeIn picks from a character class, preferring printable ASCII.
func (g *gen) runeIn(ranges []rune) rune {
	var ascii [][2]rune
	for i := 0; i < len(ranges); i += 2 {
		lo, hi := max(ranges[i], 0x21), min(ranges[i+1], 0x7e)
		if lo <= hi {
			ascii = append(ascii, [2]rune{lo, hi})
		}
	}
	if len(ascii) > 0 && g.rng.IntN(10) > 0 {
		r := ascii[g.rng.IntN(len(ascii))]
		return r[0] + g.rng.Int32N(r[1]-r[0]+1)
	}
	for {
		i := 2 * g.rng.IntN(len(ranges)/2)
		lo, hi := ranges[i], min(ranges[i+1], 0x2FFFF)
		if lo > hi {
			continue
		}
		if r := lo + g.rng.Int32N(hi-lo+1); utf8.ValidRune(r) {
			return r
		}
	}
}

// matches is a small validator for the keywords if-conditions, anyOf and
// not use in our documents, and for checking generated strings.
func (g *gen) matches(v any, ks keywords) bool {
	for _, l := range ks {
		if b, ok := l.s.(bool); ok {
			if !b {
				return false
			}
			continue
		}
		m := l.m()
		if c, ok := m["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
			return false
		}
		if e, ok := m["enum"]; ok && !slices.ContainsFunc(list(e), func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(v) }) {
			return false
		}
		if s, ok := v.(string); ok {
			n := float64(utf8.RuneCountInString(s))
			if lo, ok := m["minLength"].(float64); ok && n < lo {
				return false
			}
			if hi, ok := m["maxLength"].(float64); ok && n > hi {
				return false
			}
			if p, ok := m["pattern"].(string); ok && !g.re(p).MatchString(s) {
				return false
			}
		}
		if obj, ok := v.(map[string]any); ok {
			for _, r := range list(m["required"]) {
				if _, ok := obj[r.(string)]; !ok {
					return false
				}
			}
			if p, ok := m["properties"].(map[string]any); ok {
				for name, s := range p {
					if pv, ok := obj[name]; ok && !g.matches(pv, keywords(g.docs.expand(g.t, loc{s: s, base: l.base}))) {
						return false
					}
				}
			}
		}
		if n, ok := m["not"]; ok && g.matches(v, keywords(g.docs.expand(g.t, loc{s: n, base: l.base}))) {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
