package schemas

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestNewEventStampsAttributes(t *testing.T) {
	before := time.Now()
	env, err := NewEvent("//tributary/auth", "acme", LoginFailed{
		AuthOrigin: AuthOrigin{User: "u-1", SourceIP: "192.0.2.1"}, Method: MethodPassword, Reason: ReasonUnknownUser,
	})
	if err != nil {
		t.Fatal(err)
	}
	id, err := uuid.Parse(env.ID)
	if err != nil || id.Version() != 7 {
		t.Errorf("id %q is not a UUIDv7 (%v)", env.ID, err)
	}
	if env.Time.Before(before) || env.Time.Location() != time.UTC {
		t.Errorf("time %v is not a UTC now", env.Time)
	}
	want := Envelope{ID: env.ID, Source: "//tributary/auth", Type: TypeLoginFailed, SpecVersion: "1.0", Time: env.Time,
		DataContentType: "application/json", Tenant: "acme", PartitionKey: "u-1", SchemaVersion: "1", Data: env.Data}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("got %+v\nwant %+v", env, want)
	}
}

func TestNewEventPartitionKey(t *testing.T) {
	tests := []struct {
		name string
		p    Payload
		opts []Option
		want string
	}{
		{"auth is keyed by user", samples()[0], nil, "u-1001"},
		{"task is keyed by task id", TaskStarted{TaskRef: TaskRef{TaskID: "t-9", TaskType: "x", Queue: "q", Attempt: 1}, Worker: "w", StartedAt: t0}, nil, "t-9"},
		{"telemetry is keyed by host", Heartbeat{TelemetrySource: TelemetrySource{Host: "db-2", Service: "pg"}, IntervalMS: 1}, nil, "db-2"},
		{"anomaly is keyed by entity", Anomaly{Kind: "k", Family: FamilyTelemetry, Entity: Entity{Type: "host_metric", ID: "db-2/cpu"},
			Severity: SeverityLow, WindowStart: t0, WindowEnd: t0, Detector: "d"}, nil, "host_metric:db-2/cpu"},
		{"option overrides", Heartbeat{TelemetrySource: TelemetrySource{Host: "db-2", Service: "pg"}, IntervalMS: 1}, []Option{WithPartitionKey("k")}, "k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := NewEvent("//t", "acme", tt.p, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if env.PartitionKey != tt.want {
				t.Errorf("partition key %q, want %q", env.PartitionKey, tt.want)
			}
		})
	}
}

// unregistered is a Payload the registry does not know.
type unregistered struct{}

func (unregistered) Validate() error   { return nil }
func (unregistered) EventType() string { return "io.tributary.auth.unregistered" }

func TestNewEventRejects(t *testing.T) {
	tests := []struct {
		name string
		p    Payload
		opts []Option
		want error
	}{
		{"nil payload", nil, nil, ErrInvalid},
		{"unregistered type", unregistered{}, nil, ErrUnknownType},
		{"invalid payload", Logout{}, nil, ErrInvalid},
		{"bad id option", Logout{User: "u"}, []Option{WithID("nope")}, ErrInvalid},
		{"bad traceparent option", Logout{User: "u"}, []Option{WithTraceParent("nope")}, ErrInvalid},
		{"limits option", Logout{User: "u", SessionID: strings.Repeat("s", 20)},
			[]Option{WithLimits(smallLimits(func(l *Limits) { l.MaxStringLen = 10 }))}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEvent("//t", "acme", tt.p, tt.opts...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	for _, info := range Types() {
		env := sampleEvent(info.Type)
		md := env.Metadata()
		if md[MetaTime] != "2025-11-20T10:00:00.123456789Z" || md[MetaContentType] != "application/json" {
			t.Errorf("%s: metadata %v", info.Short(), md)
		}
		md["_watermill_message_uuid"] = "ignored"
		got, p, err := Decode(md, env.Data, t0, DefaultLimits())
		if err != nil {
			t.Fatalf("%s: %v", info.Short(), err)
		}
		if !reflect.DeepEqual(got, env) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", info.Short(), got, env)
		}
		if reflect.TypeOf(p) != info.GoType {
			t.Errorf("%s: decoded %T, want %v", info.Short(), p, info.GoType)
		}
	}
}

func TestMetadataOmitsEmpty(t *testing.T) {
	md := Envelope{ID: "x"}.Metadata()
	if len(md) != 1 {
		t.Errorf("got %v, want only %s", md, MetaID)
	}
}

func TestEnvelopeFromMetadataBadTime(t *testing.T) {
	_, err := EnvelopeFromMetadata(map[string]string{MetaTime: "yesterday"}, nil)
	assertErr(t, err, ErrMalformed, `envelope: field "time": "yesterday" is not an RFC 3339 timestamp`)
}

func TestStructuredRoundTrip(t *testing.T) {
	env := sampleEvent(TypeAnomaly)
	b, err := MarshalStructured(env)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalStructured(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, env) {
		t.Errorf("round trip\n got %+v\nwant %+v", got, env)
	}
}

func TestStructuredRejects(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
		message  string
	}{
		{"not JSON", `{`, ErrMalformed, "unmarshal structured event"},
		{"bad time", `{"time":"now"}`, ErrMalformed, "unmarshal structured event"},
		{"bad time names the field", `{"id":"x","time":"now"}`, ErrMalformed, `envelope: field "time" does not decode`},
		{"wrong type names the field", `{"tenant":7}`, ErrMalformed, `envelope: field "tenant" does not decode`},
		{"base64 data", `{"data_base64":"AAAA"}`, ErrInvalid, `field "data_base64" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalStructured([]byte(tt.in))
			assertErr(t, err, tt.want, tt.message)
		})
	}
	if _, err := MarshalStructured(Envelope{Data: []byte("{nope")}); !errors.Is(err, ErrMalformed) {
		t.Errorf("MarshalStructured with bad data: %v, want ErrMalformed", err)
	}
}

func TestDecodeDataTypeSwitch(t *testing.T) {
	p, err := sampleEvent(TypeTaskFailed).DecodeData()
	if err != nil {
		t.Fatal(err)
	}
	switch v := p.(type) {
	case TaskFailed:
		if v.ErrorClass != "timeout" {
			t.Errorf("error class %q", v.ErrorClass)
		}
	default:
		t.Fatalf("decoded %T, want TaskFailed value", p)
	}
}

func TestRegistry(t *testing.T) {
	seen := map[Family]int{}
	for _, info := range Types() {
		if info.Type != TypePrefix+info.Short() || info.SchemaVersion == "" {
			t.Errorf("bad registration %+v", info)
		}
		if FamilyOf(info.Type) != info.Family {
			t.Errorf("FamilyOf(%s) = %s", info.Type, FamilyOf(info.Type))
		}
		seen[info.Family]++
	}
	want := map[Family]int{FamilyAuth: 11, FamilyTask: 7, FamilyTelemetry: 3, FamilyAnomaly: 1}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("types per family %v, want %v", seen, want)
	}
	for in, want := range map[string]Family{
		"io.tributary.task.new_thing": FamilyTask, "io.tributary.billing.x": FamilyUnknown, "com.example.x": FamilyUnknown, "": FamilyUnknown,
	} {
		if got := FamilyOf(in); got != want {
			t.Errorf("FamilyOf(%q) = %q, want %q", in, got, want)
		}
	}
}
