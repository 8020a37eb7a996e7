// Package poll waits for a condition, always with a deadline.
//
// It is the one way our tests and test helpers poll, in every module: a
// loop that sleeps until something holds and has no deadline hangs a run
// until go test's own timeout and then says nothing about what it was
// waiting for. Until is for code with a context (test helpers, the eval
// harness); Eventually is for tests, like nats.go's checkFor.
package poll

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Until calls cond at once and then every interval (counted from the end
// of one call to the start of the next) until cond reports done or ctx
// ends. It does not call cond if ctx is already done.
//
// cond reports:
//   - (false, err): not yet; err, when non-nil, says why and is kept as
//     the last error;
//   - (true, nil): done; Until returns nil;
//   - (true, err): a failure that waiting will not fix; Until returns err
//     at once, as it is.
//
// When ctx ends first, Until returns an error that wraps both ctx.Err()
// and the last error cond returned (errors.Is finds either), and says how
// long it waited. An error cond returns because ctx ended mid-call does
// not replace an earlier, more telling one.
//
// cond gets the ctx so its I/O ends with the poll. interval must be
// positive.
func Until(ctx context.Context, interval time.Duration, cond func(context.Context) (bool, error)) error {
	r := run(ctx, interval, cond)
	return r.err
}

// Eventually calls cond at once and then every interval until it returns
// nil, and fails t if it has not within timeout, with cond's last error,
// how long it waited and how many times it checked.
//
// It is for tests: call it from the test's goroutine (it calls
// t.Fatalf). cond may itself call t.Fatal for a failure that waiting
// will not fix. Eventually cannot interrupt a call to cond, so cond
// should bound its own I/O.
func Eventually(t testing.TB, timeout, interval time.Duration, cond func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	r := run(ctx, interval, func(context.Context) (bool, error) {
		err := cond()
		return err == nil, err
	})
	if r.err == nil {
		return
	}
	if r.last == nil {
		t.Fatalf("condition not met within %s (waited %s, %d checks)", timeout, round(r.waited), r.checks)
	}
	t.Fatalf("condition not met within %s (waited %s, %d checks): %v", timeout, round(r.waited), r.checks, r.last)
}

type result struct {
	err    error // what Until returns
	last   error // cond's last error while not done
	waited time.Duration
	checks int
}

func run(ctx context.Context, interval time.Duration, cond func(context.Context) (bool, error)) result {
	if interval <= 0 {
		panic(fmt.Sprintf("poll: interval %s is not positive", interval))
	}
	start := time.Now()
	var r result
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			r.waited = time.Since(start)
			if r.last == nil {
				r.err = fmt.Errorf("poll: gave up after %s, %d checks: %w", round(r.waited), r.checks, ctx.Err())
			} else {
				r.err = fmt.Errorf("poll: gave up after %s, %d checks: %w; last error: %w", round(r.waited), r.checks, ctx.Err(), r.last)
			}
			return r
		case <-timer.C:
		}
		// A timer that fired and a done ctx race in the select above; do
		// not call cond once the deadline has passed.
		if ctx.Err() != nil {
			continue
		}
		r.checks++
		done, err := cond(ctx)
		if done {
			r.err, r.waited = err, time.Since(start)
			return r
		}
		if err != nil && (ctx.Err() == nil || r.last == nil) {
			r.last = err
		}
		timer.Reset(interval)
	}
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}
