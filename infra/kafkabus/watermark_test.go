package kafkabus

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestWatermark(t *testing.T) {
	// Steps are "d<offset>" (deliver) or "a<offset>" (ack); after all steps
	// the commit offset and pending count must match. wantErr names the
	// step that must fail (1-based), 0 for none.
	tests := []struct {
		name        string
		start       int64
		steps       string
		wantCommit  int64
		wantPending int
		wantErr     int
	}{
		{name: "nothing delivered commits the start", start: 7, steps: "", wantCommit: 7},
		{name: "delivered not acked holds the start", start: 0, steps: "d0", wantCommit: 0, wantPending: 1},
		{name: "single ack moves past it", start: 0, steps: "d0 a0", wantCommit: 1},
		{name: "in-order acks", start: 10, steps: "d10 d11 d12 a10 a11 a12", wantCommit: 13},
		{name: "hole blocks the watermark", start: 0, steps: "d0 d1 d2 a0 a2", wantCommit: 1, wantPending: 1},
		{name: "filling the hole jumps ahead", start: 0, steps: "d0 d1 d2 a0 a2 a1", wantCommit: 3},
		{name: "reverse acks", start: 0, steps: "d0 d1 d2 d3 a3 a2 a1", wantCommit: 0, wantPending: 1},
		{name: "reverse acks complete", start: 0, steps: "d0 d1 d2 d3 a3 a2 a1 a0", wantCommit: 4},
		{name: "offset gaps (compaction) are skipped", start: 5, steps: "d5 d9 d20 a5 a9", wantCommit: 20, wantPending: 1},
		{name: "gap after all acked commits past last", start: 5, steps: "d5 d9 a9 a5", wantCommit: 10},
		{name: "first message above start", start: 0, steps: "d42", wantCommit: 42, wantPending: 1},
		{name: "deliver out of order fails", start: 0, steps: "d3 d2", wantErr: 2, wantCommit: 3, wantPending: 1},
		{name: "deliver below start fails", start: 10, steps: "d9", wantErr: 1, wantCommit: 10},
		{name: "redeliver same offset fails", start: 0, steps: "d0 d0", wantErr: 2, wantCommit: 0, wantPending: 1},
		{name: "ack unknown fails", start: 0, steps: "d0 a1", wantErr: 2, wantCommit: 0, wantPending: 1},
		{name: "double ack fails", start: 0, steps: "d0 d1 a1 a1", wantErr: 4, wantCommit: 0, wantPending: 1},
		{name: "ack after it left the window fails", start: 0, steps: "d0 a0 a0", wantErr: 3, wantCommit: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWatermark(tt.start)
			for i, step := range strings.Fields(tt.steps) {
				var off int64
				if _, err := fmt.Sscanf(step[1:], "%d", &off); err != nil {
					t.Fatalf("bad step %q", step)
				}
				var err error
				switch step[0] {
				case 'd':
					err = w.deliver(off)
				case 'a':
					err = w.ack(off)
				}
				if wantFail := i+1 == tt.wantErr; (err != nil) != wantFail {
					t.Fatalf("step %d (%s): err = %v, want error %v", i+1, step, err, wantFail)
				}
			}
			if got := w.commitOffset(); got != tt.wantCommit {
				t.Errorf("commitOffset() = %d, want %d", got, tt.wantCommit)
			}
			if got := w.pending(); got != tt.wantPending {
				t.Errorf("pending() = %d, want %d", got, tt.wantPending)
			}
		})
	}
}

// TestWatermarkRandomAcks checks the invariant on random ack orders: the
// commit offset is always the smallest un-acked delivered offset, so it
// never passes an un-acked message and never goes backwards.
func TestWatermarkRandomAcks(t *testing.T) {
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, seed))
		w := newWatermark(100)
		var offsets []int64
		next := int64(100)
		for range 200 {
			next += int64(r.IntN(3)) // gaps of 0..2
			if err := w.deliver(next); err != nil {
				t.Fatal(err)
			}
			offsets = append(offsets, next)
			next++
		}
		r.Shuffle(len(offsets), func(i, j int) { offsets[i], offsets[j] = offsets[j], offsets[i] })
		acked := map[int64]bool{}
		last := w.commitOffset()
		for _, off := range offsets {
			if err := w.ack(off); err != nil {
				t.Fatal(err)
			}
			acked[off] = true
			got := w.commitOffset()
			if got < last {
				t.Fatalf("seed %d: commit offset went back from %d to %d", seed, last, got)
			}
			for _, o := range offsets {
				if o < got && !acked[o] {
					t.Fatalf("seed %d: commit offset %d passes un-acked %d", seed, got, o)
				}
			}
			last = got
		}
		if got := w.commitOffset(); got != next {
			t.Fatalf("seed %d: all acked: commit offset %d, want %d", seed, got, next)
		}
	}
}

// Delivering and acking interleaved, in and out of order, across many
// compactions of the dropped prefix: the commit point is always the oldest
// un-acked offset, and the window every offset not below it.
func TestWatermarkCompaction(t *testing.T) {
	w := newWatermark(100)
	acked := map[int64]bool{}
	next := int64(100)
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 20000 {
		if next-100 < 5000 && (step%3 != 0 || w.window() == 0) {
			if err := w.deliver(next); err != nil {
				t.Fatal(err)
			}
			next++
			continue
		}
		if w.window() == 0 {
			break // all delivered and acked
		}
		// Ack mostly the oldest, sometimes a later one.
		var off int64
		for off = w.commitOffset(); acked[off]; off++ {
		}
		if rng.IntN(4) == 0 {
			for o := next - 1; o > off; o-- {
				if !acked[o] {
					off = o
					break
				}
			}
		}
		if err := w.ack(off); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		acked[off] = true
		want := int64(100)
		for acked[want] {
			want++
		}
		if want > next {
			want = next
		}
		if got := w.commitOffset(); got != want {
			t.Fatalf("step %d: commit offset %d, want %d", step, got, want)
		}
		if got := w.window(); got != int(next-want) {
			t.Fatalf("step %d: window %d, want %d", step, got, next-want)
		}
	}
	if err := w.ack(100); err == nil {
		t.Fatal("acking offset 100 twice succeeded")
	}
}
