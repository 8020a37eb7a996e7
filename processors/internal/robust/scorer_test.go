package robust

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBaseline(t *testing.T) {
	var c Config
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var b Baseline
	for range 500 {
		b.Learn(&c, 10+rng.NormFloat64())
	}
	if math.Abs(b.Level-10) > 0.3 || math.Abs(b.Sigma(&c)-1) > 0.3 {
		t.Fatalf("level %.2f sigma %.2f, want about 10 and 1", b.Level, b.Sigma(&c))
	}
	if z := b.Z(&c, 16); z < 4 {
		t.Errorf("z of a 6-sigma point = %.2f", z)
	}
	// One huge outlier moves the level by at most Alpha·Clip sigmas.
	before := b.Level
	b.Learn(&c, 1e6)
	if d := b.Level - before; d > c.Alpha*c.Clip*1.5 {
		t.Errorf("an outlier moved the level by %.2f", d)
	}
	// A lasting shift is learned: the spread does not ratchet down.
	for range 300 {
		b.Learn(&c, 30+rng.NormFloat64())
	}
	if math.Abs(b.Level-30) > 1 {
		t.Errorf("after a lasting shift to 30 the level is %.2f", b.Level)
	}
	if z := b.Z(&c, 30); math.Abs(z) > 1 {
		t.Errorf("the new normal still scores z %.2f", z)
	}
}

func TestValidate(t *testing.T) {
	c := Config{Alpha: 2, ScaleAlpha: -1, Clip: -1}
	if err := c.Validate(); err == nil {
		t.Fatal("bad config accepted")
	}
}
