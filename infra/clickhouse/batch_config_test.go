package clickhouse

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestBatchConfigValidate(t *testing.T) {
	err := BatchConfig{Columns: []string{"a", "b; DROP"}, MaxRows: -1, MaxPendingRows: -5, RetryMin: time.Second, RetryMax: time.Millisecond, FlushInterval: -1}.Validate()
	for _, f := range []string{"Table:", "plain identifier", "MaxRows:", "MaxPendingRows:", "RetryMax:", "FlushInterval:", "AttemptTimeout:"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("error does not mention %q: %v", f, err)
		}
	}
	if err := (BatchConfig{Table: "t", Columns: []string{"labels.key"}}).withDefaults().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	// Each problem once: WindowRows was reported twice.
	err = BatchConfig{Table: "t", Columns: []string{"a"}, MaxRows: 10, WindowRows: 11}.withDefaults().Validate()
	if n := strings.Count(fmt.Sprint(err), "WindowRows:"); n != 1 {
		t.Errorf("WindowRows reported %d times, want once: %v", n, err)
	}
}
