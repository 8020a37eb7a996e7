package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/producers/sim"
	"github.com/tributary-io/tributary/schemas"
)

type countTransport struct {
	mu sync.Mutex
	n  int
}

func (c *countTransport) Publish(_ string, msgs ...*message.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += len(msgs)
	return nil
}

func TestRun(t *testing.T) {
	sc, err := sim.Parse([]byte(`name: t
duration: 20s
tenants: [{name: a, users: 5, hosts: 2, task_types: [{type: x}], rates: {logins: 20, tasks: 5, logs: 5}}]
anomalies: [{kind: brute_force_user, at: 2s, duration: 10s}]`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		speed       float64
		minDuration time.Duration
	}{
		{"unpaced", -1, 0},
		{"paced 40x", 40, 450 * time.Millisecond}, // 20 s of events in about 0.5 s
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js, kf := &countTransport{}, &countTransport{}
			c, err := publish.New(publish.Config{Source: "//t"}, map[schemas.Transport]publish.Transport{
				schemas.TransportJetStream: js, schemas.TransportKafka: kf})
			if err != nil {
				t.Fatal(err)
			}
			var truth bytes.Buffer
			rep, err := Run(context.Background(), Config{Scenario: sc, Seed: 3, Speed: tt.speed}, c, &truth)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Events == 0 || rep.Published != rep.Events || rep.Failed != 0 || int64(js.n+kf.n) != rep.Events {
				t.Fatalf("report %+v; transports got %d+%d", rep, js.n, kf.n)
			}
			if rep.Elapsed < tt.minDuration {
				t.Fatalf("run took %s, want at least %s (pacing)", rep.Elapsed, tt.minDuration)
			}
			var tr sim.Truth
			if err := json.Unmarshal(truth.Bytes(), &tr); err != nil || tr.Kind != sim.BruteForceUser || tr.Entity.Type != "user" {
				t.Fatalf("truth %q: %v", truth.String(), err)
			}
			// No event may be from the future when published.
			if end := rep.Start.Add(sc.Duration); end.After(time.Now().Add(time.Second)) {
				t.Fatalf("events run to %s, after now", end)
			}
			if !strings.Contains(rep.Summary(), "0 failed") {
				t.Fatalf("summary: %s", rep.Summary())
			}
		})
	}
}
