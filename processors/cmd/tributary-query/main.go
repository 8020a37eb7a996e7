// Command tributary-query runs the analysts' query library (processors/queries).
//
//	tributary-query list
//	tributary-query [--print] <name> [--since 1h] [--until 0s] [--tenant t1] [--param k=v]... [--format table|csv|json]
//
// ClickHouse comes from TRIBUTARY_CLICKHOUSE_ADDR (default 127.0.0.1:9000)
// and TRIBUTARY_CLICKHOUSE_DB (default tributary).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg, err := parseArgs(os.Args[1:], os.Getenv)
	if err == nil {
		err = run(ctx, cfg, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tributary-query:", err)
		os.Exit(2)
	}
}
