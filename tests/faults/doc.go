// Package faults holds the heavy ingest fault tests: 100,000 events through
// both transports into ClickHouse with the consumer SIGKILLed, ClickHouse
// stopped, and one of three instances killed; and the detectors' (in
// detector_test.go): a future-dated event before another tenant's traffic,
// a restart with 100,000 users of state, a deleted durable consumer. Each
// test runs on a private stack of its own (testenv.Private), so it may
// kill servers freely.
//
// The tests carry the build tag "faults" so `make test` (every package,
// with -race) leaves them out; run them with
//
//	go test -tags faults -count=1 -v -timeout 20m ./tests/faults
package faults
