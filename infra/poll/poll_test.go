package poll

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

var errNotYet = errors.New("2 of 3 rows")

// TestUntil runs in a synctest bubble: the clock is fake, so deadlines
// are exact and the table runs in no real time.
func TestUntil(t *testing.T) {
	permanent := errors.New("consumer exited")
	tests := []struct {
		name      string
		timeout   time.Duration
		cancelAt  time.Duration // cancel the ctx after this long, if set
		preDone   bool          // ctx done before Until is called
		cond      func(call int, ctx context.Context) (bool, error)
		wantCalls int
		wantIs    []error // errors.Is(err, each); none means err == nil
		wantMsg   []string
		wantNot   []string
		wantAfter time.Duration
	}{{
		name:      "holds at once",
		timeout:   time.Second,
		cond:      func(int, context.Context) (bool, error) { return true, nil },
		wantCalls: 1,
	}, {
		name:    "holds on the fourth check, an interval apart",
		timeout: time.Second,
		cond: func(call int, _ context.Context) (bool, error) {
			if call == 4 {
				return true, nil
			}
			return false, errNotYet
		},
		wantCalls: 4,
		wantAfter: 30 * time.Millisecond,
	}, {
		name:      "deadline names the last error and the wait",
		timeout:   95 * time.Millisecond,
		cond:      func(call int, _ context.Context) (bool, error) { return false, fmt.Errorf("%d: %w", call, errNotYet) },
		wantCalls: 10, // at 0, 10, ..., 90ms
		wantIs:    []error{context.DeadlineExceeded, errNotYet},
		wantMsg:   []string{"gave up after 95ms, 10 checks", "last error: 10: 2 of 3 rows"},
		wantAfter: 95 * time.Millisecond,
	}, {
		name:      "deadline without a condition error",
		timeout:   25 * time.Millisecond,
		cond:      func(int, context.Context) (bool, error) { return false, nil },
		wantCalls: 3,
		wantIs:    []error{context.DeadlineExceeded},
		wantNot:   []string{"last error"},
	}, {
		name:    "an error caused by the deadline does not hide the one before",
		timeout: 25 * time.Millisecond,
		cond: func(call int, ctx context.Context) (bool, error) {
			if call < 3 {
				return false, errNotYet
			}
			<-ctx.Done() // a query cut off by the deadline
			return false, ctx.Err()
		},
		wantCalls: 3,
		wantIs:    []error{context.DeadlineExceeded, errNotYet},
		wantMsg:   []string{"last error: 2 of 3 rows"},
	}, {
		name:      "cancel",
		timeout:   time.Second,
		cancelAt:  35 * time.Millisecond,
		cond:      func(int, context.Context) (bool, error) { return false, errNotYet },
		wantCalls: 4,
		wantIs:    []error{context.Canceled, errNotYet},
		wantAfter: 35 * time.Millisecond,
	}, {
		name:      "ctx already done: cond is not called",
		timeout:   time.Second,
		preDone:   true,
		cond:      func(int, context.Context) (bool, error) { return true, nil },
		wantCalls: 0,
		wantIs:    []error{context.Canceled},
	}, {
		name:      "permanent failure ends the poll at once, unwrapped",
		timeout:   time.Second,
		cond:      func(call int, _ context.Context) (bool, error) { return call == 2, permanent },
		wantCalls: 2,
		wantIs:    []error{permanent},
		wantNot:   []string{"gave up", "context"},
		wantAfter: 10 * time.Millisecond,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
				defer cancel()
				if tt.preDone {
					cancel()
				}
				if tt.cancelAt > 0 {
					time.AfterFunc(tt.cancelAt, cancel)
				}
				calls := 0
				start := time.Now()
				err := Until(ctx, 10*time.Millisecond, func(ctx context.Context) (bool, error) {
					calls++
					return tt.cond(calls, ctx)
				})
				took := time.Since(start)
				if calls != tt.wantCalls {
					t.Errorf("cond called %d times, want %d", calls, tt.wantCalls)
				}
				if len(tt.wantIs) == 0 && err != nil {
					t.Fatalf("Until = %v, want nil", err)
				}
				for _, target := range tt.wantIs {
					if !errors.Is(err, target) {
						t.Errorf("Until = %v, want errors.Is %v", err, target)
					}
				}
				for _, s := range tt.wantMsg {
					if !strings.Contains(fmt.Sprint(err), s) {
						t.Errorf("Until = %v, want it to say %q", err, s)
					}
				}
				for _, s := range tt.wantNot {
					if strings.Contains(fmt.Sprint(err), s) {
						t.Errorf("Until = %v, want it not to say %q", err, s)
					}
				}
				if tt.wantAfter > 0 && took != tt.wantAfter {
					t.Errorf("Until returned after %s, want %s", took, tt.wantAfter)
				}
			})
		})
	}
}

func TestUntilRejectsNonPositiveInterval(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "interval") {
			t.Fatalf("recovered %v, want a panic about the interval", r)
		}
	}()
	_ = Until(t.Context(), 0, func(context.Context) (bool, error) { return true, nil })
}

// recorder is a testing.TB whose Fatalf records the message and ends the
// goroutine, as the real one does.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestEventually(t *testing.T) {
	tests := []struct {
		name      string
		cond      func(call int) error
		wantCalls int
		wantFail  []string // substrings of the failure; none means it passes
	}{{
		name: "passes once cond returns nil",
		cond: func(call int) error {
			if call == 3 {
				return nil
			}
			return errNotYet
		},
		wantCalls: 3,
	}, {
		name:      "fails with the last error and the wait",
		cond:      func(call int) error { return fmt.Errorf("check %d: %w", call, errNotYet) },
		wantCalls: 5, // at 0, 10, ..., 40ms of 45ms
		wantFail:  []string{"not met within 45ms", "waited 45ms, 5 checks", ": check 5: 2 of 3 rows"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{TB: t}
				calls := 0
				done := make(chan struct{})
				go func() {
					defer close(done)
					Eventually(rec, 45*time.Millisecond, 10*time.Millisecond, func() error {
						calls++
						return tt.cond(calls)
					})
				}()
				<-done
				if calls != tt.wantCalls {
					t.Errorf("cond called %d times, want %d", calls, tt.wantCalls)
				}
				if len(tt.wantFail) == 0 && rec.failed != "" {
					t.Fatalf("Eventually failed: %s", rec.failed)
				}
				if len(tt.wantFail) > 0 && rec.failed == "" {
					t.Fatal("Eventually passed, want a failure")
				}
				for _, s := range tt.wantFail {
					if !strings.Contains(rec.failed, s) {
						t.Errorf("failure %q does not say %q", rec.failed, s)
					}
				}
			})
		})
	}
}
