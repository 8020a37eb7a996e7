package clickhouse

import (
	"fmt"
	"regexp"
	"strings"
)

// The cluster form of the migrations.
//
// The files in migrations/ are written once, for one server. On a cluster
// (a <remote_servers> entry of N shards × M replicas, coordinated by
// ZooKeeper) RenderCluster turns each statement into its cluster form:
//
//   - CREATE TABLE x becomes x_local ON CLUSTER c, its engine the
//     Replicated… variant with a ZooKeeper path per shard
//     ('/clickhouse/tables/{shard}/<db>/x_local', '{replica}', then the
//     original arguments), plus x ON CLUSTER c AS x_local with engine
//     Distributed(c, <db>, x_local, <sharding key>). Code and queries keep
//     reading and inserting x; the Distributed table fans reads out to one
//     replica per shard and routes inserts by the sharding key.
//   - The sharding key is ShardingKey, a hash of event_id, when the table has an
//     event_id: every copy of one event (a redelivery, a retried batch)
//     lands on the same shard, where ReplacingMergeTree and FINAL collapse
//     it as on one server. A table without event_id (the rollups) is
//     sharded by its sort key, so rows that merge into one live together.
//   - A materialized view is created on every shard and reads x_local into
//     y_local: it fires on the replica that takes an insert, and the
//     rollup's own replication copies the result. Reading y (Distributed)
//     merges the shards' partial states, so queries that GROUP BY with
//     -Merge combinators read the same figures as on one server.
//   - ALTER TABLE x goes to x_local ON CLUSTER; a MODIFY COLUMN is repeated
//     on the Distributed x (without codecs, which belong to storage) so its
//     column types follow. non_replicated_deduplication_window becomes
//     replicated_deduplication_window: a replicated table has its own block
//     deduplication window, with the same purpose.
//
// Names are qualified with the database: 18.16 has no {database} macro, and
// a qualified name means the same thing on every host that runs the DDL.
// A statement the renderer does not recognise is an error, so a new
// migration written in another shape fails the rendering test instead of
// reaching a cluster half-translated.

// LocalSuffix names the per-shard table under a Distributed one.
const LocalSuffix = "_local"

// ShardingKey is the expression that places an event's rows on a shard.
// toString because 18.16's cityHash64 refuses a UUID ("Unexpected type
// UUID of argument"); it also puts a dead letter, whose event_id is a
// String, on the shard of the event it names.
const ShardingKey = "cityHash64(toString(event_id))"

// ClusterTarget is where the cluster form goes: a cluster named in every
// server's remote_servers, and the database the tables live in.
type ClusterTarget struct {
	Cluster  string
	Database string
}

// Validate names the field that is wrong; both are spliced into DDL.
func (t ClusterTarget) Validate() error {
	var errs []string
	if !identRe.MatchString(t.Cluster) {
		errs = append(errs, fmt.Sprintf("Cluster: %q must match %s", t.Cluster, identRe))
	}
	if !identRe.MatchString(t.Database) {
		errs = append(errs, fmt.Sprintf("Database: %q must match %s", t.Database, identRe))
	}
	if len(errs) > 0 {
		return fmt.Errorf("cluster target: %s", strings.Join(errs, "; "))
	}
	return nil
}

func (t ClusterTarget) q(table string) string { return t.Database + "." + table }
func (t ClusterTarget) onCluster() string     { return " ON CLUSTER " + t.Cluster }
func (t ClusterTarget) zkPath(local string) string {
	return "/clickhouse/tables/{shard}/" + t.Database + "/" + local
}

// RenderCluster is Render followed by the translation to the cluster form
// described above. One statement may become two (a table and its
// Distributed twin; an ALTER of both).
func (m Migration) RenderCluster(params map[string]string, t ClusterTarget) ([]string, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("migration %s: %w", m.ID(), err)
	}
	stmts, err := m.Render(params)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, st := range stmts {
		got, err := clusterStatement(st, t)
		if err != nil {
			return nil, fmt.Errorf("migration %s statement %d/%d: cluster form: %w", m.ID(), i+1, len(stmts), err)
		}
		out = append(out, got...)
	}
	return out, nil
}

var (
	createTableRe = regexp.MustCompile(`^CREATE TABLE IF NOT EXISTS (\w+)\n`)
	engineRe      = regexp.MustCompile(`(?m)^ENGINE = (\w*MergeTree)\(([^()]*)\)$`)
	orderByRe     = regexp.MustCompile(`(?m)^ORDER BY (.+)$`)
	eventIDColRe  = regexp.MustCompile(`(?m)^\s+event_id\s`)
	createMVRe    = regexp.MustCompile(`^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS\n`)
	fromRe        = regexp.MustCompile(`(?m)^FROM (\w+)$`)
	alterRe       = regexp.MustCompile(`^ALTER TABLE (\w+)(\s)`)
	codecRe       = regexp.MustCompile(`\s+CODEC\(`)
)

func clusterStatement(st string, t ClusterTarget) ([]string, error) {
	switch {
	case createTableRe.MatchString(st):
		return clusterTable(st, t)
	case createMVRe.MatchString(st):
		return clusterView(st, t)
	case alterRe.MatchString(st):
		return clusterAlter(st, t)
	}
	first, _, _ := strings.Cut(st, "\n")
	return nil, fmt.Errorf("unrecognised statement %q (want CREATE TABLE IF NOT EXISTS, CREATE MATERIALIZED VIEW IF NOT EXISTS … TO … AS, or ALTER TABLE)", first)
}

func clusterTable(st string, t ClusterTarget) ([]string, error) {
	name := createTableRe.FindStringSubmatch(st)[1]
	local := name + LocalSuffix
	eng := engineRe.FindAllStringSubmatchIndex(st, -1)
	if len(eng) != 1 {
		return nil, fmt.Errorf("table %s: want one line \"ENGINE = …MergeTree(args)\", found %d", name, len(eng))
	}
	kind, args := st[eng[0][2]:eng[0][3]], strings.TrimSpace(st[eng[0][4]:eng[0][5]])
	engine := fmt.Sprintf("ENGINE = Replicated%s('%s', '{replica}'", kind, t.zkPath(local))
	if args != "" {
		engine += ", " + args
	}
	engine += ")"
	// The head precedes the engine line, so it is cut after the splice.
	body := strings.TrimPrefix(st[:eng[0][0]]+engine+st[eng[0][1]:], createTableRe.FindString(st))

	key := ShardingKey
	if !eventIDColRe.MatchString(st) {
		ob := orderByRe.FindStringSubmatch(st)
		if ob == nil {
			return nil, fmt.Errorf("table %s: no event_id column and no ORDER BY to shard by", name)
		}
		cols := strings.TrimSpace(ob[1])
		if strings.HasPrefix(cols, "(") && strings.HasSuffix(cols, ")") {
			cols = cols[1 : len(cols)-1]
		}
		key = "cityHash64(" + cols + ")"
	}
	return []string{
		"CREATE TABLE IF NOT EXISTS " + t.q(local) + t.onCluster() + "\n" + body,
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s%s AS %s\nENGINE = Distributed(%s, %s, %s, %s)",
			t.q(name), t.onCluster(), t.q(local), t.Cluster, t.Database, local, key),
	}, nil
}

func clusterView(st string, t ClusterTarget) ([]string, error) {
	head := createMVRe.FindStringSubmatch(st)
	name, target := head[1], head[2]
	sel := st[len(head[0]):]
	froms := fromRe.FindAllStringSubmatchIndex(sel, -1)
	if len(froms) != 1 || strings.Contains(strings.ToUpper(sel), " JOIN ") {
		return nil, fmt.Errorf("view %s: want a SELECT with one line \"FROM table\" and no JOIN", name)
	}
	src := sel[froms[0][2]:froms[0][3]]
	sel = sel[:froms[0][2]] + t.q(src+LocalSuffix) + sel[froms[0][3]:]
	return []string{
		fmt.Sprintf("CREATE MATERIALIZED VIEW IF NOT EXISTS %s%s TO %s AS\n%s", t.q(name), t.onCluster(), t.q(target+LocalSuffix), sel),
	}, nil
}

func clusterAlter(st string, t ClusterTarget) ([]string, error) {
	m := alterRe.FindStringSubmatch(st)
	name, rest := m[1], st[len("ALTER TABLE ")+len(m[1]):]
	rest = strings.ReplaceAll(rest, "non_replicated_deduplication_window", "replicated_deduplication_window")
	out := []string{"ALTER TABLE " + t.q(name+LocalSuffix) + t.onCluster() + rest}

	// Column types of the Distributed table follow the local one.
	var modify []string
	for _, clause := range splitTopLevel(strings.TrimSpace(rest), ',') {
		clause = strings.TrimSpace(clause)
		if !strings.HasPrefix(clause, "MODIFY COLUMN ") {
			continue
		}
		plain, err := stripCodec(clause)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", name, err)
		}
		modify = append(modify, plain)
	}
	if len(modify) > 0 {
		out = append(out, "ALTER TABLE "+t.q(name)+t.onCluster()+"\n    "+strings.Join(modify, ",\n    "))
	}
	return out, nil
}

// splitTopLevel splits s at sep outside parentheses and quotes.
func splitTopLevel(s string, sep byte) []string {
	var (
		out   []string
		depth int
		quote bool
		start int
	)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quote = !quote
		case quote:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// stripCodec removes " CODEC(…)" from a column clause.
func stripCodec(clause string) (string, error) {
	loc := codecRe.FindStringIndex(clause)
	if loc == nil {
		return clause, nil
	}
	depth := 0
	for i := loc[1] - 1; i < len(clause); i++ {
		switch clause[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return clause[:loc[0]] + clause[i+1:], nil
			}
		}
	}
	return "", fmt.Errorf("unbalanced CODEC in %q", clause)
}
