package schemas

import (
	"errors"
	"strings"
	"testing"
)

// TestDecodeStrict checks that Decode refuses what encoding/json would
// accept silently: invalid UTF-8 (decoded as U+FFFD), duplicate and
// case-variant member names (last wins, case ignored), and headers without
// bounds. Each rejection names the field or header and is poison
// (ErrInvalid), and each accepted case decodes to exactly what was sent.
func TestDecodeStrict(t *testing.T) {
	login := sampleEvent(TypeLoginFailed)
	metric := sampleEvent(TypeMetric)
	const loginBody = `"source_ip":"203.0.113.7","geo":{"country":"DE","lat":52.52,"lon":13.405},"method":"password","reason":"bad_credentials"`
	const metricBody = `"host":"web-1","service":"api","name":"m","value":1,"unit":"s","kind":"gauge"`
	many := map[string]string{}
	for k, v := range login.Metadata() {
		many[k] = v
	}
	for i := range 60 {
		many["x-extra-"+string(rune('a'+i%26))+string(rune('a'+i/26))] = "1"
	}
	big := login.Metadata()
	big["x-big"] = strings.Repeat("a", 9000)
	badSubject := login.Metadata()
	badSubject[MetaSubject] = "s\xff"

	tests := []struct {
		name     string
		env      Envelope
		md       map[string]string // nil: the envelope's own
		body     string
		field    string // the field the error names; "" means accepted
		kind     error
		wantUser string // for accepted login events
	}{
		{"plain", login, nil, `{"user":"alice",` + loginBody + `}`, "", nil, "alice"},
		{"escaped name and pair", login, nil, `{"us\u0065r":"\ud83d\ude00",` + loginBody + `}`, "", nil, "\U0001F600"},
		{"non-ASCII", login, nil, `{"user":"jürgen",` + loginBody + `}`, "", nil, "jürgen"},
		{"invalid UTF-8 value", login, nil, "{\"user\":\"al\xffice\"," + loginBody + "}", "user", ErrMalformed, ""},
		{"invalid UTF-8 nested", login, nil, `{"user":"a","source_ip":"203.0.113.7","geo":{"country":"D` + "\xc3" + `","lat":1,"lon":1},"method":"password","reason":"bad_credentials"}`, "geo.country", ErrMalformed, ""},
		{"invalid UTF-8 unknown member", login, nil, "{\"user\":\"a\",\"note\":\"\xff\"," + loginBody + "}", "note", ErrMalformed, ""},
		{"invalid UTF-8 name", login, nil, "{\"user\":\"a\",\"n\xffo\":1," + loginBody + "}", "n\xffo", ErrMalformed, ""},
		{"lone high surrogate", login, nil, `{"user":"a\ud800",` + loginBody + `}`, "user", ErrMalformed, ""},
		{"lone low surrogate", login, nil, `{"user":"a\udc00b",` + loginBody + `}`, "user", ErrMalformed, ""},
		{"duplicate", login, nil, `{"user":"alice","user":"mallory",` + loginBody + `}`, "user", ErrMalformed, ""},
		{"duplicate escaped", login, nil, `{"user":"alice","\u0075ser":"mallory",` + loginBody + `}`, "user", ErrMalformed, ""},
		{"case variant", login, nil, `{"user":"alice","USER":"mallory",` + loginBody + `}`, "user", ErrMalformed, ""},
		{"case variant alone", login, nil, `{"User":"mallory",` + loginBody + `}`, "user", ErrMalformed, ""},
		{"case variant nested", login, nil, `{"user":"a","source_ip":"203.0.113.7","geo":{"country":"DE","LAT":1,"lon":1},"method":"password","reason":"bad_credentials"}`, "geo.lat", ErrMalformed, ""},
		{"duplicate label", metric, nil, `{` + metricBody + `,"labels":{"a":"1","a":"2"}}`, `labels["a"]`, ErrMalformed, ""},
		{"invalid UTF-8 label", metric, nil, `{` + metricBody + `,"labels":{"a":"` + "\xff" + `"}}`, `labels["a"]`, ErrMalformed, ""},
		{"labels differing in case", metric, nil, `{` + metricBody + `,"labels":{"a":"1","A":"2"}}`, "", nil, ""},
		{"too many headers", login, many, `{"user":"a",` + loginBody + `}`, "headers", ErrTooLarge, ""},
		{"header too large", login, big, `{"user":"a",` + loginBody + `}`, "x-big", ErrTooLarge, ""},
		{"header not UTF-8", login, badSubject, `{"user":"a",` + loginBody + `}`, MetaSubject, ErrMalformed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := tt.md
			if md == nil {
				md = tt.env.Metadata()
			}
			_, p, err := Decode(md, []byte(tt.body), t0, DefaultLimits())
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				if lf, ok := p.(LoginFailed); ok && lf.User != tt.wantUser {
					t.Fatalf("user = %q, want %q", lf.User, tt.wantUser)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("want a *FieldError naming %q, got %v", tt.field, err)
			}
			if fe.Field != tt.field {
				t.Errorf("error names %q, want %q: %v", fe.Field, tt.field, err)
			}
			if !errors.Is(err, tt.kind) || !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not %v", err, tt.kind)
			}
		})
	}
}

// TestUnmarshalStructuredStrict applies the same rules to the envelope of
// a structured-mode event (the JSON-lines publishing path).
func TestUnmarshalStructuredStrict(t *testing.T) {
	b, err := MarshalStructured(sampleEvent(TypeLoginFailed))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, edit, field string
	}{
		{"duplicate tenant", `"tenant":"evil","tenant":`, "tenant"},
		{"case-variant tenant", `"TENANT":"evil","tenant":`, "tenant"},
		{"invalid UTF-8 in data", `"data":{"x":"` + "\xff" + `"},"tenant":`, "data.x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(string(b), `"tenant":`, tt.edit, 1)
			if in == string(b) {
				t.Fatal("edit did not apply")
			}
			_, err := UnmarshalStructured([]byte(in))
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, ErrMalformed) {
				t.Fatalf("want a malformed %q, got %v", tt.field, err)
			}
		})
	}
}
