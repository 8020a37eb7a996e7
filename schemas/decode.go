package schemas

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/tributary-io/tributary/schemas/internal/rules"
)

// memberOf finds the JSON member of data whose value does not decode into
// its field ("started_at", "geo.lat"), so that a decode error names the
// field the way a validation error does; "" when no single member is at
// fault (the JSON itself is broken). It runs only after a decode failed.
func memberOf(data []byte, t reflect.Type, fs []rules.Field, prefix string) string {
	var members map[string]json.RawMessage
	if json.Unmarshal(data, &members) != nil {
		return ""
	}
	for _, f := range fs {
		raw, ok := member(members, f.Name)
		if !ok {
			continue
		}
		ft := t.FieldByIndex(f.Index).Type
		if f.Kind == rules.Object || f.Kind == rules.OptionalObject {
			st := ft
			if st.Kind() == reflect.Pointer {
				st = st.Elem()
			}
			if name := memberOf(raw, st, f.Fields, prefix+f.Name+"."); name != "" {
				return name
			}
		}
		if json.Unmarshal(raw, reflect.New(ft).Interface()) != nil {
			return prefix + f.Name
		}
	}
	return ""
}

// member looks a name up the way encoding/json matches it to a field:
// exactly, else ignoring case.
func member(members map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	if raw, ok := members[name]; ok {
		return raw, true
	}
	for k, raw := range members {
		if strings.EqualFold(k, name) {
			return raw, true
		}
	}
	return nil, false
}
