package stream

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func TestWindowDensest(t *testing.T) {
	tests := []struct {
		name  string
		hits  []int // seconds, in arrival order
		probe int
		size  time.Duration
		want  int
	}{
		{"in order", []int{0, 1, 2, 3, 100}, 3, 10 * time.Second, 4},
		{"late event completes an earlier burst", []int{5, 6, 7, 100, 4}, 4, 10 * time.Second, 4},
		{"window excludes far hits", []int{0, 20, 40}, 20, 10 * time.Second, 1},
		{"probe alone", []int{50}, 50, time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w Window
			for i, s := range tt.hits {
				w.Add(Hit{T: at(s), ID: string(rune('a' + i))}, 0)
			}
			if got := len(w.Densest(at(tt.probe), tt.size)); got != tt.want {
				t.Fatalf("densest = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestWindowDedupAndCap(t *testing.T) {
	var w Window
	if !w.Add(Hit{T: at(1), ID: "x"}, 3) || w.Add(Hit{T: at(1), ID: "x"}, 3) {
		t.Fatal("duplicate id accepted")
	}
	for i := range 5 {
		w.Add(Hit{T: at(10 + i)}, 3)
	}
	if len(w.Hits) != 3 || !w.Hits[0].T.Equal(at(12)) {
		t.Fatalf("cap kept %v", w.Hits)
	}
	w.Prune(at(14))
	if len(w.Hits) != 1 {
		t.Fatalf("prune kept %d", len(w.Hits))
	}
}

func TestClockLateness(t *testing.T) {
	c := Clock{Lateness: 5 * time.Second}
	for _, tt := range []struct {
		s    int
		late bool
	}{{10, false}, {7, false}, {20, false}, {16, false}, {14, true}} {
		if got := c.Observe(at(tt.s)); got != tt.late {
			t.Fatalf("event at %d: late=%v, want %v", tt.s, got, tt.late)
		}
	}
	if !c.Watermark().Equal(at(15)) {
		t.Fatalf("watermark %v", c.Watermark())
	}
}

func TestKeyedBounds(t *testing.T) {
	k := NewKeyed[int](10, time.Minute)
	for i := range 25 {
		*k.Get(string(rune('a'+i)), at(i)) = i
	}
	if k.Len() > 10 {
		t.Fatalf("holds %d keys, max 10", k.Len())
	}
	if _, ok := k.Peek("y"); !ok {
		t.Fatal("most recent key evicted")
	}
	k.Expire(at(24 + 61))
	if k.Len() != 0 {
		t.Fatalf("idle keys kept: %d", k.Len())
	}
}
