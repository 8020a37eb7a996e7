package bus

import (
	"testing"
	"time"
)

func TestGate(t *testing.T) {
	var g Gate
	if !g.Enter() {
		t.Fatal("a new gate refused a call")
	}
	closed := make(chan bool)
	go func() { closed <- g.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned while a call was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	g.Leave()
	if !<-closed {
		t.Fatal("first Close reported the gate already closed")
	}
	if g.Enter() {
		t.Fatal("a closed gate admitted a call")
	}
	if g.Close() {
		t.Fatal("second Close reported it closed the gate")
	}
}
