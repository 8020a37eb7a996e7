package schemas

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/tributary-io/tributary/schemas/internal/rules"
)

// fastDecode fills the zero struct at v, planned as fs, from data when data
// is in the plain form producers write: one object whose members have
// distinct names, strings without escapes or invalid UTF-8, no null,
// numbers that fit their fields, and unknown members only with scalar
// values. It reports false for anything else, leaving v partly filled,
// and the caller then takes the reference path (encoding/json, then
// checkJSON), which decides and explains.
//
// So it needs to be right only when it says true: then encoding/json
// would have decoded the same value and checkJSON found nothing, and
// neither is run. It reads and writes fields at their planned offsets
// (checkPlanned holds every planned type to its plan). On a metric it is
// several times faster than the two passes it replaces, and allocates
// only the values it keeps.
func fastDecode(data []byte, fs []rules.Field, v unsafe.Pointer, share bool) bool {
	d := fastDecoder{data: data}
	if share && len(data) <= shareMax {
		d.text = string(data)
	}
	d.ws()
	if !d.object(fs, v) {
		return false
	}
	d.ws()
	return d.i == len(d.data)
}

type fastDecoder struct {
	data []byte
	i    int
	// text, when sharing was asked for (DecodeWithID), is one copy of a
	// small body that the strings decoded from it share (they are
	// unescaped, so each is a substring): one allocation per event
	// instead of one per string. A string kept for long keeps the whole
	// body alive, hence the bound and the opt-in.
	text string
}

// shareMax bounds the bodies whose strings share one copy.
const shareMax = 1024

// keep returns s, just scanned by str (its closing quote consumed), as a
// string that outlives data.
func (d *fastDecoder) keep(s []byte) string {
	if d.text == "" {
		return string(s)
	}
	end := d.i - 1
	return d.text[end-len(s) : end]
}

func (d *fastDecoder) ws() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next skips whitespace and says whether the byte at hand is c.
func (d *fastDecoder) next(c byte) bool {
	d.ws()
	return d.i < len(d.data) && d.data[d.i] == c
}

// smallFast is how many members an object may have on the fast path; its
// duplicate check compares each name with every earlier one.
const smallFast = 32

func (d *fastDecoder) object(fs []rules.Field, v unsafe.Pointer) bool {
	if !d.next('{') {
		return false
	}
	d.i++
	if d.next('}') {
		d.i++
		return true
	}
	var small [smallFast][]byte
	seen := small[:0]
	for {
		if !d.next('"') {
			return false
		}
		name, ascii, ok := d.str()
		if !ok || !ascii || len(seen) == smallFast {
			// A name beyond ASCII may equal a field's only under Unicode
			// case folding, which the reference path judges.
			return false
		}
		for _, s := range seen {
			if bytes.Equal(s, name) {
				return false
			}
		}
		seen = append(seen, name)
		if !d.next(':') {
			return false
		}
		d.i++
		d.ws()
		f := field(fs, name)
		switch {
		case f != nil:
			if !d.value(f, unsafe.Add(v, f.Offset)) {
				return false
			}
		case folds(fs, name):
			return false // refused by checkJSON
		default:
			if !d.scalar() {
				return false
			}
		}
		d.ws()
		if d.i >= len(d.data) {
			return false
		}
		switch d.data[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

func field(fs []rules.Field, name []byte) *rules.Field {
	for i := range fs {
		if fs[i].Name == string(name) {
			return &fs[i]
		}
	}
	return nil
}

func folds(fs []rules.Field, name []byte) bool {
	for i := range fs {
		if strings.EqualFold(fs[i].Name, unsafe.String(unsafe.SliceData(name), len(name))) {
			return true
		}
	}
	return false
}

// value decodes the value at hand into the field f at p.
func (d *fastDecoder) value(f *rules.Field, p unsafe.Pointer) bool {
	if d.i >= len(d.data) {
		return false
	}
	switch f.Kind {
	case rules.String:
		if f.GoKind != reflect.String || d.data[d.i] != '"' {
			return false
		}
		s, _, ok := d.str()
		if ok {
			*(*string)(p) = d.keep(s)
		}
		return ok
	case rules.Time:
		if d.data[d.i] != '"' {
			return false
		}
		start := d.i
		if _, _, ok := d.str(); !ok {
			return false
		}
		// What encoding/json calls, on the same bytes.
		return (*time.Time)(p).UnmarshalJSON(d.data[start:d.i]) == nil
	case rules.Int:
		return d.int(f.GoKind, p)
	case rules.Float:
		if f.GoKind != reflect.Float64 {
			return false
		}
		num, ok := d.number()
		if !ok {
			return false
		}
		n, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(num), len(num)), 64)
		if err != nil {
			return false
		}
		*(*float64)(p) = n
		return true
	case rules.Bool:
		switch {
		case d.literal("true"):
			*(*bool)(p) = true
		case d.literal("false"):
		default:
			return false
		}
		return true
	case rules.StringList:
		return d.list(p)
	case rules.StringMap:
		return d.stringMap(p)
	case rules.Object:
		return d.object(f.Fields, p)
	case rules.OptionalObject:
		if d.data[d.i] != '{' {
			return false
		}
		obj := reflect.New(f.Elem).UnsafePointer()
		if !d.object(f.Fields, obj) {
			return false
		}
		*(*unsafe.Pointer)(p) = obj
		return true
	}
	return false // RawJSON: the reference path
}

// int decodes an integer without fraction or exponent (encoding/json
// refuses those for an integer field) that fits the field's kind.
func (d *fastDecoder) int(k reflect.Kind, p unsafe.Pointer) bool {
	num, ok := d.number()
	if !ok || len(num) > 18 || bytes.ContainsAny(num, ".eE") {
		return false // 18 digits cannot overflow an int64
	}
	var n int64
	neg := num[0] == '-'
	if neg {
		num = num[1:]
	}
	for _, c := range num {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	switch k {
	case reflect.Int64:
		*(*int64)(p) = n
	case reflect.Int:
		if int64(int(n)) != n {
			return false
		}
		*(*int)(p) = int(n)
	case reflect.Int32:
		if int64(int32(n)) != n {
			return false
		}
		*(*int32)(p) = int32(n)
	default:
		return false
	}
	return true
}

func (d *fastDecoder) list(p unsafe.Pointer) bool {
	if d.data[d.i] != '[' {
		return false
	}
	d.i++
	items := []string{} // encoding/json makes [] an empty list, not nil
	if d.next(']') {
		d.i++
		*(*[]string)(p) = items
		return true
	}
	for {
		if !d.next('"') {
			return false
		}
		s, _, ok := d.str()
		if !ok {
			return false
		}
		items = append(items, d.keep(s))
		if d.next(',') {
			d.i++
			continue
		}
		if d.i < len(d.data) && d.data[d.i] == ']' {
			d.i++
			*(*[]string)(p) = items
			return true
		}
		return false
	}
}

func (d *fastDecoder) stringMap(p unsafe.Pointer) bool {
	if d.data[d.i] != '{' {
		return false
	}
	d.i++
	m := map[string]string{} // encoding/json makes {} an empty map, not nil
	if d.next('}') {
		d.i++
		*(*map[string]string)(p) = m
		return true
	}
	for {
		if !d.next('"') {
			return false
		}
		k, _, ok := d.str()
		if !ok {
			return false
		}
		if _, dup := m[string(k)]; dup {
			return false
		}
		key := d.keep(k)
		if !d.next(':') {
			return false
		}
		d.i++
		if !d.next('"') {
			return false
		}
		v, _, ok := d.str()
		if !ok {
			return false
		}
		m[key] = d.keep(v)
		if d.next(',') {
			d.i++
			continue
		}
		if d.i < len(d.data) && d.data[d.i] == '}' {
			d.i++
			*(*map[string]string)(p) = m
			return true
		}
		return false
	}
}

// scalar skips an unknown member's value: a string, a number, true or
// false. Objects, arrays and null are the reference path's.
func (d *fastDecoder) scalar() bool {
	if d.i >= len(d.data) {
		return false
	}
	switch c := d.data[d.i]; {
	case c == '"':
		_, _, ok := d.str()
		return ok
	case c == '-' || c >= '0' && c <= '9':
		_, ok := d.number()
		return ok
	}
	return d.literal("true") || d.literal("false")
}

func (d *fastDecoder) literal(lit string) bool {
	if !bytes.HasPrefix(d.data[d.i:], []byte(lit)) {
		return false
	}
	d.i += len(lit)
	return true
}

// str scans the string at d.i, which starts with '"', and returns its
// content; ok is false for an escape, a control character (invalid
// JSON), invalid UTF-8 or a missing end.
func (d *fastDecoder) str() (s []byte, ascii, ok bool) {
	d.i++
	start := d.i
	ascii = true
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			s = d.data[start:d.i]
			d.i++
			return s, ascii, ascii || utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	return nil, false, false
}

// number scans a number in JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *fastDecoder) number() ([]byte, bool) {
	start := d.i
	if d.i < len(d.data) && d.data[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i >= len(d.data):
		return nil, false
	case d.data[d.i] == '0':
		d.i++
	case d.data[d.i] >= '1' && d.data[d.i] <= '9':
		d.digits()
	default:
		return nil, false
	}
	if d.i < len(d.data) && d.data[d.i] == '.' {
		d.i++
		if !d.digits() {
			return nil, false
		}
	}
	if d.i < len(d.data) && (d.data[d.i] == 'e' || d.data[d.i] == 'E') {
		d.i++
		if d.i < len(d.data) && (d.data[d.i] == '+' || d.data[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			return nil, false
		}
	}
	return d.data[start:d.i], true
}

// digits skips [0-9]+ and says whether there was one.
func (d *fastDecoder) digits() bool {
	start := d.i
	for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}
