package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/<type>.json from samples_test.go")

// TestFixtures checks that testdata holds one valid structured event per
// registered type, and that it decodes to the sample it was made from.
func TestFixtures(t *testing.T) {
	if len(samples()) != len(Types()) {
		t.Fatalf("samples_test.go has %d samples for %d registered types", len(samples()), len(Types()))
	}
	for _, info := range Types() {
		t.Run(info.Short(), func(t *testing.T) {
			path := filepath.Join("testdata", info.Type+".json")
			want := sampleEvent(info.Type)
			if *update {
				b, err := MarshalStructured(want)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := json.Indent(&buf, b, "", "  "); err != nil {
					t.Fatal(err)
				}
				buf.WriteByte('\n')
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestFixtures -update)", err)
			}
			env, err := UnmarshalStructured(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(env, env.Time, DefaultLimits()); err != nil {
				t.Fatalf("fixture is invalid: %v", err)
			}
			got, err := env.DecodeData()
			if err != nil {
				t.Fatal(err)
			}
			wantP, _ := want.DecodeData()
			if !reflect.DeepEqual(got, wantP) {
				t.Fatalf("fixture payload differs from sample (run -update):\n got %#v\nwant %#v", got, wantP)
			}
		})
	}
}

// TestInvalidFixtures pins what each invalid fixture must fail with, so the
// fixtures stay useful to other modules' tests.
func TestInvalidFixtures(t *testing.T) {
	tests := []struct {
		file    string
		want    error
		message string
	}{
		{"bad_source_ip.json", ErrInvalid, `auth.login.failed: field "source_ip": "999.1.1.1" is not an IP address`},
		{"unknown_type.json", ErrUnknownType, `field "type": "io.tributary.auth.login.teleported" has no registered payload`},
		{"missing_tenant.json", ErrInvalid, `envelope: field "tenant" is required`},
		{"uuid_v4_id.json", ErrInvalid, `want version 7`},
		{"malformed_data.json", ErrMalformed, `telemetry.metric: field "value" does not decode`},
		{"bad_enum.json", ErrInvalid, `field "severity": "catastrophic" is not one of`},
		{"future_time.json", ErrClockSkew, `after now`},
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "invalid"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(tests) {
		t.Errorf("testdata/invalid has %d files, the table pins %d", len(entries), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "invalid", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			env, err := UnmarshalStructured(b)
			if err == nil {
				err = Validate(env, t0, DefaultLimits())
			}
			assertErr(t, err, tt.want, tt.message)
		})
	}
}

func assertErr(t *testing.T, err, want error, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v containing %q", want, message)
	}
	if !errors.Is(err, want) {
		t.Errorf("error %q is not %v", err, want)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error %q is not ErrInvalid, so a consumer would retry it", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte(message)) {
		t.Errorf("error %q does not contain %q", err, message)
	}
}
