package bus

import "sync"

// Gate admits calls until it is closed and lets Close wait for the ones it
// admitted, so a transport's Close never tears down a writer under a
// publish in flight. The zero value is open.
type Gate struct {
	mu       sync.RWMutex
	closed   bool
	inflight sync.WaitGroup
}

// Enter admits one call; it returns false once the gate is closed. Every
// admitted call must call Leave.
func (g *Gate) Enter() bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return false
	}
	g.inflight.Add(1)
	return true
}

// Leave ends an admitted call.
func (g *Gate) Leave() { g.inflight.Done() }

// Close stops admitting calls and waits for the admitted ones. It returns
// false if the gate was already closed, so Close of the owner runs once.
func (g *Gate) Close() bool {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.closed = true
	g.mu.Unlock()
	g.inflight.Wait()
	return true
}
