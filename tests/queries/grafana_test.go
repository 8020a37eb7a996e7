package queries

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/tributary-io/tributary/infra/clickhouse"
	lib "github.com/tributary-io/tributary/processors/queries"
	"github.com/tributary-io/tributary/tests/testenv"
)

// The Grafana provisioning of infra/compose: its YAML must point at the
// compose ClickHouse, every panel at the provisioned datasource, and every
// query of the dashboard (panels, annotations, variables) must run on
// ClickHouse 18.16 and on a current engine once Grafana's ClickHouse plugin
// has expanded its macros and variables (expandGrafana says how).

var grafanaDir = filepath.Join("..", "..", "infra", "compose")

const clickHousePlugin = "grafana-clickhouse-datasource"

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaTarget struct {
	RefID      string `json:"refId"`
	Datasource *dsRef `json:"datasource"`
	EditorType string `json:"editorType"`
	RawSQL     string `json:"rawSql"`
}

type grafanaDashboard struct {
	UID         string `json:"uid"`
	Annotations struct {
		List []struct {
			Name       string         `json:"name"`
			BuiltIn    int            `json:"builtIn"`
			Datasource *dsRef         `json:"datasource"`
			Target     *grafanaTarget `json:"target"`
			Filter     *struct {
				IDs []int `json:"ids"`
			} `json:"filter"`
		} `json:"list"`
	} `json:"annotations"`
	Templating struct {
		List []struct {
			Name       string        `json:"name"`
			Type       string        `json:"type"`
			Multi      bool          `json:"multi"`
			IncludeAll bool          `json:"includeAll"`
			Datasource *dsRef        `json:"datasource"`
			Query      grafanaTarget `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int             `json:"id"`
		Title      string          `json:"title"`
		Type       string          `json:"type"`
		Datasource *dsRef          `json:"datasource"`
		Targets    []grafanaTarget `json:"targets"`
	} `json:"panels"`
}

// grafanaQuery is one SQL text of the dashboard and where it comes from.
type grafanaQuery struct {
	name string // "panel <title> <refId>", "annotation <name>"
	sql  string
}

func loadDashboard(t *testing.T) grafanaDashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(grafanaDir, "grafana", "dashboards", "tributary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("tributary.json: %v", err)
	}
	return d
}

func loadYAML(t *testing.T, rel string, into any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(grafanaDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

// provisionedUID checks the datasource provisioning against the compose
// file and returns the datasource's uid.
func provisionedUID(t *testing.T) string {
	t.Helper()
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, UID, Type string
			JSONData        struct {
				Host            string `yaml:"host"`
				Port            int    `yaml:"port"`
				Protocol        string `yaml:"protocol"`
				DefaultDatabase string `yaml:"defaultDatabase"`
			} `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	loadYAML(t, "grafana/provisioning/datasources/clickhouse.yaml", &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("clickhouse.yaml: apiVersion %d with %d datasources, want 1 and 1", ds.APIVersion, len(ds.Datasources))
	}
	d := ds.Datasources[0]
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Ports       []string          `yaml:"ports"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
		} `yaml:"services"`
	}
	loadYAML(t, "docker-compose.yml", &compose)
	ch, ok := compose.Services[d.JSONData.Host]
	switch {
	case d.Type != clickHousePlugin || d.UID == "":
		t.Errorf("datasource type %q uid %q, want type %s and a uid the panels name", d.Type, d.UID, clickHousePlugin)
	case !ok || !strings.HasPrefix(ch.Image, "clickhouse/clickhouse-server:"):
		t.Errorf("datasource host %q is not the compose ClickHouse service", d.JSONData.Host)
	case d.JSONData.Port != 9000 || d.JSONData.Protocol != "native":
		t.Errorf("datasource on port %d over %q, want ClickHouse's native protocol on 9000", d.JSONData.Port, d.JSONData.Protocol)
	case d.JSONData.DefaultDatabase != clickhouse.Config{}.Defaults().Database:
		t.Errorf("datasource database %q, want %q: the one tributary-ingest creates", d.JSONData.DefaultDatabase, clickhouse.Config{}.Defaults().Database)
	}

	g, ok := compose.Services["grafana"]
	if !ok {
		t.Fatal("docker-compose.yml has no grafana service")
	}
	if !regexp.MustCompile(`^grafana/grafana:12\.\d+\.\d+$`).MatchString(g.Image) {
		t.Errorf("grafana image %q: want grafana/grafana:12.x.y, a concrete tag", g.Image)
	}
	if !slices.Contains(g.Ports, "127.0.0.1:3000:3000") {
		t.Errorf("grafana ports %v, want 127.0.0.1:3000:3000", g.Ports)
	}
	if g.Environment["GF_AUTH_ANONYMOUS_ENABLED"] != "true" || g.Environment["GF_AUTH_ANONYMOUS_ORG_ROLE"] != "Viewer" {
		t.Errorf("grafana: anonymous viewers are not on: %v", g.Environment)
	}
	if !strings.Contains(g.Environment["GF_PLUGINS_PREINSTALL_SYNC"], clickHousePlugin+"@") {
		t.Errorf("grafana does not preinstall %s at a pinned version: %v", clickHousePlugin, g.Environment)
	}
	var prov struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	loadYAML(t, "grafana/provisioning/dashboards/tributary.yaml", &prov)
	if len(prov.Providers) != 1 {
		t.Fatalf("dashboards provider: %d providers, want 1", len(prov.Providers))
	}
	for _, want := range []string{
		"./grafana/provisioning/datasources:/etc/grafana/provisioning/datasources:ro",
		"./grafana/provisioning/dashboards:/etc/grafana/provisioning/dashboards:ro",
		"./grafana/dashboards:" + prov.Providers[0].Options.Path + ":ro",
	} {
		if !slices.Contains(g.Volumes, want) {
			t.Errorf("grafana volumes %v lack %s", g.Volumes, want)
		}
	}
	return d.UID
}

// grafanaQueries checks that everything queries the provisioned datasource
// and returns every SQL text of the dashboard.
func grafanaQueries(t *testing.T, d grafanaDashboard, uid string) (vars map[string]string, qs []grafanaQuery) {
	t.Helper()
	checkDS := func(what string, ds *dsRef) {
		if ds == nil || ds.Type != clickHousePlugin || ds.UID != uid {
			t.Errorf("%s: datasource %+v, want the provisioned %s %s", what, ds, clickHousePlugin, uid)
		}
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		ids[p.ID] = true
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		checkDS("panel "+p.Title, p.Datasource)
		for _, tg := range p.Targets {
			checkDS("panel "+p.Title+" "+tg.RefID, tg.Datasource)
			if tg.EditorType != "sql" || tg.RawSQL == "" {
				t.Errorf("panel %q %s: editorType %q with SQL %q", p.Title, tg.RefID, tg.EditorType, tg.RawSQL)
			}
			qs = append(qs, grafanaQuery{"panel " + p.Title + " " + tg.RefID, tg.RawSQL})
		}
	}
	annotations := 0
	for _, a := range d.Annotations.List {
		if a.BuiltIn == 1 {
			continue
		}
		annotations++
		checkDS("annotation "+a.Name, a.Datasource)
		if a.Target == nil || a.Target.RawSQL == "" {
			t.Fatalf("annotation %q has no SQL target", a.Name)
		}
		if a.Filter == nil || len(a.Filter.IDs) == 0 || !ids[a.Filter.IDs[0]] {
			t.Errorf("annotation %q is not on a panel of the dashboard: %+v", a.Name, a.Filter)
		}
		qs = append(qs, grafanaQuery{"annotation " + a.Name, a.Target.RawSQL})
	}
	if annotations == 0 {
		t.Error("no anomaly annotation query")
	}
	vars = map[string]string{}
	for _, v := range d.Templating.List {
		checkDS("variable "+v.Name, v.Datasource)
		if v.Type != "query" || !v.Multi || !v.IncludeAll {
			t.Errorf("variable %s: type %q multi %v includeAll %v, want a multi-value query with All", v.Name, v.Type, v.Multi, v.IncludeAll)
		}
		vars[v.Name] = v.Query.RawSQL
	}
	for _, name := range []string{"tenant", "host"} {
		if vars[name] == "" {
			t.Errorf("no %s variable query", name)
		}
	}
	return vars, qs
}

func TestGrafanaProvisioning(t *testing.T) {
	uid := provisionedUID(t)
	grafanaQueries(t, loadDashboard(t), uid)
}

// grafanaRange is what the plugin's macros read: the panel's time range and
// interval.
type grafanaRange struct {
	from, to time.Time
	interval time.Duration
}

var (
	timeFilterRe = regexp.MustCompile(`\$__timeFilter\(\s*([^()]+?)\s*\)`)
	fromTimeRe   = regexp.MustCompile(`\$__fromTime\b`)
	toTimeRe     = regexp.MustCompile(`\$__toTime\b`)
	intervalSRe  = regexp.MustCompile(`\$__interval_s\b`)
	variableRe   = regexp.MustCompile(`\$\{(\w+)(?::(\w+))?\}|\$(\w+)`)
)

// expandGrafana does what Grafana and grafana-clickhouse-datasource 4.x
// (pkg/macros/macros.go; 4.0.3 and later) do to a query before ClickHouse
// sees it:
//
//	$__timeFilter(c)  c >= toDateTime(<from, Unix s>) AND c <= toDateTime(<to, Unix s>)
//	$__fromTime       toDateTime(<from, Unix s>)
//	$__toTime         toDateTime(<to, Unix s>)
//	$__interval_s     the panel interval in whole seconds, at least 1
//	${v:singlequote}, ${v}, $v
//	                  a multi-value variable's selection as 'a','b' (Grafana's
//	                  singlequote format; the plugin formats arrays the same
//	                  way); All is every value the variable's query returned
//
// Anything else that starts with $ is an error: the _ms macros and
// $__timeInterval turn into DateTime64 and toStartOfInterval, which 18.16
// lacks, and an unknown variable would reach ClickHouse verbatim.
func expandGrafana(sql string, r grafanaRange, vars map[string][]string) (string, error) {
	dt := func(t time.Time) string { return fmt.Sprintf("toDateTime(%d)", t.Unix()) }
	sql = timeFilterRe.ReplaceAllStringFunc(sql, func(m string) string {
		c := timeFilterRe.FindStringSubmatch(m)[1]
		return fmt.Sprintf("%s >= %s AND %s <= %s", c, dt(r.from), c, dt(r.to))
	})
	sql = fromTimeRe.ReplaceAllString(sql, dt(r.from))
	sql = toTimeRe.ReplaceAllString(sql, dt(r.to))
	sql = intervalSRe.ReplaceAllString(sql, strconv.Itoa(max(int(r.interval.Seconds()), 1)))
	var errs []string
	sql = variableRe.ReplaceAllStringFunc(sql, func(m string) string {
		s := variableRe.FindStringSubmatch(m)
		name, format := s[1]+s[3], s[2]
		vals, ok := vars[name]
		if !ok || strings.HasPrefix(name, "__") || (format != "" && format != "singlequote") {
			errs = append(errs, m)
			return m
		}
		quoted := make([]string, len(vals))
		for i, v := range vals {
			quoted[i] = "'" + strings.ReplaceAll(v, "'", `\'`) + "'"
		}
		return strings.Join(quoted, ",")
	})
	if len(errs) > 0 {
		return "", fmt.Errorf("no expansion for %v", errs)
	}
	return sql, nil
}

// grafanaEngine runs expanded SQL on one engine and returns its rows.
type grafanaEngine struct {
	name  string
	query func(sql string) ([][]string, error)
}

// grafanaFixture is every query fixture of the package, and dead letters.
func grafanaFixture() (*fx, []batch) {
	f := &fx{}
	authFixture(f)
	taskFixture(f)
	telemetryFixture(f)
	anomalyFixture(f)
	var dl [][]any
	for i, reason := range []string{"tenant_mismatch: subject tenant other", "decode: unexpected end of JSON input", "tenant_mismatch: subject tenant x"} {
		ts := at(sec(100 + 30*i))
		dl = append(dl, []any{uuid.New().String(), "auth", "jetstream", "dlq.auth", reason,
			[]string{"tenant"}, []string{"acme"}, "{}", ts, ts})
	}
	return f, []batch{{"INSERT INTO dead_letters (event_id, family, transport, topic, reason, headers.key, headers.value, payload, event_time, ingest_time) VALUES", dl}}
}

func grafanaEngines(t *testing.T) []grafanaEngine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f, extra := grafanaFixture()

	conn := newDB(ctx, t, testenv.Get(t).ClickHouseAddr)
	f.insert(ctx, t, conn)
	for _, b := range extra {
		batch, err := conn.PrepareBatch(ctx, b.sql)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range b.rows {
			if err := batch.Append(r...); err != nil {
				t.Fatal(err)
			}
		}
		if err := batch.Send(); err != nil {
			t.Fatal(err)
		}
	}
	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		t.Fatal(err)
	}

	m := testenv.NewModern(t)
	migrateModern(t, m, "grafana")
	modern, err := m.Version()
	if err != nil {
		t.Fatal(err)
	}
	inserts := f.literalInserts(t)
	for _, b := range extra {
		inserts = append(inserts, literalInsert(t, b))
	}
	for _, ins := range inserts {
		if err := m.Exec(ins); err != nil {
			t.Fatalf("fixture into chDB: %v", err)
		}
	}
	return []grafanaEngine{
		{"ClickHouse " + version, func(sql string) ([][]string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, rows, err := lib.Run(ctx, conn, sql)
			return rows, err
		}},
		{"chDB ClickHouse " + modern, m.Query},
	}
}

// literalInsert renders one batch as fx.literalInserts renders its own.
func literalInsert(t *testing.T, b batch) string {
	t.Helper()
	var sb strings.Builder
	sb.WriteString(b.sql)
	for i, r := range b.rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		cells := make([]string, len(r))
		for j, v := range r {
			lit, err := sqlLiteral(v)
			if err != nil {
				t.Fatalf("%s row %d column %d: %v", b.sql[:30], i, j, err)
			}
			cells[j] = lit
		}
		sb.WriteString(" (" + strings.Join(cells, ", ") + ")")
	}
	return sb.String()
}

// TestGrafanaQueriesOnBothEngines runs every query of the dashboard on the
// fixtures of this package (T-1h to T+1h), on the 18.16 server and on chDB,
// with All and with one tenant and host selected, at a fine and a coarse
// interval. Every query must run and find rows there (the fixtures hold
// events of each family, dead letters and an anomaly of host h1's series:
// the core panels, events per family and anomalies, among them), and both
// engines must return the same rows (but where now() is read).
func TestGrafanaQueriesOnBothEngines(t *testing.T) {
	uid := provisionedUID(t)
	varSQL, qs := grafanaQueries(t, loadDashboard(t), uid)
	if t.Failed() {
		t.FailNow()
	}
	engines := grafanaEngines(t)
	results := make([]map[string][][]string, len(engines))
	for i, e := range engines {
		results[i] = map[string][][]string{}
		t.Run(e.name, func(t *testing.T) {
			base := grafanaRange{from: at(-time.Hour), to: at(time.Hour), interval: 20 * time.Second}
			// The variables first: All is whatever their queries return.
			all := map[string][]string{}
			for _, name := range []string{"tenant", "host"} {
				sql, err := expandGrafana(varSQL[name], base, all)
				if err != nil {
					t.Fatalf("variable %s: %v", name, err)
				}
				rows, err := e.query(sql)
				if err != nil {
					t.Fatalf("variable %s: %v\n%s", name, err, sql)
				}
				for _, r := range rows {
					all[name] = append(all[name], r[0])
				}
			}
			if !slices.Equal(all["tenant"], []string{"acme"}) || !slices.Equal(all["host"], []string{"h1", "h2", "h3"}) {
				t.Fatalf("variables: tenants %v, hosts %v; want [acme] and [h1 h2 h3]", all["tenant"], all["host"])
			}
			selections := map[string]map[string][]string{
				"All":         all,
				"acme and h1": {"tenant": {"acme"}, "host": {"h1"}},
			}
			for sel, vars := range selections {
				for _, interval := range []time.Duration{20 * time.Second, 5 * time.Minute} {
					r := base
					r.interval = interval
					for _, q := range qs {
						sql, err := expandGrafana(q.sql, r, vars)
						if err != nil {
							t.Errorf("%s: %v", q.name, err)
							continue
						}
						rows, err := e.query(sql)
						key := fmt.Sprintf("%s (%s, interval %s)", q.name, sel, interval)
						switch {
						case err != nil:
							t.Errorf("%s: %v\n%s", key, err, sql)
						case len(rows) == 0:
							t.Errorf("%s: no rows on the fixtures\n%s", key, sql)
						}
						if err == nil && !strings.Contains(sql, "now()") { // the two engines' now() differ
							results[i][key] = rows
						}
					}
				}
			}
		})
	}
	for key, rows := range results[0] {
		if diff := compareRows(rows, results[1][key]); diff != "" {
			t.Errorf("%s: rows differ between %s and %s:\n%s", key, engines[0].name, engines[1].name, diff)
		}
	}
}

func TestExpandGrafana(t *testing.T) {
	r := grafanaRange{from: time.Unix(1000, 0), to: time.Unix(4600, 0), interval: 500 * time.Millisecond}
	got, err := expandGrafana("SELECT $__interval_s WHERE $__timeFilter(event_time) AND t IN (${tenant:singlequote}) AND h IN ($host) AND x < $__toTime",
		r, map[string][]string{"tenant": {"a", "o'b"}, "host": {"h1"}})
	want := "SELECT 1 WHERE event_time >= toDateTime(1000) AND event_time <= toDateTime(4600) AND t IN ('a','o\\'b') AND h IN ('h1') AND x < toDateTime(4600)"
	if err != nil || got != want {
		t.Fatalf("got %q, %v\nwant %q", got, err, want)
	}
	for _, bad := range []string{"$__timeFilter_ms(t)", "$__timeInterval(t)", "$__fromTime_ms", "$nope", "${tenant:csv}"} {
		if _, err := expandGrafana(bad, r, map[string][]string{"tenant": {"a"}}); err == nil {
			t.Errorf("%s expanded without error", bad)
		}
	}
}
