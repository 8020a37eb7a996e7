// Command connect is Redpanda Connect built with only the components the
// ingest benchmark's peer run needs (kafka_franz in, sql_insert out with
// the ClickHouse driver), so that it builds in about a minute and a half
// instead of pulling all of Connect's ~1,200 packages.
//
// It is its own module, outside go.work: its dependency graph is Connect's,
// and the checksum database has no entry for this Connect version, so it
// builds with GONOSUMDB=github.com/redpanda-data, which must not apply to
// Tributary's own modules. The benchmark (tests/bench/ingest) builds it.
package main

import (
	"context"

	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/ClickHouse/clickhouse-go/v2"
	_ "github.com/redpanda-data/connect/v4/public/components/kafka"
	_ "github.com/redpanda-data/connect/v4/public/components/sql/base"
)

func main() {
	service.RunCLI(context.Background())
}
