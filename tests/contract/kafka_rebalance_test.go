package contract

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/bus"
	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestKafkaRebalanceInFlightWindow: member A holds messages un-acked inside
// its pipelined window when member B joins. On even partitions A acks them
// during the drain, on odd ones never. Checked: A is handed no more than the
// window from its oldest un-acked message; the committed offset never
// passes an un-acked message; messages acked in the drain are not delivered
// again; on odd partitions delivery restarts exactly at the oldest abandoned
// message (the committed watermark), on even ones it never goes back; every
// offset is acked and committed; duplicate deliveries stay within
// MaxInFlightPerPartition per partition per release.
func TestKafkaRebalanceInFlightWindow(t *testing.T) {
	env := testenv.Get(t)
	const (
		partitions   = 4
		perPartition = 60
		window       = 4
		drain        = 4 * time.Second
	)
	held := []int64{10, 12} // with a window of 4, A is out to offset 13 and stalls
	topic := kafkaTopic(t, env, partitions)
	pub := newKafkaPublisher(t, env)
	keys := partitionKeys(partitions)
	if err := publishSeq(context.Background(), pub, topic, keys, 0, perPartition); err != nil {
		t.Fatal(err)
	}
	requireEndOffsets(t, env, topic, partitions, perPartition)

	group := uniqueName(t, "g")
	gens := &generationLog{}
	tune := func(c *kafkabus.SubscriberConfig) {
		c.MaxInFlightPerPartition = window
		c.DrainTimeout = drain
		c.Logger = gens.logger()
	}
	ctx := testContext(t, time.Minute)
	led := newLedger()

	type heldMsg struct {
		partition int
		offset    int64
		msg       *message.Message
	}
	heldCh := make(chan heldMsg, partitions*len(held))
	subA := newKafkaSubscriber(t, env, group, tune)
	chA, err := subA.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for m := range chA {
			p, o, _ := led.deliver(t, "A", m)
			if led.deliveries(p, o) == 1 && slices.Contains(held, o) {
				heldCh <- heldMsg{p, o, m}
				continue
			}
			led.ack(p, o, m)
		}
	}()
	var holding []heldMsg
	timeout := time.After(20 * time.Second)
	for len(holding) < cap(heldCh) {
		select {
		case h := <-heldCh:
			holding = append(holding, h)
		case <-timeout:
			t.Fatalf("A was handed %d of %d held messages", len(holding), cap(heldCh))
		}
	}
	lastInWindow := held[0] + window - 1
	poll.Eventually(t, 20*time.Second, 20*time.Millisecond, func() error {
		for p := range partitions {
			if m := led.maxDelivered(p); m < lastInWindow {
				return fmt.Errorf("partition %d handed out up to offset %d, want %d", p, m, lastInWindow)
			}
		}
		return nil
	})

	for p := range partitions { // the window is counted from the oldest un-acked message
		if m := led.maxDelivered(p); m != lastInWindow {
			t.Fatalf("partition %d: A holding offset %d was handed up to offset %d, want %d (window %d)", p, held[0], m, lastInWindow, window)
		}
	}

	stopPoll := watchCommitted(t, env, group, topic, partitions, led)
	defer stopPoll()

	subB := newKafkaSubscriber(t, env, group, tune) // rebalance: A drains
	chB, err := subB.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for m := range chB {
			p, o, _ := led.deliver(t, "B", m)
			led.ack(p, o, m)
		}
	}()
	waitGroupState(t, env, group, "PreparingRebalance", 15*time.Second)
	// A notices the rebalance on its next heartbeat (500ms) and starts
	// draining; the odd partitions keep it draining for the full DrainTimeout.
	time.Sleep(time.Second)

	var released sync.WaitGroup
	for _, h := range holding {
		if h.partition%2 == 0 {
			if err := h.msg.Context().Err(); err != nil {
				t.Errorf("held %d/%d: context done before the drain ended (%v); the ack would be ignored", h.partition, h.offset, err)
			}
			led.ack(h.partition, h.offset, h.msg)
			continue
		}
		released.Add(1)
		go func() {
			defer released.Done()
			<-h.msg.Context().Done() // released un-acked: the next owner gets it
		}()
	}
	if !waitTimeout(&released, drain+5*time.Second) {
		t.Error("contexts of abandoned messages not cancelled after the drain")
	}

	want := map[int]int64{}
	for p := range partitions {
		want[p] = perPartition
	}
	led.waitAllAcked(t, want, 30*time.Second)
	waitCommittedAll(t, env, group, topic, partitions, want)
	stopPoll()

	rebalances := gens.count() - 1
	total := 0
	for p := range partitions {
		dups := led.duplicates(p)
		total += dups
		if limit := window * rebalances; dups > limit {
			t.Errorf("partition %d: %d duplicate deliveries, more than the window %d × %d releases", p, dups, window, rebalances)
		}
		// The next owner starts at the committed watermark: after the
		// drain-acked window, or at the oldest abandoned message.
		var wantRestarts []int64
		if p%2 == 1 {
			wantRestarts = []int64{held[0]}
		}
		if got := led.restarts(p); !slices.Equal(got, wantRestarts) {
			t.Errorf("partition %d: delivery went back to offsets %v, want %v", p, got, wantRestarts)
		}
		for _, o := range held {
			n := led.deliveries(p, o)
			switch {
			case p%2 == 0 && n != 1:
				t.Errorf("partition %d: offset %d acked during the drain was delivered %d times", p, o, n)
			case p%2 == 1 && n < 2:
				t.Errorf("partition %d: abandoned offset %d was not redelivered", p, o)
			}
		}
	}
	t.Logf("%d messages, %d rebalance(s), %d duplicate deliveries (window %d per partition); owners: %s",
		partitions*perPartition, rebalances, total, window, led.owners(partitions))
}

// TestKafkaHandoffNoStalePrefetch guards against kafka-go issue 1398 (a
// reader handing out records prefetched before a rebalance). A steady
// keyed stream runs while B joins (A hands over part of the partitions)
// and A then leaves (the rest). Handlers ack within milliseconds, so every
// message is acked during the drain and the old owner's final commit is one
// past its last delivery. Checked per partition: the new owner's first
// message is exactly the committed offset, fetched before it is acked; the
// delivered sequence is exactly 0,1,2,… across all owners (nothing
// redelivered, nothing skipped); every partition was handed over.
func TestKafkaHandoffNoStalePrefetch(t *testing.T) {
	env := testenv.Get(t)
	const (
		partitions = 4
		window     = 4
	)
	topic := kafkaTopic(t, env, partitions)
	pub := newKafkaPublisher(t, env)
	keys := partitionKeys(partitions)
	group := uniqueName(t, "g")
	gens := &generationLog{}
	tune := func(c *kafkabus.SubscriberConfig) {
		c.MaxInFlightPerPartition = window
		c.Logger = gens.logger()
	}
	ctx := testContext(t, time.Minute)
	led := newLedger()

	var hmu sync.Mutex
	var handoffs []string
	consume := func(member string, ch <-chan *message.Message) {
		for m := range ch {
			p, o, prev := led.deliver(t, member, m)
			if prev != member {
				// First message of a new owner: nothing of it is acked
				// yet, so the group's offset is still what it started at.
				c, err := committedOffsets(ctx, env, group, topic, partitions)
				hmu.Lock()
				switch {
				case err != nil:
					t.Errorf("partition %d handed %s→%s: %v", p, prev, member, err)
				case prev == "" && o != 0:
					t.Errorf("partition %d: first delivery is offset %d, want 0", p, o)
				case prev != "" && c[p] != o:
					t.Errorf("partition %d handed %s→%s: first offset %d, committed %d", p, prev, member, o, c[p])
				}
				handoffs = append(handoffs, fmt.Sprintf("p%d %s→%s@%d", p, cmp.Or(prev, "-"), member, o))
				hmu.Unlock()
			}
			go func() {
				time.Sleep(time.Duration(rand.IntN(5)) * time.Millisecond) // acks out of order
				led.ack(p, o, m)
			}()
		}
	}

	// Steady stream: one message per partition every 10ms.
	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	var produced int
	streamErr := make(chan error, 1)
	go func() {
		n := 0
		defer func() { produced = n; close(streamErr) }()
		for streamCtx.Err() == nil {
			if err := publishSeq(ctx, pub, topic, keys, n, n+1); err != nil {
				streamErr <- err
				return
			}
			n++
			time.Sleep(10 * time.Millisecond)
		}
	}()

	subA := newKafkaSubscriber(t, env, group, tune)
	chA, err := subA.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	go consume("A", chA)
	// B joins only once A has delivered from every partition, so each one
	// really is handed from A to B.
	waitMember(t, led, "A", 100, partitions)

	subB := newKafkaSubscriber(t, env, group, tune) // rebalance: A hands over some partitions
	chB, err := subB.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	go consume("B", chB)
	waitMember(t, led, "B", 100, 0)

	if err := subA.Close(); err != nil { // rebalance: B takes the rest
		t.Fatal(err)
	}
	afterClose := led.count("B")
	waitMember(t, led, "B", afterClose+100, partitions)
	stopStream()
	if err := <-streamErr; err != nil {
		t.Fatal(err)
	}
	requireEndOffsets(t, env, topic, partitions, int64(produced))

	want := map[int]int64{}
	for p := range partitions {
		want[p] = int64(produced)
	}
	led.waitAllAcked(t, want, 20*time.Second)
	waitCommittedAll(t, env, group, topic, partitions, want)

	for p := range partitions {
		if err := led.checkContiguous(p); err != nil {
			t.Errorf("partition %d: %v", p, err)
		}
	}
	hmu.Lock()
	defer hmu.Unlock()
	for p := range partitions {
		if !slices.ContainsFunc(handoffs, func(h string) bool { return strings.HasPrefix(h, fmt.Sprintf("p%d A→B", p)) }) {
			t.Errorf("partition %d was never handed from A to B: %v", p, handoffs)
		}
	}
	t.Logf("%d messages per partition, %d generations, handoffs %v", produced, gens.count(), handoffs)
}

// ledger records, per partition, every delivery in the order handlers saw
// them and every offset a handler acked (recorded before Ack, so a commit
// that covers an offset always finds it here).
type ledger struct {
	mu    sync.Mutex
	log   map[int][]delivery
	acked map[int]map[int64]bool
}

type delivery struct {
	member string
	offset int64
}

func newLedger() *ledger {
	return &ledger{log: map[int][]delivery{}, acked: map[int]map[int64]bool{}}
}

// deliver records m, whose payload is "partition:seq"; on a fresh topic
// written only by the test, seq is the offset (requireEndOffsets checks).
// prev is the member of p's previous delivery, "" for the first.
func (l *ledger) deliver(t *testing.T, member string, m *message.Message) (p int, o int64, prev string) {
	ps, offs, ok := strings.Cut(string(m.Payload), ":")
	p, err1 := strconv.Atoi(ps)
	o, err2 := strconv.ParseInt(offs, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		t.Errorf("unexpected payload %q", m.Payload)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.log[p]); n > 0 {
		prev = l.log[p][n-1].member
	}
	l.log[p] = append(l.log[p], delivery{member, o})
	return p, o, prev
}

func (l *ledger) ack(p int, o int64, m *message.Message) {
	l.mu.Lock()
	if l.acked[p] == nil {
		l.acked[p] = map[int64]bool{}
	}
	l.acked[p][o] = true
	l.mu.Unlock()
	m.Ack()
}

func (l *ledger) deliveries(p int, o int64) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, d := range l.log[p] {
		if d.offset == o {
			n++
		}
	}
	return n
}

func (l *ledger) maxDelivered(p int) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := int64(-1)
	for _, d := range l.log[p] {
		m = max(m, d.offset)
	}
	return m
}

func (l *ledger) count(member string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ds := range l.log {
		for _, d := range ds {
			if d.member == member {
				n++
			}
		}
	}
	return n
}

// waitAllAcked waits until offsets [0, n[p]) of every partition p were
// acked, or fails naming the first missing offset of each partition.
func (l *ledger) waitAllAcked(t *testing.T, n map[int]int64, d time.Duration) {
	t.Helper()
	poll.Eventually(t, d, 20*time.Millisecond, func() error {
		var missing []string
		for p, end := range n {
			if o, ok := l.unackedBelow(p, end); ok {
				missing = append(missing, fmt.Sprintf("p%d@%d", p, o))
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			return fmt.Errorf("not acked (first missing offset per partition): %v", missing)
		}
		return nil
	})
}

// waitMember waits until member has delivered at least n messages and,
// if partitions > 0, was the latest to deliver from each of them.
func waitMember(t *testing.T, l *ledger, member string, n, partitions int) {
	t.Helper()
	poll.Eventually(t, 20*time.Second, 20*time.Millisecond, func() error {
		if got := l.count(member); got < n {
			return fmt.Errorf("%s delivered %d of %d messages", member, got, n)
		}
		if partitions > 0 && !l.allOwnedBy(member, partitions) {
			return fmt.Errorf("not every partition is %s's yet: %s", member, l.owners(partitions))
		}
		return nil
	})
}

// unackedBelow returns an offset below c that no handler acked.
func (l *ledger) unackedBelow(p int, c int64) (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for o := range c {
		if !l.acked[p][o] {
			return o, true
		}
	}
	return 0, false
}

// restarts lists the offsets at which p's delivery sequence went back
// (a redelivery from the committed watermark).
func (l *ledger) restarts(p int) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int64
	for i := 1; i < len(l.log[p]); i++ {
		if o := l.log[p][i].offset; o <= l.log[p][i-1].offset {
			out = append(out, o)
		}
	}
	return out
}

// duplicates is the number of deliveries of p beyond the first of each offset.
func (l *ledger) duplicates(p int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[int64]bool{}
	for _, d := range l.log[p] {
		seen[d.offset] = true
	}
	return len(l.log[p]) - len(seen)
}

// checkContiguous: p's deliveries, across owners, are exactly 0, 1, 2, ….
func (l *ledger) checkContiguous(p int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, d := range l.log[p] {
		if d.offset != int64(i) {
			prev := "start"
			if i > 0 {
				prev = fmt.Sprintf("%s's offset %d", l.log[p][i-1].member, l.log[p][i-1].offset)
			}
			return fmt.Errorf("delivery %d is %s's offset %d after %s (redelivered or skipped)", i, d.member, d.offset, prev)
		}
	}
	return nil
}

// owners summarises who delivered each partition, in order, e.g. "p0:A,B".
func (l *ledger) owners(partitions int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for p := range partitions {
		var seq []string
		for _, d := range l.log[p] {
			if len(seq) == 0 || seq[len(seq)-1] != d.member {
				seq = append(seq, d.member)
			}
		}
		parts = append(parts, fmt.Sprintf("p%d:%s", p, strings.Join(seq, ",")))
	}
	return strings.Join(parts, " ")
}

// allOwnedBy: the latest delivery of every partition is by member.
func (l *ledger) allOwnedBy(member string, partitions int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for p := range partitions {
		ds := l.log[p]
		if len(ds) == 0 || ds[len(ds)-1].member != member {
			return false
		}
	}
	return true
}

// watchCommitted polls the group's committed offsets and fails the test if
// one ever passes an offset no handler acked. The returned stop is
// idempotent and waits for the poller.
func watchCommitted(t *testing.T, env *testenv.Env, group, topic string, partitions int, led *ledger) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			c, err := committedOffsets(context.Background(), env, group, topic, partitions)
			if err != nil {
				continue
			}
			for p, off := range c {
				if o, bad := led.unackedBelow(p, off); bad {
					t.Errorf("partition %d: committed offset %d passes un-acked offset %d", p, off, o)
					return
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(stop) })
		<-done
	}
}

func committedOffsets(ctx context.Context, env *testenv.Env, group, topic string, partitions int) (map[int]int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(env.KafkaBrokers...), Timeout: 5 * time.Second}
	ps := make([]int, partitions)
	for i := range ps {
		ps[i] = i
	}
	resp, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ps}})
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return nil, p.Error
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out, nil
}

// requireEndOffsets checks that every partition holds exactly n records, so
// the per-partition sequence numbers in the payloads are the offsets.
func requireEndOffsets(t *testing.T, env *testenv.Env, topic string, partitions int, n int64) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(env.KafkaBrokers...), Timeout: 10 * time.Second}
	var reqs []kafka.OffsetRequest
	for p := range partitions {
		reqs = append(reqs, kafka.LastOffsetOf(p))
	}
	resp, err := client.ListOffsets(testContext(t, 10*time.Second), &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil || p.LastOffset != n {
			t.Fatalf("partition %d ends at %d (%v), want %d: sequence numbers would not be offsets", p.Partition, p.LastOffset, p.Error, n)
		}
	}
}

// waitCommittedAll waits until the group's committed offsets are want.
func waitCommittedAll(t *testing.T, env *testenv.Env, group, topic string, partitions int, want map[int]int64) {
	t.Helper()
	poll.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		c, err := committedOffsets(t.Context(), env, group, topic, partitions)
		if err != nil {
			return err
		}
		if !maps.Equal(c, want) {
			return fmt.Errorf("committed %v, want %v", c, want)
		}
		return nil
	})
}

func waitGroupState(t *testing.T, env *testenv.Env, group, state string, d time.Duration) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(env.KafkaBrokers...), Timeout: 5 * time.Second}
	poll.Eventually(t, d, 20*time.Millisecond, func() error {
		resp, err := client.DescribeGroups(t.Context(), &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
		if err != nil {
			return err
		}
		if len(resp.Groups) != 1 {
			return fmt.Errorf("group %s: %d groups described", group, len(resp.Groups))
		}
		if got := resp.Groups[0].GroupState; got != state {
			return fmt.Errorf("group %s is %s, want %s", group, got, state)
		}
		return nil
	})
}

// partitionKeys finds one key per partition under the publisher's murmur2
// partitioner.
func partitionKeys(partitions int) []string {
	ids := make([]int, partitions)
	for i := range ids {
		ids[i] = i
	}
	keys := make([]string, partitions)
	found := 0
	for i := 0; found < partitions; i++ {
		k := "key-" + strconv.Itoa(i)
		p := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: []byte(k)}, ids...)
		if keys[p] == "" {
			keys[p] = k
			found++
		}
	}
	return keys
}

// publishSeq publishes sequence numbers [from, to) to every partition,
// payload "partition:seq", in one call.
func publishSeq(ctx context.Context, pub *kafkabus.Publisher, topic string, keys []string, from, to int) error {
	var msgs []*message.Message
	for seq := from; seq < to; seq++ {
		for p, k := range keys {
			m := newMessages(1, func(int) string { return fmt.Sprintf("%d:%d", p, seq) })[0]
			m.Metadata.Set(bus.MetadataPartitionKey, k)
			msgs = append(msgs, m)
		}
	}
	return pub.PublishContext(ctx, topic, msgs...)
}

// generationLog counts the consumer-group generations the subscribers log
// ("kafka partitions assigned", with a generation attribute) and passes
// warnings on to testLogger's handler.
type generationLog struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (g *generationLog) logger() *slog.Logger {
	return slog.New(generationHandler{log: g, next: testLogger().Handler()})
}

func (g *generationLog) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.ids)
}

type generationHandler struct {
	log   *generationLog
	attrs []slog.Attr
	next  slog.Handler
}

func (h generationHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h generationHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "kafka partitions assigned" {
		for _, a := range h.attrs {
			if a.Key == "generation" {
				h.log.mu.Lock()
				if h.log.ids == nil {
					h.log.ids = map[string]bool{}
				}
				h.log.ids[a.Value.String()] = true
				h.log.mu.Unlock()
			}
		}
	}
	if r.Level < slog.LevelWarn {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h generationHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return generationHandler{log: h.log, attrs: append(slices.Clip(h.attrs), as...), next: h.next.WithAttrs(as)}
}

func (h generationHandler) WithGroup(name string) slog.Handler {
	return generationHandler{log: h.log, attrs: h.attrs, next: h.next.WithGroup(name)}
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
