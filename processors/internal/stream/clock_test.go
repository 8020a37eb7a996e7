package stream

import (
	"testing"
	"time"
)

func TestClocksPerTenant(t *testing.T) {
	c := Clocks{Lateness: 10 * time.Second}
	if c.Observe("a", at(1000)) || c.Observe("b", at(0)) {
		t.Fatal("first events late")
	}
	if !c.Observe("a", at(0)) {
		t.Error("tenant a's event 1000 s behind its own clock not late")
	}
	if c.Observe("b", at(-5)) {
		t.Error("tenant b's event within its lateness judged late by tenant a's clock")
	}
	if got := c.KeyWatermark(Key("b", "user")); !got.Equal(at(-10)) {
		t.Errorf("KeyWatermark(b) = %s, want %s", got, at(-10))
	}
	if got := c.Clamp(at(100)); len(got) != 1 || got[0] != "a" {
		t.Errorf("Clamp = %v, want [a]", got)
	}
	if c.Observe("a", at(0)) {
		t.Error("tenant a still late after its clock was clamped")
	}
	c.Observe("c", at(10_000))
	c.Forget(time.Hour)
	if _, ok := c.T["a"]; ok {
		t.Error("tenant a, 10,000 s behind the latest tenant, not forgotten with idle 1h")
	}
	if _, ok := c.T["c"]; !ok {
		t.Error("the latest tenant forgotten")
	}
}

func TestExpireByTenant(t *testing.T) {
	k := NewKeyed[int](0, time.Minute)
	k.Get(Key("a", "x"), at(0))
	k.Get(Key("b", "x"), at(0))
	wm := map[string]time.Time{"a": at(3600)}
	k.ExpireBy(func(key string) time.Time { tenant, _ := SplitKey(key); return wm[tenant] })
	if _, ok := k.Peek(Key("a", "x")); ok {
		t.Error("tenant a's idle key kept")
	}
	if _, ok := k.Peek(Key("b", "x")); !ok {
		t.Error("tenant b's key expired by tenant a's time")
	}
	var seen []string
	k.EachTenant("b", func(key string, _ *int) { seen = append(seen, key) })
	if len(seen) != 1 || seen[0] != Key("b", "x") {
		t.Errorf("EachTenant(b) = %q", seen)
	}
}
