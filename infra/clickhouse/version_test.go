package clickhouse

import "testing"

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    [3]int
		wantErr bool
	}{
		{in: "18.16.1", want: [3]int{18, 16, 1}},
		{in: "25.3.2.39", want: [3]int{25, 3, 2}},
		{in: "21.8.15.7-lts", want: [3]int{21, 8, 15}},
		{in: " 20.1 ", want: [3]int{20, 1, 0}},
		{in: "20", wantErr: true},
		{in: "x.1", wantErr: true},
		{in: "", wantErr: true},
	} {
		v, err := ParseVersion(tc.in)
		if tc.wantErr {
			if err == nil {
				t.Errorf("ParseVersion(%q) = %+v, want error", tc.in, v)
			}
			continue
		}
		if err != nil || [3]int{v.Major, v.Minor, v.Patch} != tc.want {
			t.Errorf("ParseVersion(%q) = %+v, %v; want %v", tc.in, v, err, tc.want)
		}
	}
}

func TestVersionCompare(t *testing.T) {
	v := func(s string) Version {
		t.Helper()
		x, err := ParseVersion(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"18.16.1", "20.1", -1},
		{"20.1.0", "20.1", 0},
		{"25.3.2.39", "20.1", 1},
		{"20.10.1", "20.9.9", 1},
		{"21.1.1", "21.1.2", -1},
	} {
		if got := v(tc.a).Compare(v(tc.b)); got != tc.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := v(tc.a).AtLeast(v(tc.b)); got != (tc.want >= 0) {
			t.Errorf("%s.AtLeast(%s) = %v", tc.a, tc.b, got)
		}
	}
}
