// Command tributary-query runs the analysts' query library (processors/queries).
//
//	tributary-query list
//	tributary-query explain <name>
//	tributary-query [--print] <name> [--since 1h] [--until 0s] [--tenant t1] [--param k=v]... [--format table|csv|json]
//
// ClickHouse comes from -clickhouse-addr (TRIBUTARY_CLICKHOUSE_ADDR, default
// 127.0.0.1:9000) and -clickhouse-database (TRIBUTARY_CLICKHOUSE_DATABASE,
// default tributary), which must exist; settings may also come from a YAML
// file (-config), as for every binary (package cli). Exit codes: 0
// success, 1 the server or the query failed, 2 bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/tributary-io/tributary/infra/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(realMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return cli.ExitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "tributary-query:", err)
		return cli.ExitUsage
	}
	cfg.Hint = stderr
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "tributary-query: warning:", w)
	}
	if err := run(ctx, cfg, stdout); err != nil {
		fmt.Fprintln(stderr, "tributary-query:", err)
		if errors.As(err, new(usageError)) {
			return cli.ExitUsage
		}
		return cli.ExitFailure
	}
	return cli.ExitOK
}
