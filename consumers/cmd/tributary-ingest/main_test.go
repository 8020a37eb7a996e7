package main

import (
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
)

func TestApplyMemoryLimit(t *testing.T) {
	was := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(was) })
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		name string
		mib  int
		env  string
		want int64
	}{
		{"default", 0, "", defaultMemoryLimitMiB << 20},
		{"flag", 512, "", 512 << 20},
		{"flag beats GOMEMLIMIT", 256, "1GiB", 256 << 20},
		{"none", -1, "", math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			applyMemoryLimit(tt.mib, tt.env, log)
			if got := debug.SetMemoryLimit(-1); got != tt.want {
				t.Errorf("limit = %d, want %d", got, tt.want)
			}
		})
	}
	// GOMEMLIMIT set and no flag: the runtime's limit stays.
	debug.SetMemoryLimit(300 << 20)
	applyMemoryLimit(0, "300MiB", log)
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Errorf("with GOMEMLIMIT and no flag: limit = %d, want it left at %d", got, 300<<20)
	}
}
