//go:build faults

package faults

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/localstack"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

// clusterEvents is the ingest each cluster failover test runs.
const clusterEvents = 100_000

// TestClusterNATSNodeKilled SIGKILLs the NATS node that leads the auth
// events' stream, and TestClusterKafkaLeaderKilled the Kafka broker that
// leads partition 0 of the metrics topic, each on a private 3+3-node
// cluster while 100,000 events are being published and ingested. The
// pipeline must go on with two nodes (streams R3, topics RF 3 with
// min.insync.replicas 2, acks=all): every published event acknowledged,
// stored exactly once, nothing dead-lettered. The node then comes back
// and catches up. Each prints its stall and recovery times.
func TestClusterNATSNodeKilled(t *testing.T) {
	clusterFailover(t, testenv.NATS, jetStreamTables)
}

func TestClusterKafkaLeaderKilled(t *testing.T) {
	clusterFailover(t, testenv.Kafka, kafkaTables)
}

func clusterFailover(t *testing.T, kind string, tables []string) {
	env := testenv.PrivateCluster(t)
	servers := env.ServersOrFail(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	id := suffix(t)
	tenant, db, group := "c"+id, "faults_"+id, "ingest-"+id
	bin := buildIngest(t)
	want := mixOf(clusterEvents)
	conn := openCH(ctx, t, env, db)

	proc := startIngest(t, bin, env, db, group, "-replicas", strconv.Itoa(env.Replicas))
	waitIngestReady(ctx, t, proc)
	checkReplicated(ctx, t, env)

	// The SDK's default of 6 attempts gives up after about 5 s when the
	// stream answers "no responders" at once, shorter than a JetStream
	// stream leader election (up to ~10 s): on a cluster the 20 s
	// MaxElapsed must be the bound, not the attempts.
	p := publishMixRetrying(ctx, t, env, tenant, want, publish.RetryConfig{MaxAttempts: 40, MaxElapsed: 30 * time.Second})
	p.waitAcked(ctx, t, int64(want.total()/4))
	waitDistinct(ctx, t, conn, tables[0], tenant, 2000)
	total := 0
	for _, table := range tables {
		total += want[table]
	}
	tl := sampleTimeline(ctx, conn, tables, tenant, p)
	time.Sleep(3 * time.Second) // the rate before the kill

	victim := clusterVictim(ctx, t, env, kind)
	killed := time.Now()
	if err := servers.Kill(victim); err != nil {
		t.Fatalf("kill %s: %v", victim, err)
	}
	t.Logf("SIGKILLed %s with %d events acknowledged", victim, p.acked.Load())
	// The pipeline must flow on two nodes before the third comes back.
	growthIn(ctx, t, conn, tables, tenant, total)
	time.Sleep(10 * time.Second)
	restarted := time.Now()
	if err := servers.Start(victim); err != nil {
		t.Fatalf("start %s again: %v", victim, err)
	}
	caughtUp := waitCaughtUp(ctx, t, env, kind)
	t.Logf("%s down %.1f s; back and caught up %.1f s after its restart", victim, restarted.Sub(killed).Seconds(), caughtUp.Sub(restarted).Seconds())

	p.wait(t, want.total())
	end := waitLanded(ctx, t, conn, tenant, want, append(append([]string{}, jetStreamTables...), kafkaTables...))
	samples := tl.stop()
	f := measure(ctx, t, conn, tenant, want)
	st := analyse(samples, killed)
	t.Logf("FIGURES cluster-%s-kill (%d events, 3 nodes, %s SIGKILLed mid-ingest): %s; ingest stall %.1f s (longest time without a new row of %v after the kill), rate back to half its %.0f rows/s in %.1f s, publish stall %.1f s, all landed %.1f s after the kill",
		kind, want.total(), victim, f, st.rowStall.Seconds(), tables, st.rateBefore, st.recovered.Seconds(), st.publishStall.Seconds(), end.Sub(killed).Seconds())
	checkExactlyOnce(ctx, t, conn, tenant, want)
	logStats(t, proc)
}

func waitIngestReady(ctx context.Context, t *testing.T, p *ingestProc) {
	t.Helper()
	err := poll.Until(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.httpURL+"/readyz", nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("/readyz %s", resp.Status)
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("ingest not ready: %v", err)
	}
}

// checkReplicated asserts what provisioning made of the cluster: every
// stream with 3 replicas, every topic partition with 3 and
// min.insync.replicas 2.
func checkReplicated(ctx context.Context, t *testing.T, env *testenv.Env) {
	t.Helper()
	prov := schemas.DefaultRoutingTable().Provisioning()
	js := jetStreamOf(t, env)
	for _, s := range prov.Streams {
		st, err := js.Stream(ctx, s.Name)
		if err != nil {
			t.Fatalf("stream %s: %v", s.Name, err)
		}
		if got := st.CachedInfo().Config.Replicas; got != localstack.ClusterSize {
			t.Errorf("stream %s has %d replicas, want %d", s.Name, got, localstack.ClusterSize)
		}
	}
	client := kafkaClient(env)
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: prov.Topics})
	if err != nil {
		t.Fatalf("kafka metadata: %v", err)
	}
	for _, topic := range md.Topics {
		for _, part := range topic.Partitions {
			if len(part.Replicas) != localstack.ClusterSize {
				t.Errorf("topic %s partition %d has %d replicas, want %d", topic.Name, part.ID, len(part.Replicas), localstack.ClusterSize)
			}
		}
	}
	req := &kafka.DescribeConfigsRequest{}
	for _, topic := range prov.Topics {
		req.Resources = append(req.Resources, kafka.DescribeConfigRequestResource{ResourceType: kafka.ResourceTypeTopic,
			ResourceName: topic, ConfigNames: []string{"min.insync.replicas"}})
	}
	resp, err := client.DescribeConfigs(ctx, req)
	if err != nil {
		t.Fatalf("describe topic configs: %v", err)
	}
	for _, r := range resp.Resources {
		for _, e := range r.ConfigEntries {
			if e.ConfigName == "min.insync.replicas" && e.ConfigValue != "2" {
				t.Errorf("topic %s: min.insync.replicas=%s, want 2", r.ResourceName, e.ConfigValue)
			}
		}
	}
	t.Logf("provisioned %d streams with %d replicas, %d topics with replication factor %d and min.insync.replicas 2",
		len(prov.Streams), localstack.ClusterSize, len(prov.Topics), localstack.ClusterSize)
}

func jetStreamOf(t *testing.T, env *testenv.Env) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(env.NATSURL, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatalf("connect nats: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return js
}

func kafkaClient(env *testenv.Env) *kafka.Client {
	// A transport of its own: the default one caches metadata.
	return &kafka.Client{Addr: kafka.TCP(env.KafkaBrokers...), Transport: &kafka.Transport{MetadataTTL: time.Second}, Timeout: 10 * time.Second}
}

// victimStream and victimTopic are what the kill hits: the stream of the
// auth events and the metrics topic (partition 0).
func victimStream() string {
	for _, s := range schemas.DefaultRoutingTable().Provisioning().Streams {
		for _, subj := range s.Subjects {
			if strings.HasPrefix(subj, "auth.") {
				return s.Name
			}
		}
	}
	return ""
}

func victimTopic() string {
	for _, topic := range schemas.DefaultRoutingTable().Provisioning().Topics {
		if strings.Contains(topic, "metric") {
			return topic
		}
	}
	return ""
}

// clusterVictim names the node to kill: the auth stream's leader, or the
// leader of partition 0 of the metrics topic.
func clusterVictim(ctx context.Context, t *testing.T, env *testenv.Env, kind string) string {
	t.Helper()
	if kind == testenv.NATS {
		st, err := jetStreamOf(t, env).Stream(ctx, victimStream())
		if err != nil {
			t.Fatalf("stream %s: %v", victimStream(), err)
		}
		info, err := st.Info(ctx)
		if err != nil || info.Cluster == nil {
			t.Fatalf("stream %s cluster info: %v", victimStream(), err)
		}
		// Nodes are server_name n1…n3.
		k, err := strconv.Atoi(strings.TrimPrefix(info.Cluster.Leader, "n"))
		if err != nil {
			t.Fatalf("stream %s leader %q is not a node of the stack", victimStream(), info.Cluster.Leader)
		}
		t.Logf("stream %s is led by %s", victimStream(), info.Cluster.Leader)
		return localstack.NodeName(localstack.NATS, k)
	}
	md, err := kafkaClient(env).Metadata(ctx, &kafka.MetadataRequest{Topics: []string{victimTopic()}})
	if err != nil || len(md.Topics) != 1 {
		t.Fatalf("metadata of %s: %v", victimTopic(), err)
	}
	for _, part := range md.Topics[0].Partitions {
		if part.ID == 0 {
			t.Logf("topic %s partition 0 is led by broker %d (controller: %d)", victimTopic(), part.Leader.ID, md.Controller.ID)
			return localstack.NodeName(localstack.Kafka, part.Leader.ID)
		}
	}
	t.Fatalf("topic %s has no partition 0", victimTopic())
	return ""
}

// waitCaughtUp returns once the restarted node holds its replicas again:
// every stream's peers current, or every partition's ISR at 3.
func waitCaughtUp(ctx context.Context, t *testing.T, env *testenv.Env, kind string) time.Time {
	t.Helper()
	prov := schemas.DefaultRoutingTable().Provisioning()
	js := jetStreamOf(t, env)
	client := kafkaClient(env)
	err := poll.Until(ctx, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		if kind == testenv.NATS {
			for _, s := range prov.Streams {
				st, err := js.Stream(ctx, s.Name)
				if err != nil {
					return false, err
				}
				info := st.CachedInfo()
				if info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != localstack.ClusterSize-1 {
					return false, fmt.Errorf("stream %s: cluster %+v", s.Name, info.Cluster)
				}
				for _, r := range info.Cluster.Replicas {
					if !r.Current || r.Offline {
						return false, fmt.Errorf("stream %s: replica %s not current (lag %d)", s.Name, r.Name, r.Lag)
					}
				}
			}
			return true, nil
		}
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: prov.Topics})
		if err != nil {
			return false, err
		}
		for _, topic := range md.Topics {
			for _, part := range topic.Partitions {
				if len(part.Isr) != localstack.ClusterSize {
					return false, fmt.Errorf("topic %s partition %d: ISR %d of %d", topic.Name, part.ID, len(part.Isr), localstack.ClusterSize)
				}
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("%s never caught up after its restart: %v", kind, err)
	}
	return time.Now()
}

// sample is one reading of the pipeline: rows landed in the watched
// tables and events acknowledged to the publisher.
type sample struct {
	at    time.Time
	rows  int
	acked int64
}

type timeline struct {
	mu      sync.Mutex
	samples []sample
	done    chan struct{}
	stopped chan struct{}
}

// sampleTimeline reads the pipeline every 200 ms until stop.
func sampleTimeline(ctx context.Context, conn driver.Conn, tables []string, tenant string, p *publisher) *timeline {
	tl := &timeline{done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(tl.stopped)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			s := sample{at: time.Now(), rows: landedIn(ctx, conn, tables, tenant), acked: p.acked.Load()}
			tl.mu.Lock()
			tl.samples = append(tl.samples, s)
			tl.mu.Unlock()
			select {
			case <-tl.done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return tl
}

func (tl *timeline) stop() []sample {
	close(tl.done)
	<-tl.stopped
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.samples
}

type stallFigures struct {
	rowStall, publishStall time.Duration
	// rateBefore is rows/s over the samples before the kill; recovered is
	// how long after the kill the rate over 2 s, counted from the end of
	// the longest stall, was back to half of it (or every row had landed).
	rateBefore float64
	recovered  time.Duration
}

func analyse(samples []sample, killed time.Time) stallFigures {
	var f stallFigures
	var before []sample
	for _, s := range samples {
		if s.at.Before(killed) {
			before = append(before, s)
		}
	}
	if len(before) >= 2 {
		first, last := before[0], before[len(before)-1]
		f.rateBefore = float64(last.rows-first.rows) / last.at.Sub(first.at).Seconds()
	}
	// Longest run without growth, from the last sample before the kill.
	lastRows, lastAcked := -1, int64(-1)
	var rowsSince, ackedSince, stallEnd time.Time
	final := samples[len(samples)-1]
	for _, s := range samples {
		if s.at.Before(killed) {
			lastRows, lastAcked, rowsSince, ackedSince = s.rows, s.acked, s.at, s.at
			continue
		}
		if s.rows > lastRows || s.rows == final.rows {
			if gap := s.at.Sub(rowsSince); gap > f.rowStall {
				f.rowStall, stallEnd = gap, s.at
			}
			lastRows, rowsSince = s.rows, s.at
		}
		if s.acked > lastAcked || s.acked == final.acked {
			f.publishStall = max(f.publishStall, s.at.Sub(ackedSince))
			lastAcked, ackedSince = s.acked, s.at
		}
	}
	for i, s := range samples {
		if s.at.Before(stallEnd) {
			continue
		}
		j := i
		for j > 0 && s.at.Sub(samples[j-1].at) <= 2*time.Second {
			j--
		}
		rate := float64(s.rows-samples[j].rows) / max(s.at.Sub(samples[j].at).Seconds(), 0.001)
		if s.at.Sub(samples[j].at) >= 1500*time.Millisecond && (rate >= f.rateBefore/2 || s.rows == final.rows) && !samples[j].at.Before(stallEnd.Add(-200*time.Millisecond)) {
			f.recovered = s.at.Sub(killed)
			break
		}
	}
	return f
}
