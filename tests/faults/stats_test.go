//go:build faults

package faults

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// logStats prints the consumer's /debug/ingest snapshot, summed.
func logStats(t *testing.T, p *ingestProc) {
	t.Helper()
	resp, err := http.Get(p.httpURL + "/debug/ingest")
	if err != nil {
		t.Logf("stats endpoint: %v", err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var s struct {
		Handlers map[string]struct{ Handled, Failed, Poisoned uint64 }
		Writers  map[string]struct {
			RowsWritten, Batches, Retries uint64
			PendingRows                   int64
			BufferFill                    float64 `json:"buffer_fill"`
			FlushAverage, FlushMax        time.Duration
		}
		RSSBytes uint64 `json:"rss_bytes"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Logf("stats: %v: %s", err, hex.EncodeToString(b[:min(len(b), 64)]))
		return
	}
	for name, w := range s.Writers {
		if w.RowsWritten+w.Retries+uint64(w.PendingRows) == 0 {
			continue
		}
		t.Logf("writer %-20s rows %7d batches %5d retries %3d pending %5d (buffer %.0f%%) flush avg %s max %s", name, w.RowsWritten,
			w.Batches, w.Retries, w.PendingRows, 100*w.BufferFill, w.FlushAverage.Round(time.Millisecond), w.FlushMax.Round(time.Millisecond))
	}
	for name, h := range s.Handlers {
		if h.Handled+h.Failed+h.Poisoned > 0 {
			t.Logf("handler %-20s handled %7d failed %4d poisoned %3d", name, h.Handled, h.Failed, h.Poisoned)
		}
	}
	t.Logf("consumer RSS now %d MiB; %s", s.RSSBytes>>20, runtimeStats(p))
}

// runtimeStats reads goroutine count and heap figures from the consumer's
// /debug/pprof endpoints: in-flight messages each hold a goroutine, so the
// count shows the in-flight bound at work.
func runtimeStats(p *ingestProc) string {
	get := func(path string) string {
		resp, err := http.Get(p.httpURL + path)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	var out []string
	if g := get("/debug/pprof/goroutine?debug=1"); g != "" {
		out = append(out, strings.SplitN(g, "\n", 2)[0])
	}
	for _, l := range strings.Split(get("/debug/pprof/heap?debug=1"), "\n") {
		for _, k := range []string{"# HeapInuse", "# HeapSys", "# Sys", "# NumGC", "# StackInuse"} {
			if strings.HasPrefix(l, k+" ") {
				out = append(out, strings.TrimPrefix(l, "# "))
			}
		}
	}
	return strings.Join(out, ", ")
}
