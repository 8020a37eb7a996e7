package schemas

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tributary-io/tributary/schemas/internal/rules"
)

// checkJSON rejects what encoding/json accepts silently in a document it has
// already parsed (so the syntax is known to be valid):
//
//   - invalid UTF-8 in a string or member name, and escaped lone
//     surrogates ("\ud800"): both decode as U+FFFD, so two different
//     identities would collide on one replacement character;
//   - a member name given twice in one object: the last one wins, so a
//     reader that takes the first (a proxy, a log viewer) sees another event;
//   - a member name that matches a declared field only ignoring case:
//     encoding/json takes it, so {"user":"alice","USER":"mallory"} decoded
//     as mallory. Only the exact name is ours; a case variant is refused
//     rather than ignored so the sender learns of it.
//
// fields is the plan of the top-level object; maps and raw JSON below it are
// checked for encoding and duplicates only, since their keys are data.
//
// The error's Scope is left for the caller to fill, so that a good event
// does not pay for building it.
func checkJSON(data []byte, fields []rules.Field) *FieldError {
	top := shape{fields: fields, isStruct: true}
	s := jsonScanner{data: data}
	s.value(top)
	if !s.failed {
		return nil
	}
	// Scan again, this time keeping the path, so a good event never pays
	// for building one.
	s = jsonScanner{data: data, trace: true}
	s.value(top)
	return s.err
}

// shape is what the scanner knows of the value at hand.
type shape struct {
	fields   []rules.Field // members of a struct
	isStruct bool          // an object whose names are field names, not data
	isMap    bool          // an object whose names are data: path as name["key"]
}

type jsonScanner struct {
	data   []byte
	i      int
	failed bool // the scan stops at the first problem
	// Set for the second scan, which reports the problem: the path to the
	// value at hand and the error naming it.
	trace bool
	path  []seg
	err   *FieldError
}

// seg is one step of a path: a field name, a map key or an array index.
type seg struct {
	name  []byte
	index int
	kind  uint8
}

const (
	segField uint8 = iota
	segKey
	segIndex
)

func (s *jsonScanner) push(p seg) {
	if s.trace {
		s.path = append(s.path, p)
	}
}

func (s *jsonScanner) pop() {
	if s.trace {
		s.path = s.path[:len(s.path)-1]
	}
}

// fail records the first problem of the value at the end of the path.
func (s *jsonScanner) fail(value, reason string) {
	s.failed = true
	if s.trace && s.err == nil {
		s.err = &FieldError{Field: s.where(), Value: value, Reason: reason, Kind: ErrMalformed}
	}
}

// where spells the current path the way FieldError.Field does:
// geo.lat, labels["env"], scopes[3].
func (s *jsonScanner) where() string {
	if len(s.path) == 0 {
		return "data"
	}
	var b strings.Builder
	for i, p := range s.path {
		switch p.kind {
		case segKey:
			b.WriteString("[" + strconv.Quote(string(p.name)) + "]")
		case segIndex:
			b.WriteString("[" + strconv.Itoa(p.index) + "]")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.Write(p.name)
		}
	}
	return b.String()
}

func (s *jsonScanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScanner) value(sh shape) {
	s.ws()
	if s.i >= len(s.data) || s.failed {
		return
	}
	switch s.data[s.i] {
	case '{':
		s.object(sh)
	case '[':
		s.array()
	case '"':
		if _, ok := s.str(); !ok {
			s.fail("", "is not valid UTF-8")
		}
	default: // number, true, false, null
		for s.i < len(s.data) {
			switch s.data[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}

func (s *jsonScanner) array() {
	s.i++ // [
	for n := 0; !s.failed; n++ {
		s.ws()
		if s.i < len(s.data) && s.data[s.i] == ']' {
			s.i++
			return
		}
		s.push(seg{index: n, kind: segIndex})
		s.value(shape{})
		if s.failed {
			return // the path stays for the error
		}
		s.pop()
		s.ws()
		if s.i < len(s.data) && s.data[s.i] == ',' {
			s.i++
		}
	}
}

// smallObject is how many names an object may have before duplicates are
// looked up in a map rather than by comparing with each earlier name.
const smallObject = 16

func (s *jsonScanner) object(sh shape) {
	s.i++ // {
	var small [smallObject][]byte
	seen := small[:0]
	var many map[string]struct{}
	for !s.failed {
		s.ws()
		if s.i >= len(s.data) || s.data[s.i] == '}' {
			s.i++
			return
		}
		raw, ok := s.str()
		name := raw
		if ok && bytes.IndexByte(raw, '\\') >= 0 {
			var u string
			_ = json.Unmarshal(s.data[s.i-len(raw)-2:s.i], &u) // the syntax is known good
			name = []byte(u)
		}
		kind := segField
		if sh.isMap {
			kind = segKey
		}
		s.push(seg{name: name, kind: kind})
		if !ok {
			s.fail("", "has a member name that is not valid UTF-8")
			return
		}
		dup := false
		if many != nil {
			_, dup = many[string(name)]
			many[string(name)] = struct{}{}
		} else {
			for _, n := range seen {
				dup = dup || bytes.Equal(n, name)
			}
			if seen = append(seen, name); len(seen) > smallObject {
				many = make(map[string]struct{}, 2*smallObject)
				for _, n := range seen {
					many[string(n)] = struct{}{}
				}
			}
		}
		if dup {
			s.fail("", "appears more than once in its object")
			return
		}
		child := shape{}
		if sh.isStruct {
			child = s.member(sh.fields, name)
		}
		s.ws()
		s.i++ // :
		s.value(child)
		if s.failed {
			return
		}
		s.pop()
		s.ws()
		if s.i < len(s.data) && s.data[s.i] == ',' {
			s.i++
		}
	}
}

// member finds the declared field called name and returns its shape; a
// name equal to a field's only ignoring case is an error naming the field.
func (s *jsonScanner) member(fields []rules.Field, name []byte) shape {
	for i := range fields {
		f := &fields[i]
		if string(name) != f.Name {
			continue
		}
		switch f.Kind {
		case rules.Object, rules.OptionalObject:
			return shape{fields: f.Fields, isStruct: true}
		case rules.StringMap:
			return shape{isMap: true}
		}
		return shape{}
	}
	for i := range fields {
		if strings.EqualFold(string(name), fields[i].Name) {
			if s.trace {
				s.path[len(s.path)-1].name = []byte(fields[i].Name)
			}
			s.fail(string(name), "differs from the field's name only in case: names must match exactly")
			break
		}
	}
	return shape{} // unknown members are allowed, see register
}

// str scans a string at s.i and returns its raw content (without quotes);
// ok is false when it is not valid UTF-8 or holds an unpaired surrogate.
func (s *jsonScanner) str() (raw []byte, ok bool) {
	s.i++ // "
	start := s.i
	ok = true
	ascii := true
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '"':
			raw = s.data[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(raw) {
				ok = false
			}
			return raw, ok
		case c == '\\':
			if s.i+1 < len(s.data) && s.data[s.i+1] == 'u' {
				if !s.escapedRune() {
					ok = false
				}
				continue
			}
			s.i += 2
		case c >= utf8.RuneSelf:
			ascii = false
			s.i++
		default:
			s.i++
		}
	}
	return s.data[start:], false
}

// escapedRune consumes one \uXXXX escape (two for a surrogate pair) and says
// whether it is a whole code point.
func (s *jsonScanner) escapedRune() bool {
	r, ok := s.hex4(s.i)
	s.i += 6
	if !ok || r < 0xD800 || r > 0xDFFF {
		return ok
	}
	if r >= 0xDC00 { // a low surrogate with no high one before it
		return false
	}
	if s.i+1 < len(s.data) && s.data[s.i] == '\\' && s.data[s.i+1] == 'u' {
		if lo, ok := s.hex4(s.i); ok && lo >= 0xDC00 && lo <= 0xDFFF {
			s.i += 6
			return true
		}
	}
	return false
}

// hex4 reads the four hex digits of the \u escape at i.
func (s *jsonScanner) hex4(i int) (rune, bool) {
	if i+6 > len(s.data) {
		return 0, false
	}
	var r rune
	for _, c := range s.data[i+2 : i+6] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
