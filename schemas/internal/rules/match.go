package rules

import (
	"strings"
	"sync"
)

func all(v string, ok func(byte) bool) bool {
	for i := 0; i < len(v); i++ {
		if !ok(v[i]) {
			return false
		}
	}
	return true
}

func isLowerDigit(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
func isToken(c byte) bool      { return isLowerDigit(c) || c == '_' || c == '-' }
func isUpper(c byte) bool      { return c >= 'A' && c <= 'Z' }
func isLetter(c byte) bool     { return isUpper(c) || c >= 'a' && c <= 'z' }
func isHexLower(c byte) bool   { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }
func isMetricChar(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '.'
}

// isUUID7 is ^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$.
func isUUID7(v string) bool {
	if len(v) != 36 || v[14] != '7' {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if v[i] != '-' {
				return false
			}
		default:
			if !isHexLower(v[i]) {
				return false
			}
		}
	}
	return true
}

const zeros = "00000000000000000000000000000000"

// hexDash is "[0-9a-f]{2}-".
func hexDash(v string) bool {
	return len(v) == 3 && isHexLower(v[0]) && isHexLower(v[1]) && v[2] == '-'
}

// traceFields is the four fields of a traceparent at the start of v:
// [0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}.
func traceFields(v string) bool {
	return len(v) >= 55 && hexDash(v[:3]) && all(v[3:35], isHexLower) && v[35] == '-' &&
		all(v[36:52], isHexLower) && v[52] == '-' && all(v[53:55], isHexLower)
}

// isTraceParent is ^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$
// ("." is any character but a newline).
func isTraceParent(v string) bool {
	if !traceFields(v) {
		return false
	}
	return len(v) == 55 || (v[55] == '-' && !strings.Contains(v[56:], "\n"))
}

// Memo is a bounded set of strings, safe for concurrent use: once full it
// starts over, so a stream of distinct values costs memory up to the
// bound and nothing more.
type Memo struct {
	mu  sync.RWMutex
	max int
	set map[string]struct{}
}

// NewMemo holds up to max strings.
func NewMemo(max int) *Memo { return &Memo{max: max, set: make(map[string]struct{}, max)} }

// Has reports whether v was added since the last reset.
func (m *Memo) Has(v string) bool {
	m.mu.RLock()
	_, ok := m.set[v]
	m.mu.RUnlock()
	return ok
}

// memoMaxLen bounds what a memo holds per value.
const memoMaxLen = 256

// Add remembers v, unless it is longer than memoMaxLen bytes. It keeps a
// copy: v may be a substring of a whole event body (see fastDecode).
func (m *Memo) Add(v string) {
	if len(v) > memoMaxLen {
		return
	}
	v = strings.Clone(v)
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.set) >= m.max {
		clear(m.set)
	}
	m.set[v] = struct{}{}
}
