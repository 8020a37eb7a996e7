package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/schemas"
)

// asyncWriter holds queued rows until the test resolves them, as the
// batch writer holds them until their insert returns.
type asyncWriter struct {
	mu     sync.Mutex
	rows   [][]any
	dones  []func(error)
	refuse error // returned by WriteAsync: the row is not queued
}

func (w *asyncWriter) WriteAsync(_ context.Context, done func(error), row []any) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.refuse != nil {
		return w.refuse
	}
	w.rows = append(w.rows, row)
	w.dones = append(w.dones, done)
	return nil
}

func (w *asyncWriter) WriteRowAsync(ctx context.Context, done func(error), row clickhouse.TypedRow) error {
	return w.WriteAsync(ctx, done, row.Values())
}

func (w *asyncWriter) resolveAll(err error) {
	w.mu.Lock()
	dones := w.dones
	w.dones = nil
	w.mu.Unlock()
	for _, d := range dones {
		d(err)
	}
}

// outcome waits for msg's ack or nack.
func outcome(t *testing.T, msg *message.Message) string {
	t.Helper()
	select {
	case <-msg.Acked():
		return "ack"
	case <-msg.Nacked():
		return "nack"
	case <-time.After(10 * time.Second):
		t.Fatalf("message %s neither acked nor nacked", msg.UUID)
		return ""
	}
}

func TestPipe(t *testing.T) {
	good := mustEvent(t, schemas.MetricSample{
		TelemetrySource: schemas.TelemetrySource{Host: "web-1", Service: "api"}, Name: "cpu.usage", Value: 1,
	})
	for _, tc := range []struct {
		name       string
		msg        func() *message.Message
		refuse     error // WriteAsync's error
		insert     error // the insert's outcome
		deadLetter error // DeadLetter's result
		want       string
		wantDead   bool // DeadLetter was asked
	}{
		{name: "inserted", msg: func() *message.Message { return toMessage(good) }, want: "ack"},
		{name: "invalid event dead-lettered", msg: func() *message.Message { return message.NewMessage("x", []byte("{")) },
			want: "ack", wantDead: true},
		{name: "dead-letter publish failed", msg: func() *message.Message { return message.NewMessage("x", []byte("{")) },
			deadLetter: errors.New("broker down"), want: "nack", wantDead: true},
		{name: "row refused by ClickHouse", msg: func() *message.Message { return toMessage(good) },
			insert: fmt.Errorf("bad row: %w", clickhouse.ErrPermanent), want: "ack", wantDead: true},
		{name: "writer closed before insert", msg: func() *message.Message { return toMessage(good) },
			insert: clickhouse.ErrClosed, want: "nack"},
		{name: "writer closed before queueing", msg: func() *message.Message { return toMessage(good) },
			refuse: clickhouse.ErrClosed, want: "nack"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &asyncWriter{refuse: tc.refuse}
			var mu sync.Mutex
			var dead []error
			var recorded []error
			p, err := NewPipe(PipeConfig{Name: "test", Sink: NewSink(MetricsTable, nil, MetricValues, schemas.DefaultLimits()), Writer: w,
				DeadLetter: func(_ *message.Message, cause error) error {
					mu.Lock()
					defer mu.Unlock()
					dead = append(dead, cause)
					return tc.deadLetter
				},
				Record: func(_ time.Duration, err error) {
					mu.Lock()
					defer mu.Unlock()
					recorded = append(recorded, err)
				}})
			if err != nil {
				t.Fatal(err)
			}
			msgs := make(chan *message.Message, 1)
			msg := tc.msg()
			msgs <- msg
			close(msgs)
			ran := make(chan struct{})
			go func() {
				p.Run(msgs)
				close(ran)
			}()
			// Nothing is acked before its insert returns.
			select {
			case <-msg.Acked():
				if !tc.wantDead || tc.insert != nil {
					t.Fatal("acked before the insert returned")
				}
			case <-time.After(50 * time.Millisecond):
			}
			w.resolveAll(tc.insert)
			if got := outcome(t, msg); got != tc.want {
				t.Errorf("outcome %s, want %s", got, tc.want)
			}
			<-ran
			select {
			case <-p.Stopped():
			default:
				t.Error("Stopped not closed after Run returned")
			}
			mu.Lock()
			defer mu.Unlock()
			if (len(dead) > 0) != tc.wantDead {
				t.Errorf("dead-lettered %v, want %v", dead, tc.wantDead)
			}
			for _, d := range dead {
				if !IsPoison(d) {
					t.Errorf("dead-lettered for %v, which is not poison", d)
				}
			}
			if len(recorded) != 1 {
				t.Errorf("recorded %d outcomes, want 1", len(recorded))
			}
		})
	}
}

// With one worker rows are queued in message order, and each message is
// acked only with its own row's insert.
func TestPipeOrderAndAcks(t *testing.T) {
	w := &asyncWriter{}
	p, err := NewPipe(PipeConfig{Sink: NewSink(MetricsTable, nil, MetricValues, schemas.DefaultLimits()), Writer: w, Workers: 1,
		DeadLetter: func(*message.Message, error) error { t.Error("dead letter for a good event"); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	msgs := make(chan *message.Message, 3)
	var sent []*message.Message
	for i := range 3 {
		m := toMessage(mustEvent(t, schemas.MetricSample{
			TelemetrySource: schemas.TelemetrySource{Host: "web-1", Service: "api"}, Name: "cpu.usage", Value: float64(i),
		}))
		sent = append(sent, m)
		msgs <- m
	}
	close(msgs)
	go p.Run(msgs)
	<-p.Started()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.mu.Lock()
		n := len(w.rows)
		w.mu.Unlock()
		if n == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	w.mu.Lock()
	dones := w.dones
	for i, r := range w.rows {
		if r[5] != float64(i) {
			t.Errorf("row %d has value %v: queued out of order", i, r[5])
		}
	}
	w.mu.Unlock()
	if len(dones) != 3 {
		t.Fatalf("%d rows queued, want 3", len(dones))
	}
	dones[1](nil)
	if got := outcome(t, sent[1]); got != "ack" {
		t.Fatalf("second message %s", got)
	}
	select {
	case <-sent[0].Acked():
		t.Fatal("first message acked with the second's insert")
	default:
	}
	dones[0](nil)
	dones[2](clickhouse.ErrClosed)
	if got := outcome(t, sent[0]); got != "ack" {
		t.Errorf("first message %s", got)
	}
	if got := outcome(t, sent[2]); got != "nack" {
		t.Errorf("third message %s", got)
	}
	<-p.Stopped()
}

// Several workers make rows at once (run with -race): every message gets
// exactly its own row and its own ack.
func TestPipeWorkers(t *testing.T) {
	w := &asyncWriter{}
	p, err := NewPipe(PipeConfig{Sink: NewSink(MetricsTable, nil, MetricValues, schemas.DefaultLimits()), Writer: w, Workers: 4,
		DeadLetter: func(*message.Message, error) error { t.Error("dead letter for a good event"); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	msgs := make(chan *message.Message)
	ran := make(chan struct{})
	go func() {
		p.Run(msgs)
		close(ran)
	}()
	var sent []*message.Message
	for i := range n {
		m := toMessage(mustEvent(t, schemas.MetricSample{
			TelemetrySource: schemas.TelemetrySource{Host: "web-1", Service: "api"}, Name: "cpu.usage", Value: float64(i),
		}))
		sent = append(sent, m)
		msgs <- m
	}
	close(msgs)
	poll := time.Now().Add(10 * time.Second)
	for {
		w.mu.Lock()
		got := len(w.rows)
		w.mu.Unlock()
		if got == n || time.Now().After(poll) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	w.mu.Lock()
	seen := map[float64]bool{}
	for _, r := range w.rows {
		seen[r[5].(float64)] = true
	}
	w.mu.Unlock()
	if len(seen) != n {
		t.Fatalf("%d distinct rows queued, want %d", len(seen), n)
	}
	w.resolveAll(nil)
	for i, m := range sent {
		if got := outcome(t, m); got != "ack" {
			t.Fatalf("message %d: %s", i, got)
		}
	}
	<-ran
}

func TestPipeBackoff(t *testing.T) {
	c := PipeConfig{Backoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second}
	for _, tt := range []struct {
		n    int64
		want time.Duration
	}{{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {4, 800 * time.Millisecond}, {7, 5 * time.Second}, {1000, 5 * time.Second}} {
		if got := c.backoff(tt.n); got != tt.want {
			t.Errorf("backoff(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}
