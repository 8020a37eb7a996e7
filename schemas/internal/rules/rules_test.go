package rules

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

type color string

func (color) EnumValues() []string { return []string{"red", "blue"} }

type inner struct {
	N     int       `json:"n" check:"min=1"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end" check:"notbefore=start"`
}

type outer struct {
	inner `check:"n.min=2,n.why=for outer"`
	Name  string            `json:"name" check:"required,token"`
	Color color             `json:"color"`
	Tags  []string          `json:"tags,omitempty" check:"required,unique"`
	Meta  map[string]string `json:"meta"`
	Geo   *struct {
		Lat float64 `json:"lat" check:"min=-90,max=90"`
	} `json:"geo,omitempty"`
	Skip   string `json:"-"`
	hidden string
}

func TestPlan(t *testing.T) {
	fs, err := Plan(reflect.TypeFor[outer]())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]Field{}
	for _, f := range fs {
		names = append(names, f.Name)
		byName[f.Name] = f
	}
	if want := []string{"n", "start", "end", "name", "color", "tags", "meta", "geo"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("fields %v, want %v (embedded flattened, skipped and unexported left out)", names, want)
	}
	if n := byName["n"]; *n.Rule.Min != 2 || n.OutOfBounds(1) != "must be at least 2 for outer" {
		t.Errorf("refinement not applied: min %v, %q", *n.Rule.Min, n.OutOfBounds(1))
	}
	if e := byName["end"]; !reflect.DeepEqual(e.NotBeforeIndex, []int{0, 1}) || !reflect.DeepEqual(e.Index, []int{0, 2}) {
		t.Errorf("end: index %v, not-before index %v", e.Index, e.NotBeforeIndex)
	}
	if c := byName["color"]; !reflect.DeepEqual(c.Rule.Enum, []string{"red", "blue"}) {
		t.Errorf("enum from EnumValues: %v", c.Rule.Enum)
	}
	if g := byName["geo"]; g.Kind != OptionalObject || len(g.Fields) != 1 || g.Fields[0].OutOfBounds(91) != "is outside [-90, 90]" {
		t.Errorf("geo: %+v", g)
	}
	if k := byName["tags"].Keywords(Bounds{String: 10, Text: 20, ListItems: 3, MapEntries: 4}); *k.MaxItems != 3 || !k.UniqueItems ||
		*k.Items.MinLength != 1 || *k.Items.MaxLength != 10 {
		t.Errorf("list keywords %+v", k)
	}
}

func TestSchemaRequired(t *testing.T) {
	type doc struct {
		A string    `json:"a" check:"required"`
		B string    `json:"b"`
		C int       `json:"c" check:"min=1"`  // zero is rejected: absence is too
		D int       `json:"d" check:"min=0"`  // zero is fine: absence is too
		E float64   `json:"e" check:"max=-1"` // zero is rejected
		F time.Time `json:"f" check:"required"`
		G struct {
			X string `json:"x" check:"required"`
		} `json:"g"`
		H []string `json:"h" check:"required"` // applies to items
	}
	fs, err := Plan(reflect.TypeFor[doc]())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		if f.SchemaRequired() {
			got = append(got, f.Name)
		}
	}
	if want := []string{"a", "c", "e", "f", "g"}; !reflect.DeepEqual(got, want) {
		t.Errorf("required %v, want %v", got, want)
	}
}

func TestPlanRejectsMeaninglessRules(t *testing.T) {
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"unknown option", reflect.TypeFor[struct {
			A string `json:"a" check:"requird"`
		}](), `unknown check option "requird"`},
		{"format on a number", reflect.TypeFor[struct {
			A int `json:"a" check:"ip"`
		}](), "string options on a non-string field"},
		{"bound on a string", reflect.TypeFor[struct {
			A string `json:"a" check:"min=1"`
		}](), "numeric bounds on a non-numeric field"},
		{"required number", reflect.TypeFor[struct {
			A int `json:"a" check:"required"`
		}](), "say min=1 instead"},
		{"bad number", reflect.TypeFor[struct {
			A int `json:"a" check:"min=x"`
		}](), "not a number"},
		{"reversed bounds", reflect.TypeFor[struct {
			A int `json:"a" check:"min=2,max=1"`
		}](), "min 2 above max 1"},
		{"not-before a string", reflect.TypeFor[struct {
			A string    `json:"a"`
			B time.Time `json:"b" check:"notbefore=a"`
		}](), "must name a sibling time"},
		{"refinement of a missing field", reflect.TypeFor[struct {
			inner `check:"nope.min=1"`
		}](), `names "nope"`},
		{"unsupported type", reflect.TypeFor[struct {
			A []int `json:"a"`
		}](), "has no rules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Plan(tt.typ)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		format, value, want string // want "" means valid
	}{
		{"token", "acme-1_b", ""},
		{"token", "Acme", "must be lower-case letters"},
		{"ip", "2001:db8::1", ""},
		{"ip", "999.1.1.1", "is not an IP address"},
		{"uuid7", "019aa0b0-0000-7000-8000-000000000001", ""},
		{"uuid7", "9b2f4c1e-5d6a-4b7c-8d9e-0f1a2b3c4d5e", "is a version 4 UUID, want version 7"},
		{"uuid7", "019AA0B0-0000-7000-8000-000000000001", "is not a canonical UUID"},
		{"uri", "//tributary/auth", ""},
		{"uri", "my service", "is not a URI reference"},
		{"uri", "%zz", "is not a URI reference"},
		{"jsonmedia", "application/json; charset=utf-8", ""},
		{"jsonmedia", "text/plain", `is not "application/json"`},
		{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ""},
		{"traceparent", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later", ""},
		{"traceparent", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "forbidden version ff"},
		{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", "trailing fields"},
		{"traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "all-zero trace id"},
		{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "all-zero parent id"},
	}
	for _, tt := range tests {
		t.Run(tt.format+" "+tt.value, func(t *testing.T) {
			got := Formats[tt.format].Check(tt.value)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Check(%q) = %q, want %q", tt.value, got, tt.want)
			}
		})
	}
}
