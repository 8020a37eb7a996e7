//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tributary-io/tributary/infra/localstack"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestClusterClickHouseReplicaKilled ingests 100k events into a private
// ClickHouse cluster (2 shards × 2 replicas, ZooKeeper) through the real
// tributary-ingest with -clickhouse-cluster, and SIGKILLs one replica
// mid-stream: the first node of ingest's address list, so both the
// connections ingest holds and one shard's replica die at once. Writers
// retry on the next address, whose Distributed tables route that shard's
// rows to the surviving replica, so the pipeline keeps flowing while the
// replica is down. Once every event is inserted (at least 20 s later) it
// restarts and fetches what it missed from its peer, which in turn
// fetches what was acknowledged on the killed replica alone. At the end every acknowledged publish is in the
// Distributed tables exactly once after FINAL, both replicas of each shard
// agree, and nothing was dead-lettered. It prints the stall the kill
// caused, how many events were unreadable while the replica was down, and
// the recovery times.
func TestClusterClickHouseReplicaKilled(t *testing.T) {
	env := testenv.Private(t) // NATS and Kafka; its single ClickHouse stays idle
	cl := testenv.PrivateCHCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	id := suffix(t)
	tenant, db, group := "f"+id, "faults_"+id, "ingest-"+id
	bin := buildIngest(t)
	want := mixOf(faultEvents)
	tables := append(append([]string{}, jetStreamTables...), kafkaTables...)

	victim := localstack.ReplicaName(1, 1)
	if cl.Nodes[0] != victim {
		t.Fatalf("ingest's first address is %s, want %s", cl.Nodes[0], victim)
	}
	// Reads go through the Distributed tables of a node that stays up.
	conn := openClusterCH(ctx, t, []string{cl.NodeAddr(localstack.ReplicaName(2, 2)), cl.NodeAddr(localstack.ReplicaName(1, 2))}, db)

	cenv := *env
	cenv.ClickHouseAddr = cl.Addr
	proc := startIngest(t, bin, &cenv, db, group, "-clickhouse-cluster", cl.Name)
	rows := sampleRowsWritten(ctx, proc)
	p := publishMix(ctx, t, &cenv, tenant, want)
	// Kill mid-stream: a fifth of the events inserted, more being published.
	rows.waitFor(ctx, t, uint64(want.total()/5))

	killed := time.Now()
	if err := cl.Control.Kill(victim); err != nil {
		t.Fatalf("kill %s: %v", victim, err)
	}
	atKill := rows.at(killed)
	t.Logf("%s killed after %d events published, %d rows written", victim, p.acked.Load(), atKill)
	resumed := rows.growthAfter(ctx, t, killed)
	stall := resumed.Sub(killed)

	// The replica stays down until ingest has inserted every event (at
	// least 20 s): the survivors take all of it.
	p.wait(t, want.total())
	rows.waitFor(ctx, t, uint64(want.total()))
	time.Sleep(time.Until(killed.Add(20 * time.Second))) // not a poll: a floor on the outage
	downFor := time.Since(killed)
	downRows := rows.at(time.Now()) - atKill
	t.Log("consumer while the replica is down:")
	logStats(t, proc)
	if downRows == 0 {
		t.Errorf("no row written in the %s %s was down: the pipeline stopped", downFor.Round(time.Second), victim)
	}
	// Shard 1 is read from its surviving replica alone now. What it lacks
	// was acknowledged on the killed one (insert_distributed_sync writes one
	// replica; replication is asynchronous) and not fetched before the kill.
	// Shard 2's replicas first catch up with each other, so only shard 1's
	// loss shows.
	for _, name := range []string{localstack.ReplicaName(2, 1), localstack.ReplicaName(2, 2)} {
		c := openClusterCH(ctx, t, []string{cl.NodeAddr(name)}, db)
		for _, table := range tables {
			if err := c.Exec(ctx, "SYSTEM SYNC REPLICA "+table+"_local"); err != nil {
				t.Fatalf("sync replica %s on %s: %v", table, name, err)
			}
		}
	}
	readable := 0
	for _, table := range tables {
		readable += max(distinct(ctx, conn, table, tenant), 0)
	}
	stranded := want.total() - readable

	restart := time.Now()
	if err := cl.Control.Start(ctx, victim); err != nil {
		t.Fatalf("start %s: %v", victim, err)
	}
	up := time.Since(restart)
	// Every replica's queue drained: the restarted one fetched what it
	// missed, its peer what was stranded on it.
	nodes := map[string]driver.Conn{}
	for _, name := range cl.Nodes {
		nodes[name] = openClusterCH(ctx, t, []string{cl.NodeAddr(name)}, db)
		for _, table := range tables {
			if err := nodes[name].Exec(ctx, "SYSTEM SYNC REPLICA "+table+"_local"); err != nil {
				t.Fatalf("sync replica %s on %s: %v", table, name, err)
			}
		}
	}
	caughtUp := time.Now()
	end := waitLanded(ctx, t, conn, tenant, want, tables)
	// Both replicas of each shard hold the same events (FINAL: raw counts
	// differ while merges drop older copies unevenly).
	for s := 1; s <= 2; s++ {
		a, b := nodes[localstack.ReplicaName(s, 1)], nodes[localstack.ReplicaName(s, 2)]
		for _, table := range tables {
			q := "SELECT count() FROM " + table + "_local FINAL WHERE tenant = ?"
			var na, nb uint64
			if err := a.QueryRow(ctx, q, tenant).Scan(&na); err != nil {
				t.Fatalf("%s on shard %d replica 1: %v", table, s, err)
			}
			if err := b.QueryRow(ctx, q, tenant).Scan(&nb); err != nil {
				t.Fatalf("%s on shard %d replica 2: %v", table, s, err)
			}
			if na != nb || na == 0 {
				t.Errorf("%s: shard %d replicas hold %d and %d events", table, s, na, nb)
			}
		}
	}
	t.Logf("RECOVERY clickhouse-replica-killed: inserts stalled %s after the kill; %d rows written in the %s %s was down; "+
		"%d acknowledged events were readable only from it meanwhile; it answered %s after its start and every replica had caught up %s after it; "+
		"all %d events readable %s after the kill",
		stall.Round(time.Millisecond), downRows, downFor.Round(time.Millisecond), victim, stranded, up.Round(time.Millisecond),
		caughtUp.Sub(restart).Round(time.Millisecond), want.total(), end.Sub(killed).Round(time.Millisecond))
	checkExactlyOnce(ctx, t, conn, tenant, want)
	logStats(t, proc)
	if ep, err := cl.Control.Endpoints(ctx); err == nil {
		var rss int64
		for _, n := range ep.Nodes {
			rss += n.RSSBytes
		}
		t.Logf("cluster RSS after the run: %d MiB (ZooKeeper and 4 clickhouse-server)", rss>>20)
	}
}

// openClusterCH opens database db on the first answering address of addrs.
func openClusterCH(ctx context.Context, t *testing.T, addrs []string, db string) driver.Conn {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: addrs, Auth: clickhouse.Auth{Database: db},
		DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// rowSampler records the rows ingest has written (every table's writer,
// from /debug/ingest) every 100 ms, so a stall is measured on the writer
// side, whatever reads do meanwhile.
type rowSampler struct {
	mu      sync.Mutex
	times   []time.Time
	written []uint64
}

func sampleRowsWritten(ctx context.Context, p *ingestProc) *rowSampler {
	s := &rowSampler{}
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if n, err := rowsWritten(ctx, p.httpURL); err == nil {
				s.mu.Lock()
				s.times, s.written = append(s.times, time.Now()), append(s.written, n)
				s.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// at is the last sample at or before when.
func (s *rowSampler) at(when time.Time) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, _ := slices.BinarySearchFunc(s.times, when, func(a, b time.Time) int { return a.Compare(b) })
	if i == 0 {
		return 0
	}
	return s.written[i-1]
}

// waitFor waits until at least n rows are written.
func (s *rowSampler) waitFor(ctx context.Context, t *testing.T, n uint64) {
	t.Helper()
	err := poll.Until(ctx, 50*time.Millisecond, func(context.Context) (bool, error) {
		if got := s.at(time.Now()); got < n {
			return false, fmt.Errorf("%d of %d rows written", got, n)
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// growthAfter waits for the first sample after since that exceeds the
// count at since, and returns its time.
func (s *rowSampler) growthAfter(ctx context.Context, t *testing.T, since time.Time) time.Time {
	t.Helper()
	base := s.at(since)
	var grew time.Time
	err := poll.Until(ctx, 50*time.Millisecond, func(context.Context) (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, at := range s.times {
			if at.After(since) && s.written[i] > base {
				grew = at
				break
			}
		}
		if grew.IsZero() {
			return false, fmt.Errorf("still %d rows written since %s", base, since.Format(time.TimeOnly))
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("no insert succeeded after the kill: %v", err)
	}
	return grew
}

// rowsWritten sums RowsWritten over the writers ingest reports.
func rowsWritten(ctx context.Context, url string) (uint64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/debug/ingest", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var s struct {
		Writers map[string]struct{ RowsWritten uint64 }
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return 0, err
	}
	var n uint64
	for _, w := range s.Writers {
		n += w.RowsWritten
	}
	return n, nil
}
