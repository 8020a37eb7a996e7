package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/processors/queries"
)

type config struct {
	List   bool
	Print  bool
	Name   string
	Values map[string]string
	Format string
	CH     clickhouse.Config
	// Warnings are printed before the query runs (deprecated settings).
	Warnings []string
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

func parseArgs(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	cfg := config{Values: map[string]string{}}
	if len(args) > 0 && args[0] == "list" {
		cfg.List = true
		return cfg, nil
	}
	fs := flag.NewFlagSet("tributary-query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: tributary-query list
       tributary-query [--print] <name> [--since 1h] [--until 0s] [--tenant t] [--param k=v]... [--format table|csv|json]

Runs a query of the analysts' library against ClickHouse:
TRIBUTARY_CLICKHOUSE_ADDR (default 127.0.0.1:9000) and
TRIBUTARY_CLICKHOUSE_DATABASE (default tributary; it must exist: this tool
reads only). Exit codes: 0 success, 1 the server or the query failed,
2 bad usage.

flags:
`)
		fs.PrintDefaults()
	}
	fs.BoolVar(&cfg.Print, "print", false, "print the rendered SQL instead of running it")
	since := fs.String("since", "", "start: a duration ago (1h), RFC 3339 or unix seconds (default 1h)")
	until := fs.String("until", "", "end, same forms (default now)")
	tenant := fs.String("tenant", "", "tenant")
	fs.Var(kv(cfg.Values), "param", "k=v, repeatable")
	fs.StringVar(&cfg.Format, "format", "table", "table, csv or json")
	var chSec secure.ClickHouse
	secure.RegisterClickHouse(fs, getenv, &chSec)
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
	if len(rest) != 1 {
		return cfg, errors.New("usage: tributary-query list | tributary-query [--print] <name> [--since 1h] [--tenant t] [--param k=v] [--format table|csv|json]")
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
	db := getenv("TRIBUTARY_CLICKHOUSE_DATABASE")
	if old := getenv("TRIBUTARY_CLICKHOUSE_DB"); db == "" && old != "" {
		// The name this tool used to read; every binary now reads one.
		db = old
		cfg.Warnings = append(cfg.Warnings, "TRIBUTARY_CLICKHOUSE_DB is deprecated: set TRIBUTARY_CLICKHOUSE_DATABASE, as for tributary-ingest")
	}
	cfg.CH = clickhouse.Config{Addr: getenv("TRIBUTARY_CLICKHOUSE_ADDR"), Database: db, ReadOnly: true}
	if err := chSec.Apply(&cfg.CH); err != nil {
		return cfg, err
	}
	if cfg.CH.Addr == "" {
		cfg.CH.Addr = "127.0.0.1:9000"
	}
	return cfg, nil
}

func run(ctx context.Context, cfg config, out io.Writer) error {
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
	sql, err := q.Render(cfg.Values, time.Now())
	if err != nil {
		return usageError{err}
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
	cols, rows, err := queries.Run(ctx, conn, sql)
	if err != nil {
		return fmt.Errorf("%s: %w", q.Name, err)
	}
	return write(out, cfg.Format, cols, rows)
}

func write(out io.Writer, format string, cols []string, rows [][]string) error {
	switch format {
	case "csv":
		w := csv.NewWriter(out)
		_ = w.Write(cols)
		_ = w.WriteAll(rows)
		return w.Error()
	case "json":
		objs := make([]map[string]string, 0, len(rows))
		for _, r := range rows {
			o := make(map[string]string, len(cols))
			for i, c := range cols {
				o[c] = r[i]
			}
			objs = append(objs, o)
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(objs)
	default:
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		return tw.Flush()
	}
}
