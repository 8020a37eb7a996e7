package schemas

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// setData returns a mutation that edits the JSON payload as a map.
func setData(edit func(m map[string]any)) func(*Envelope) {
	return func(e *Envelope) {
		var m map[string]any
		if err := json.Unmarshal(e.Data, &m); err != nil {
			panic(err)
		}
		edit(m)
		b, err := json.Marshal(m)
		if err != nil {
			panic(err)
		}
		e.Data = b
	}
}

func smallLimits(edit func(*Limits)) Limits {
	l := DefaultLimits()
	edit(&l)
	return l
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("x", DefaultLimits().MaxStringLen+1)
	tests := []struct {
		name    string
		typ     string // sample to start from
		mutate  func(*Envelope)
		now     time.Time // zero means t0
		limits  *Limits
		want    error // nil: must be valid
		message string
	}{
		// Valid variations.
		{name: "sample is valid", typ: TypeLoginFailed, mutate: func(*Envelope) {}},
		{name: "content type with charset", typ: TypeLoginFailed, mutate: func(e *Envelope) { e.DataContentType = "application/json; charset=utf-8" }},
		{name: "content type empty means JSON", typ: TypeLoginFailed, mutate: func(e *Envelope) { e.DataContentType = "" }},
		{name: "traceparent empty", typ: TypeLoginFailed, mutate: func(e *Envelope) { e.TraceParent = "" }},
		{name: "traceparent future version with extra field", typ: TypeLoginFailed, mutate: func(e *Envelope) {
			e.TraceParent = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"
		}},
		{name: "time at edge of past window", typ: TypeLoginFailed, mutate: func(e *Envelope) { e.Time = t0.Add(-24 * time.Hour) }},
		{name: "zero now skips clock skew", typ: TypeLoginFailed, now: time.Unix(1, 0).UTC().AddDate(100, 0, 0), mutate: func(e *Envelope) {}},
		{name: "ipv6 source ip", typ: TypeLoginFailed, mutate: setData(func(m map[string]any) { m["source_ip"] = "2001:db8::42" })},
		{name: "unknown payload field is ignored", typ: TypeHeartbeat, mutate: setData(func(m map[string]any) { m["added_later"] = 1 })},

		// Envelope rules.
		{name: "id missing", typ: TypeLogout, mutate: func(e *Envelope) { e.ID = "" }, want: ErrInvalid, message: `envelope: field "id" is required`},
		{name: "id not a uuid", typ: TypeLogout, mutate: func(e *Envelope) { e.ID = "abc" }, want: ErrInvalid, message: `field "id": "abc" is not a canonical UUID`},
		{name: "id upper case", typ: TypeLogout, mutate: func(e *Envelope) { e.ID = strings.ToUpper(e.ID) }, want: ErrInvalid, message: "is not a canonical UUID"},
		{name: "id version 4", typ: TypeLogout, mutate: func(e *Envelope) { e.ID = "9b2f4c1e-5d6a-4b7c-8d9e-0f1a2b3c4d5e" }, want: ErrInvalid, message: "version 4 UUID, want version 7"},
		{name: "source missing", typ: TypeLogout, mutate: func(e *Envelope) { e.Source = "" }, want: ErrInvalid, message: `field "source" is required`},
		{name: "source not a URI", typ: TypeLogout, mutate: func(e *Envelope) { e.Source = "my service" }, want: ErrInvalid, message: `"my service" is not a URI reference`},
		{name: "source too long", typ: TypeLogout, mutate: func(e *Envelope) { e.Source = long }, want: ErrTooLarge, message: `field "source"`},
		{name: "type missing", typ: TypeLogout, mutate: func(e *Envelope) { e.Type = "" }, want: ErrUnknownType, message: `field "type" is required`},
		{name: "type unknown", typ: TypeLogout, mutate: func(e *Envelope) { e.Type = "io.tributary.auth.nope" }, want: ErrUnknownType, message: `"io.tributary.auth.nope" has no registered payload`},
		{name: "specversion missing", typ: TypeLogout, mutate: func(e *Envelope) { e.SpecVersion = "" }, want: ErrInvalid, message: `field "specversion" is required`},
		{name: "specversion 0.3", typ: TypeLogout, mutate: func(e *Envelope) { e.SpecVersion = "0.3" }, want: ErrUnsupportedVersion, message: `"0.3" is not "1.0"`},
		{name: "time missing", typ: TypeLogout, mutate: func(e *Envelope) { e.Time = time.Time{} }, want: ErrInvalid, message: `field "time" is required`},
		{name: "time too old", typ: TypeLogout, mutate: func(e *Envelope) { e.Time = t0.Add(-25 * time.Hour) }, want: ErrClockSkew, message: "is more than 24h0m0s before now"},
		{name: "time in the future", typ: TypeLogout, mutate: func(e *Envelope) { e.Time = t0.Add(6 * time.Minute) }, want: ErrClockSkew, message: "is more than 5m0s after now"},
		{name: "custom skew window", typ: TypeLogout, mutate: func(e *Envelope) { e.Time = t0.Add(-2 * time.Hour) },
			limits: ptr(smallLimits(func(l *Limits) { l.MaxPast = time.Hour })), want: ErrClockSkew, message: "1h0m0s before now"},
		{name: "subject too long", typ: TypeLogout, mutate: func(e *Envelope) { e.Subject = long }, want: ErrTooLarge, message: `field "subject"`},
		{name: "content type not JSON", typ: TypeLogout, mutate: func(e *Envelope) { e.DataContentType = "text/plain" }, want: ErrInvalid, message: `"text/plain" is not "application/json"`},
		{name: "tenant missing", typ: TypeLogout, mutate: func(e *Envelope) { e.Tenant = "" }, want: ErrInvalid, message: `field "tenant" is required`},
		{name: "tenant not a token", typ: TypeLogout, mutate: func(e *Envelope) { e.Tenant = "acme.corp" }, want: ErrInvalid, message: `"acme.corp" must be lower-case`},
		{name: "tenant wildcard", typ: TypeLogout, mutate: func(e *Envelope) { e.Tenant = ">" }, want: ErrInvalid, message: `field "tenant": ">"`},
		{name: "partition key too long", typ: TypeLogout, mutate: func(e *Envelope) { e.PartitionKey = long }, want: ErrTooLarge, message: `field "partitionkey"`},
		{name: "schemaversion missing", typ: TypeLogout, mutate: func(e *Envelope) { e.SchemaVersion = "" }, want: ErrUnsupportedVersion, message: `field "schemaversion" is required`},
		{name: "schemaversion unknown", typ: TypeLogout, mutate: func(e *Envelope) { e.SchemaVersion = "2" }, want: ErrUnsupportedVersion, message: `"2" is not supported for auth.logout`},
		{name: "traceparent garbage", typ: TypeLogout, mutate: func(e *Envelope) { e.TraceParent = "abc" }, want: ErrInvalid, message: `"abc" is not a W3C traceparent`},
		{name: "traceparent version ff", typ: TypeLogout, mutate: func(e *Envelope) { e.TraceParent = "ff" + fixtureTraceParent[2:] }, want: ErrInvalid, message: "forbidden version ff"},
		{name: "traceparent v00 trailing", typ: TypeLogout, mutate: func(e *Envelope) { e.TraceParent = fixtureTraceParent + "-x" }, want: ErrInvalid, message: "trailing fields"},
		{name: "traceparent zero trace id", typ: TypeLogout, mutate: func(e *Envelope) {
			e.TraceParent = "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
		}, want: ErrInvalid, message: "all-zero trace id"},
		{name: "traceparent zero parent id", typ: TypeLogout, mutate: func(e *Envelope) {
			e.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"
		}, want: ErrInvalid, message: "all-zero parent id"},
		{name: "data missing", typ: TypeLogout, mutate: func(e *Envelope) { e.Data = nil }, want: ErrInvalid, message: `field "data" is required`},
		{name: "data null", typ: TypeLogout, mutate: func(e *Envelope) { e.Data = []byte(" null ") }, want: ErrInvalid, message: `field "data" is required`},
		{name: "data not JSON", typ: TypeLogout, mutate: func(e *Envelope) { e.Data = []byte("{nope") }, want: ErrMalformed, message: `auth.logout: field "data" does not decode: invalid character`},
		{name: "payload time names the field", typ: TypeTaskSucceeded, mutate: setData(func(m map[string]any) { m["started_at"] = "yesterday" }),
			want: ErrMalformed, message: `task.succeeded: field "started_at" does not decode: parsing time`},
		{name: "nested number names the field", typ: TypeLoginFailed, mutate: setData(func(m map[string]any) { m["geo"].(map[string]any)["lat"] = "north" }),
			want: ErrMalformed, message: `auth.login.failed: field "geo.lat" does not decode`},
		{name: "data a JSON string", typ: TypeLogout, mutate: func(e *Envelope) { e.Data = []byte(`"u-1"`) }, want: ErrMalformed, message: "cannot unmarshal string"},
		{name: "event too large", typ: TypeLogout, limits: ptr(smallLimits(func(l *Limits) { l.MaxEventSize = 300; l.MaxTextLen = 300; l.MaxStringLen = 100 })),
			mutate: setData(func(m map[string]any) { m["session_id"] = strings.Repeat("s", 90) }), want: ErrTooLarge, message: "more than the limit of 300"},

		// Payload rules, one per kind of check.
		{name: "required string", typ: TypeLogout, mutate: setData(func(m map[string]any) { delete(m, "user") }), want: ErrInvalid, message: `auth.logout: field "user" is required`},
		{name: "string too long", typ: TypeLogout, mutate: setData(func(m map[string]any) { m["user"] = long }), want: ErrTooLarge, message: `auth.logout: field "user": "xxxx`},
		{name: "bad IP", typ: TypeLoginFailed, mutate: setData(func(m map[string]any) { m["source_ip"] = "999.1.1.1" }), want: ErrInvalid,
			message: `auth.login.failed: field "source_ip": "999.1.1.1" is not an IP address`},
		{name: "bad enum", typ: TypeLoginFailed, mutate: setData(func(m map[string]any) { m["method"] = "magic" }), want: ErrInvalid, message: `field "method": "magic" is not one of [password oauth mfa]`},
		{name: "missing enum", typ: TypeLoginFailed, mutate: setData(func(m map[string]any) { delete(m, "reason") }), want: ErrInvalid, message: `field "reason" is required`},
		{name: "bad country", typ: TypeLoginSucceeded, mutate: setData(func(m map[string]any) { m["geo"].(map[string]any)["country"] = "Germany" }),
			want: ErrInvalid, message: `field "geo.country": "Germany" is not an ISO 3166-1 alpha-2 code`},
		{name: "latitude out of range", typ: TypeMFAApproved, mutate: setData(func(m map[string]any) { m["geo"].(map[string]any)["lat"] = 91 }),
			want: ErrInvalid, message: `field "geo.lat": "91" is outside [-90, 90]`},
		{name: "longitude out of range", typ: TypeMFADenied, mutate: setData(func(m map[string]any) { m["geo"].(map[string]any)["lon"] = -181 }),
			want: ErrInvalid, message: `field "geo.lon": "-181"`},
		{name: "required time", typ: TypeTokenIssued, mutate: setData(func(m map[string]any) { delete(m, "expires_at") }), want: ErrInvalid, message: `field "expires_at" is required`},
		{name: "too many scopes", typ: TypeTokenIssued, limits: ptr(smallLimits(func(l *Limits) { l.MaxListItems = 1 })), mutate: func(*Envelope) {},
			want: ErrTooLarge, message: `field "scopes" has 2 items, more than the limit of 1`},
		{name: "empty scope", typ: TypeTokenIssued, mutate: setData(func(m map[string]any) { m["scopes"] = []string{""} }), want: ErrInvalid, message: `field "scopes[0]" is required`},
		{name: "negative count", typ: TypeAccountLocked, mutate: setData(func(m map[string]any) { m["failed_attempts"] = -1 }), want: ErrInvalid, message: `field "failed_attempts": "-1" must not be negative`},
		{name: "attempt zero", typ: TypeTaskSubmitted, mutate: setData(func(m map[string]any) { m["attempt"] = 0 }), want: ErrInvalid, message: `task.submitted: field "attempt": "0" must be positive`},
		{name: "retry is attempt 1", typ: TypeTaskRetried, mutate: setData(func(m map[string]any) { m["attempt"] = 1 }), want: ErrInvalid, message: "must be at least 2 for a retry"},
		{name: "finished before started", typ: TypeTaskSucceeded, mutate: setData(func(m map[string]any) { m["finished_at"] = "2025-11-20T09:00:00Z" }),
			want: ErrInvalid, message: `field "finished_at": "2025-11-20T09:00:00Z" is before "started_at"`},
		{name: "negative duration", typ: TypeTaskFailed, mutate: setData(func(m map[string]any) { m["duration_ms"] = -5 }), want: ErrInvalid, message: `field "duration_ms": "-5"`},
		{name: "error class missing", typ: TypeTaskFailed, mutate: setData(func(m map[string]any) { delete(m, "error_class") }), want: ErrInvalid, message: `field "error_class" is required`},
		{name: "timeout zero", typ: TypeTaskTimedOut, mutate: setData(func(m map[string]any) { m["timeout_ms"] = 0 }), want: ErrInvalid, message: `field "timeout_ms": "0" must be positive`},
		{name: "metric name", typ: TypeMetric, mutate: setData(func(m map[string]any) { m["name"] = "9 lives" }), want: ErrInvalid, message: `field "name": "9 lives" is not a valid metric name`},
		{name: "metric kind", typ: TypeMetric, mutate: setData(func(m map[string]any) { m["kind"] = "histogram" }), want: ErrInvalid, message: `field "kind": "histogram"`},
		{name: "too many labels", typ: TypeMetric, limits: ptr(smallLimits(func(l *Limits) { l.MaxMapEntries = 1 })), mutate: func(*Envelope) {},
			want: ErrTooLarge, message: `field "labels" has 2 entries, more than the limit of 1`},
		{name: "empty label key", typ: TypeMetric, mutate: setData(func(m map[string]any) { m["labels"] = map[string]string{"": "v"} }), want: ErrInvalid, message: `field "labels" has an empty key`},
		{name: "label value too long", typ: TypeMetric, limits: ptr(smallLimits(func(l *Limits) { l.MaxTextLen = 300 })),
			mutate: setData(func(m map[string]any) { m["labels"] = map[string]string{"k": strings.Repeat("v", 301)} }), want: ErrTooLarge, message: `field "labels[\"k\"]"`},
		{name: "log body too long", typ: TypeLog, limits: ptr(smallLimits(func(l *Limits) { l.MaxTextLen = 300 })),
			mutate: setData(func(m map[string]any) { m["body"] = strings.Repeat("b", 301) }), want: ErrTooLarge, message: `field "body"`},
		{name: "log severity", typ: TypeLog, mutate: setData(func(m map[string]any) { m["severity"] = "loud" }), want: ErrInvalid, message: `field "severity": "loud"`},
		{name: "heartbeat interval", typ: TypeHeartbeat, mutate: setData(func(m map[string]any) { m["interval_ms"] = 0 }), want: ErrInvalid, message: `field "interval_ms": "0" must be positive`},
		{name: "host missing", typ: TypeHeartbeat, mutate: setData(func(m map[string]any) { delete(m, "host") }), want: ErrInvalid, message: `telemetry.heartbeat: field "host" is required`},
		{name: "anomaly kind not a token", typ: TypeAnomaly, mutate: setData(func(m map[string]any) { m["kind"] = "Brute Force" }), want: ErrInvalid, message: `field "kind": "Brute Force" must be lower-case`},
		{name: "anomaly family", typ: TypeAnomaly, mutate: setData(func(m map[string]any) { m["family"] = "billing" }), want: ErrInvalid, message: `field "family": "billing"`},
		{name: "anomaly negative score", typ: TypeAnomaly, mutate: setData(func(m map[string]any) { m["score"] = -0.5 }), want: ErrInvalid, message: `field "score": "-0.5" must not be negative`},
		{name: "anomaly window reversed", typ: TypeAnomaly, mutate: setData(func(m map[string]any) { m["window_end"] = "2025-11-20T09:00:00Z" }), want: ErrInvalid, message: `field "window_end"`},
		{name: "anomaly related id", typ: TypeAnomaly, mutate: setData(func(m map[string]any) { m["related_event_ids"] = []string{"x"} }), want: ErrInvalid, message: `field "related_event_ids[0]": "x" is not a canonical UUID`},
		{name: "anomaly duplicate related id", typ: TypeAnomaly, mutate: setData(func(m map[string]any) { m["related_event_ids"] = []string{fixtureID(1), fixtureID(1)} }),
			want: ErrInvalid, message: "is listed twice"},
		{name: "anomaly entity", typ: TypeAnomaly, mutate: setData(func(m map[string]any) { m["entity"] = map[string]any{"type": "ip"} }), want: ErrInvalid, message: `field "entity.id" is required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := sampleEvent(tt.typ)
			tt.mutate(&env)
			now, limits := t0, DefaultLimits()
			if !tt.now.IsZero() {
				now = time.Time{}
				env.Time = tt.now
			}
			if tt.limits != nil {
				limits = *tt.limits
			}
			err := Validate(env, now, limits)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			assertErr(t, err, tt.want, tt.message)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error %q has no *FieldError", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestValidateReportsEveryField(t *testing.T) {
	env := sampleEvent(TypeLoginFailed)
	env.Tenant = ""
	setData(func(m map[string]any) { m["source_ip"] = "x"; m["method"] = "y"; delete(m, "user") })(&env)
	err := Validate(env, t0, DefaultLimits())
	for _, want := range []string{`"tenant"`, `"source_ip"`, `"method"`, `"user"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

func TestValidateRejectsBadLimits(t *testing.T) {
	err := Validate(sampleEvent(TypeLogout), t0, Limits{})
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("want a configuration error that is not ErrInvalid, got %v", err)
	}
}

func TestPayloadValidateNonFinite(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1)} {
		p := MetricSample{TelemetrySource: TelemetrySource{Host: "h", Service: "s"}, Name: "m", Value: f}
		assertErr(t, p.Validate(), ErrInvalid, "is not a finite number")
		if _, err := NewEvent("//t", "acme", p); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewEvent(%v) = %v, want ErrInvalid", f, err)
		}
	}
}

func TestFieldErrorTruncatesValue(t *testing.T) {
	fe := &FieldError{Scope: "s", Field: "f", Value: strings.Repeat("a", 1000), Reason: "is bad"}
	if n := len(fe.Error()); n > 120 {
		t.Errorf("message is %d bytes, want it bounded: %s", n, fe)
	}
	if !errors.Is(fe, ErrInvalid) {
		t.Error("FieldError without Kind must still be ErrInvalid")
	}
}

func TestPayloadValidateUTF8(t *testing.T) {
	// JSON decoding replaces invalid UTF-8, so only Go values can carry it.
	p := Logout{User: "\xff\xfe"}
	assertErr(t, p.Validate(), ErrInvalid, `auth.logout: field "user": "\xff\xfe" is not valid UTF-8`)
}

// TestValidateReportsAttributeOnce: a missing or bad type or schema version
// is one error naming the attribute, not that error plus a decode failure
// that says the same thing.
func TestValidateReportsAttributeOnce(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Envelope)
		field  string
		want   error
	}{
		{"schemaversion missing", func(e *Envelope) { e.SchemaVersion = "" }, "schemaversion", ErrUnsupportedVersion},
		{"schemaversion too long", func(e *Envelope) { e.SchemaVersion = strings.Repeat("1", 257) }, "schemaversion", ErrTooLarge},
		{"schemaversion unknown", func(e *Envelope) { e.SchemaVersion = "2" }, "schemaversion", ErrUnsupportedVersion},
		{"type missing", func(e *Envelope) { e.Type = "" }, "type", ErrUnknownType},
		{"type unknown", func(e *Envelope) { e.Type = "io.tributary.auth.nope" }, "type", ErrUnknownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := sampleEvent(TypeLogout)
			tt.mutate(&env)
			err := Validate(env, t0, DefaultLimits())
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v is not %v", err, tt.want)
			}
			var n int
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				if fe, ok := e.(*FieldError); ok && fe.Field == tt.field {
					n++
				}
			}
			if n != 1 {
				t.Errorf("field %q reported %d times: %v", tt.field, n, err)
			}
		})
	}
}

// TestSpecVersionRule: struct tags cannot name constants, so the tag on
// Envelope.SpecVersion repeats SpecVersion; this keeps the two equal.
func TestSpecVersionRule(t *testing.T) {
	for _, f := range envelopeFields {
		if f.Name == "specversion" && f.Rule.Const != SpecVersion {
			t.Errorf("specversion rule const %q, want SpecVersion %q", f.Rule.Const, SpecVersion)
		}
	}
}
