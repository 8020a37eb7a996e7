package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tributary-io/tributary/infra/cli"
	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/processors/queries"
)

type config struct {
	List    bool
	Explain bool
	Print   bool
	// Entity narrows the result to one entity_id (or a * pattern).
	Entity string
	Name   string
	Values map[string]string
	Format string
	CH     clickhouse.Config
	// Warnings are printed before the query runs (deprecated settings).
	Warnings []string
	// Hint, if set, hears why a result is empty.
	Hint io.Writer
	// Tail, when set, follows anomaly events instead of running a query.
	Tail *tailConfig
}

// usageError is a mistake in the command line found after parsing (an
// unknown query, a parameter missing or malformed): exit code 2, like a
// bad flag, not 1 like a failing server.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

type kv map[string]string

func (m kv) String() string { return "" }
func (m kv) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("--param %q: want k=v", s)
	}
	m[k] = v
	return nil
}

func parseArgs(args []string, stderr io.Writer) (config, error) {
	cfg := config{Values: map[string]string{}}
	if len(args) > 0 && args[0] == "list" {
		cfg.List = true
		return cfg, nil
	}
	if len(args) > 0 && args[0] == "tail" {
		tc, err := parseTail(args[1:], stderr)
		cfg.Tail = tc
		return cfg, err
	}
	if len(args) > 0 && args[0] == "explain" {
		if len(args) != 2 {
			return cfg, errors.New("usage: tributary-query explain <name>")
		}
		cfg.Explain, cfg.Name = true, args[1]
		return cfg, nil
	}
	fs := flag.NewFlagSet("tributary-query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: tributary-query list
       tributary-query explain <name>
       tributary-query tail [--tenant t] [--kind k]     (anomalies live, as the detectors publish them)
       tributary-query [--print] <name> [--since 1h] [--until 0s] [--tenant t] [--entity id] [--param k=v]... [--format table|csv|json]

Runs a query of the analysts' library against ClickHouse (-clickhouse-addr,
-clickhouse-database: the database must exist, this tool reads only).
Every flag can also be set by its variable (-clickhouse-addr:
TRIBUTARY_CLICKHOUSE_ADDR) or as a key of the -config YAML file.
Exit codes: 0 success, 1 the server or the query failed, 2 bad usage.

flags:
`)
		fs.PrintDefaults()
	}
	fs.BoolVar(&cfg.Print, "print", false, "print the rendered SQL instead of running it")
	since := fs.String("since", "", "start: a duration ago (1h), RFC 3339 or unix seconds (default 1h)")
	until := fs.String("until", "", "end, same forms (default now)")
	tenant := fs.String("tenant", "", "tenant")
	fs.Var(kv(cfg.Values), "param", "k=v, repeatable")
	fs.StringVar(&cfg.Format, "format", "table", "table, csv or json (typed: numbers as numbers, times RFC 3339 UTC)")
	fs.StringVar(&cfg.Entity, "entity", "", "only this entity_id, e.g. host-02/cpu.usage, alice or 203.0.113.9; * matches any run of characters (host-02/*)")
	fs.StringVar(&cfg.CH.Addr, "clickhouse-addr", "127.0.0.1:9000", "ClickHouse native host:port (env TRIBUTARY_CLICKHOUSE_ADDR)")
	fs.StringVar(&cfg.CH.Database, "clickhouse-database", "", "ClickHouse database, read only (env TRIBUTARY_CLICKHOUSE_DATABASE; default tributary)")
	var chSec secure.ClickHouse
	secure.RegisterClickHouse(fs, os.Getenv, &chSec)
	cli.AddConfigFlag(fs)
	// Flags may come before or after the name.
	var rest []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return cfg, err
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	// The command line is read; variables and the settings file fill the rest.
	if _, err := cli.Parse(fs, nil); err != nil {
		return cfg, err
	}
	if len(rest) != 1 {
		return cfg, errors.New("usage: tributary-query list | explain <name> | [--print] <name> [--since 1h] [--tenant t] [--entity id] [--param k=v] [--format table|csv|json]")
	}
	cfg.Name = rest[0]
	for k, v := range map[string]string{"since": *since, "until": *until, "tenant": *tenant} {
		if v != "" {
			cfg.Values[k] = v
		}
	}
	if cfg.Format != "table" && cfg.Format != "csv" && cfg.Format != "json" {
		return cfg, fmt.Errorf("--format %q: want table, csv or json", cfg.Format)
	}
	if old := os.Getenv("TRIBUTARY_CLICKHOUSE_DB"); cfg.CH.Database == "" && old != "" {
		// The name this tool used to read; every binary now reads one.
		cfg.CH.Database = old
		cfg.Warnings = append(cfg.Warnings, "TRIBUTARY_CLICKHOUSE_DB is deprecated: set TRIBUTARY_CLICKHOUSE_DATABASE, as for tributary-ingest")
	}
	cfg.CH.ReadOnly = true
	if err := chSec.Apply(&cfg.CH); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.Tail != nil {
		return runTail(ctx, cfg.Tail, out)
	}
	if cfg.List {
		all, err := queries.All()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, q := range all {
			var ps []string
			for _, p := range q.Params {
				s := p.Name
				if p.HasDefault {
					s += "=" + p.Default
				}
				ps = append(ps, s)
			}
			fmt.Fprintf(tw, "%s\t%s\n", q.Name, strings.Join(ps, " "))
		}
		return tw.Flush()
	}
	q, err := queries.Get(cfg.Name)
	if err != nil {
		return usageError{err}
	}
	if cfg.Explain {
		return explain(out, q)
	}
	sql, err := q.Render(cfg.Values, time.Now())
	if err != nil {
		return usageError{err}
	}
	if cfg.Entity != "" {
		sql = queries.ForEntity(sql, cfg.Entity)
	}
	if cfg.Print {
		_, err := fmt.Fprintln(out, sql)
		return err
	}
	conn, err := clickhouse.Open(ctx, cfg.CH, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	res, err := queries.Exec(ctx, conn, sql)
	if err != nil {
		return fmt.Errorf("%s: %w", q.Name, err)
	}
	if len(res.Rows) == 0 && cfg.Hint != nil {
		// An empty table says nothing about why; say what was asked.
		fmt.Fprintf(cfg.Hint, "tributary-query: no rows: %s found nothing for tenant %q between %s and %s (UTC)%s. A quiet window, or thresholds too strict for it: 'tributary-query explain %s' lists the parameters; widen --since, or check the tenant.\n",
			q.Name, cfg.Values["tenant"], window(cfg.Values, "since", "1h"), window(cfg.Values, "until", "0s"), entityNote(cfg.Entity), q.Name)
	}
	return write(out, cfg.Format, res)
}

func window(vals map[string]string, k, def string) string {
	if v := vals[k]; v != "" {
		return v
	}
	if def == "0s" {
		return "now"
	}
	return def + " ago"
}

func entityNote(e string) string {
	if e == "" {
		return ""
	}
	return " for entity " + strconv.Quote(e)
}

// explain prints what a query finds and its parameters.
func explain(out io.Writer, q queries.Query) error {
	fmt.Fprintf(out, "%s\n\n%s\n\nparameters:\n", q.Name, q.Description)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, p := range q.Params {
		def := "(required)"
		switch {
		case p.HasDefault:
			def = "default " + p.Default
		case p.Name == "since":
			def = "default 1h (ago)"
		case p.Name == "until":
			def = "default now"
		}
		fmt.Fprintf(tw, "  --param %s=\t%s\t%s\n", p.Name, p.Type, def)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "\nevery query also takes --entity <id or pattern>; tenant, since and until have their own flags.\n")
	return err
}

// write prints a result: times as RFC 3339 in UTC (the Z says so),
// numbers at full precision; JSON keeps numbers numbers and the columns in
// the query's order.
func write(out io.Writer, format string, res queries.Result) error {
	text := func(v any) string {
		if t, ok := v.(time.Time); ok {
			return t.UTC().Format(time.RFC3339)
		}
		return queries.Text(v)
	}
	switch format {
	case "csv":
		w := csv.NewWriter(out)
		_ = w.Write(res.Columns)
		for _, r := range res.Rows {
			rec := make([]string, len(r))
			for i, v := range r {
				rec[i] = text(v)
			}
			_ = w.Write(rec)
		}
		w.Flush()
		return w.Error()
	case "json":
		var b strings.Builder
		b.WriteString("[")
		for i, r := range res.Rows {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n  {")
			for j, v := range r {
				if j > 0 {
					b.WriteString(", ")
				}
				k, _ := json.Marshal(res.Columns[j])
				b.Write(k)
				b.WriteString(": ")
				b.Write(jsonValue(v))
			}
			b.WriteString("}")
		}
		if len(res.Rows) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("]\n")
		_, err := io.WriteString(out, b.String())
		return err
	default:
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(res.Columns, "\t"))
		for _, r := range res.Rows {
			cells := make([]string, len(r))
			for i, v := range r {
				cells[i] = text(v)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		return tw.Flush()
	}
}

// jsonValue encodes one value: numbers as JSON numbers (NaN and infinities,
// which JSON lacks, as null), times as RFC 3339 strings.
func jsonValue(v any) []byte {
	switch x := v.(type) {
	case nil:
		return []byte("null")
	case time.Time:
		b, _ := json.Marshal(x.UTC().Format(time.RFC3339))
		return b
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return []byte("null")
		}
		return []byte(strconv.FormatFloat(x, 'f', -1, 64))
	case float32, int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint, bool, string:
		b, err := json.Marshal(x)
		if err == nil {
			return b
		}
	}
	b, err := json.Marshal(fmt.Sprint(v))
	if err != nil {
		return []byte("null")
	}
	return b
}
