package eval

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/processors/queries"
	"github.com/tributary-io/tributary/schemas"
)

// eventTables hold the published events: the tables of every declared type
// but the detectors' anomalies.
var eventTables = func() []string {
	var out []string
	for _, info := range schemas.Types() {
		if info.Family != schemas.FamilyAnomaly && !slices.Contains(out, info.Table) {
			out = append(out, info.Table)
		}
	}
	return out
}()

// queryParams are the eval's settings of query parameters whose defaults
// suit production, not a two-minute run. stuck_task's min_age_s defaults
// to 5 minutes, longer than the whole scenario; 30 s is the streaming
// detector's own StuckMin.
var queryParams = map[string]map[string]string{
	"stuck_task": {"min_age_s": "30"},
}

func inList(tenants []string) string {
	q := make([]string, len(tenants))
	for i, t := range tenants {
		q[i] = "'" + strings.ReplaceAll(t, "'", "''") + "'"
	}
	return strings.Join(q, ",")
}

// waitDelivered polls until every published event of the run is in its
// table, counting each event id once (redeliveries are not extra events).
// res.Delivered and res.Landed are those of the last check whose counts
// all succeeded.
func waitDelivered(ctx context.Context, db driver.Conn, res *Result, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	err := poll.Until(ctx, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		delivered, landed := map[string]uint64{}, uint64(0)
		for _, table := range eventTables {
			var n uint64
			err := db.QueryRow(ctx, fmt.Sprintf("SELECT uniqExact(event_id) FROM %s WHERE tenant IN (%s)", table, inList(res.Tenants))).Scan(&n)
			if err != nil {
				return false, fmt.Errorf("count %s: %w", table, err)
			}
			delivered[table], landed = n, landed+n
		}
		res.Delivered, res.Landed = delivered, landed
		if int64(landed) < res.Publish.Published {
			return false, fmt.Errorf("%d of %d published events landed (%v)", landed, res.Publish.Published, delivered)
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("eval: published events not all landed within %s: %w", limit, err)
	}
	return nil
}

// readAnomalies returns what the streaming detectors published for the
// tenants, as the ingest landed it.
func readAnomalies(ctx context.Context, db driver.Conn, tenants []string) ([]Finding, error) {
	rows, err := db.Query(ctx, fmt.Sprintf(`SELECT tenant, kind, entity_type, entity_id, window_start, window_end,
		detector, toString(event_id), event_time, evidence.key, evidence.value
		FROM anomalies FINAL WHERE tenant IN (%s) ORDER BY event_time, kind`, inList(tenants)))
	if err != nil {
		return nil, fmt.Errorf("eval: read anomalies: %w", err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		var id string
		var keys, values []string
		if err := rows.Scan(&f.Tenant, &f.Kind, &f.Entity.Type, &f.Entity.ID, &f.Start, &f.End, &f.By, &id, &f.Emitted, &keys, &values); err != nil {
			return nil, fmt.Errorf("eval: scan anomaly: %w", err)
		}
		f.Source = SourceDetector
		// The event id is a UUIDv7 minted when the detector emitted the
		// finding: its millisecond clock is finer than event_time's second.
		if u, err := uuid.Parse(id); err == nil && u.Version() == 7 {
			sec, nsec := u.Time().UnixTime()
			f.Emitted = time.Unix(sec, nsec)
		}
		f.Evidence = map[string]string{}
		for i := range min(len(keys), len(values)) {
			f.Evidence[keys[i]] = values[i]
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// BaselineLead is the clean start of a scenario the queries that compare
// with a baseline (those with a lookback_s parameter: the lookback_s
// seconds before since) use as that baseline: an analyst runs them over a
// window that follows normal traffic. Scenarios put no anomaly of those
// kinds before it.
const BaselineLead = 40 * time.Second

// stateEvery is how often state queries (what is silent now) are run
// as of a moment, like an analyst's periodic check: silent_host only
// reports hosts silent at its until.
const stateEvery = 10 * time.Second

var stateQueries = map[string]bool{"silent_host": true}

// runQueries runs every query of the analysts' library (except the
// anomalies listing) for each tenant over the scenario [start, end):
// baseline queries from start+BaselineLead, state queries as of every
// stateEvery, the rest over the whole run. Rows found again by a later
// check of a state query are kept once.
func runQueries(ctx context.Context, db driver.Conn, tenants []string, start, end time.Time) ([]Finding, error) {
	all, err := queries.All()
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	var out []Finding
	seen := map[string]bool{}
	for _, q := range all {
		if q.Name == "anomalies" {
			continue
		}
		since, untils := start, []time.Time{end}
		if slices.ContainsFunc(q.Params, func(p queries.Param) bool { return p.Name == "lookback_s" }) {
			since = start.Add(BaselineLead)
		}
		if stateQueries[q.Name] {
			untils = nil
			for u := start.Add(BaselineLead); !u.After(end); u = u.Add(stateEvery) {
				untils = append(untils, u)
			}
		}
		for _, tenant := range tenants {
			for _, until := range untils {
				fs, err := runQuery(ctx, db, q, tenant, since, until)
				if err != nil {
					return nil, err
				}
				for _, f := range fs {
					key := f.Kind + "\x00" + f.Tenant + "\x00" + f.Entity.String() + "\x00" + f.Start.String()
					if !seen[key] {
						seen[key] = true
						out = append(out, f)
					}
				}
			}
		}
	}
	return out, nil
}

func runQuery(ctx context.Context, db driver.Conn, q queries.Query, tenant string, since, until time.Time) ([]Finding, error) {
	vals := map[string]string{"tenant": tenant, "since": strconv.FormatInt(since.Unix(), 10), "until": strconv.FormatInt(until.Unix(), 10)}
	for k, v := range queryParams[q.Name] {
		vals[k] = v
	}
	sql, err := q.Render(vals, until)
	if err != nil {
		return nil, fmt.Errorf("eval: render %s: %w", q.Name, err)
	}
	cols, rows, err := queries.Run(ctx, db, sql)
	if err != nil {
		return nil, fmt.Errorf("eval: query %s: %w", q.Name, err)
	}
	var out []Finding
	for _, r := range rows {
		f, err := sqlFinding(q.Name, tenant, cols, r)
		if err != nil {
			return nil, fmt.Errorf("eval: query %s: %w", q.Name, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// sqlFinding reads a row whose first columns are entity_type, entity_id,
// window_start, window_end (the library's contract); the rest become
// evidence.
func sqlFinding(name, tenant string, cols, row []string) (Finding, error) {
	if len(cols) < 4 || cols[0] != "entity_type" || cols[1] != "entity_id" || cols[2] != "window_start" || cols[3] != "window_end" {
		return Finding{}, fmt.Errorf("columns %v do not start with entity_type, entity_id, window_start, window_end", cols)
	}
	f := Finding{Source: SourceQuery, By: name, Kind: name, Tenant: tenant,
		Entity: schemas.Entity{Type: row[0], ID: row[1]}, Evidence: map[string]string{}}
	var err error
	if f.Start, err = time.Parse(time.DateTime, row[2]); err != nil {
		return f, err
	}
	if f.End, err = time.Parse(time.DateTime, row[3]); err != nil {
		return f, err
	}
	for i := 4; i < len(cols) && i < len(row); i++ {
		f.Evidence[cols[i]] = row[i]
	}
	// stuck_task rows name a task; the incident's series is its type/queue,
	// as the streaming detector's evidence says.
	if typ, queue := f.Evidence["task_type"], f.Evidence["queue"]; name == "stuck_task" && typ != "" {
		f.Evidence["series"] = "task:" + typ + "/" + queue
	}
	return f, nil
}
