# Tributary — one set of targets for every module in go.work.
# `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin
STACK     := $(BIN)/tributary-stack
# SECURE=1 makes `make up` (and every target that runs on the stack) use
# the secure stack: its own folder (a folder is open or secure, never both),
# the same ports, the tools installed for the open one.
STACK_DIR   := $(if $(filter-out 0,$(SECURE)),.tributary/secure,.tributary)
STACK_FLAGS := $(if $(filter-out 0,$(SECURE)),-secure -dir $(STACK_DIR) -tools-dir .tributary)
# Every module's folder, from go.work, so a new module needs no edit here.
MODULES   := $(shell $(GO) list -m -f '{{.Dir}}' 2>/dev/null)
PKGS      := $(addsuffix /...,$(MODULES))
TEST_FLAGS ?= -race -count=1 -timeout 25m
OUT       := out
# CLUSTER=1: `make up/down/status CLUSTER=1` run 3 NATS and 3 Kafka nodes.
STACK_FLAGS += $(if $(filter 1 true yes,$(CLUSTER)),-cluster)
# A current ClickHouse (chDB: 26.x in-process) for the cross-engine tests.
CHDB      := .tributary/chdb
CHDB_PIN  := chdb==4.4.0
# helm for the chart's lint and render tests, built from its Go module.
HELM      := .tributary/bin/helm
HELM_VERSION := v3.22.0

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(BIN):
	@mkdir -p $(BIN)

.PHONY: build
build: | $(BIN) ## build every command into bin/
	$(GO) build -o $(BIN)/ $(addsuffix /cmd/...,$(filter %/infra %/producers %/consumers %/processors,$(MODULES)))

$(STACK): $(shell find infra/localstack infra/cmd/tributary-stack -type f) | $(BIN)
	$(GO) build -o $@ ./infra/cmd/tributary-stack

.PHONY: up
up: $(STACK) ## start NATS JetStream, Kafka and ClickHouse (local processes, or compose with Docker); writes .tributary/env. CLUSTER=1: 3 NATS + 3 Kafka nodes, replicas 3, a 2x2 ClickHouse cluster. SECURE=1: TLS, users and ACLs
	$(STACK) $(STACK_FLAGS) up

.PHONY: down
down: $(STACK) ## stop the stack; leaves no server process behind (data is kept)
	$(STACK) $(STACK_FLAGS) down

.PHONY: status
status: $(STACK) ## show which servers run and where their logs are
	$(STACK) $(STACK_FLAGS) status

.PHONY: clean-state
clean-state: $(STACK) ## stop the stacks (open and secure) and delete their data
	$(STACK) down
	$(STACK) -dir .tributary/secure down
	rm -rf .tributary

# A stamp, so an interrupted pip install is retried.
$(CHDB)/installed:
	python3 -m venv $(CHDB)
	$(CHDB)/bin/pip install -q $(CHDB_PIN)
	@touch $@

# Headless Chromium opens the demo's HTML report in make test; installed
# like ClickHouse (Debian's package, as root) when missing.
.PHONY: chromium
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
	  { echo "make test needs chromium: apt-get install chromium (as root)"; exit 1; }

$(HELM):
	GOBIN=$(abspath $(dir $(HELM))) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

.PHONY: helm
helm: $(HELM) ## install helm (go install) into .tributary/bin for the chart tests

.PHONY: chdb
chdb: $(CHDB)/installed ## install chDB (ClickHouse 26.x in-process) into .tributary/chdb for the cross-engine tests

.PHONY: test
test: $(CHDB)/installed chromium $(HELM) ## unit and integration tests of every module, with -race, against real servers (ClickHouse 18.16 and chDB 26.x); helm lint/template of infra/helm
	@mkdir -p $(OUT)
	@# First, alone: bring up (or find) the servers and log their versions.
	$(GO) test -count=1 -v -run 'TestServersAnswer' ./tests/testenv | tee $(OUT)/servers.log | grep -E 'servers from|^(ok|FAIL|---)'
	TRIBUTARY_HELM=$(abspath $(HELM)) $(GO) test $(TEST_FLAGS) $(PKGS) 2>&1 | tee $(OUT)/test.log
	@# A bounded fuzz run of the event decoder; a count, not a time, because
	@# Go 1.26's -fuzztime=<duration> can end in a spurious deadline error.
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=100000x ./schemas

.PHONY: demo
demo: up ## start the stack, run a 2-minute scenario with injected anomalies through the whole pipeline, print the anomaly report
	set -a; . $(STACK_DIR)/env; set +a; $(GO) run ./tests/cmd/tributary-demo

.PHONY: test-faults
test-faults: ## fault tests, each on a private stack: 100k exactly once, poison, SIGKILL, SIGTERM, ClickHouse down or refusing inserts, broker restarts, oversize records, 3 instances, detector clock and state; on private clusters, a NATS node, a Kafka partition leader and a ClickHouse replica SIGKILLed mid-ingest (~13 min)
	@mkdir -p $(OUT)
	$(GO) test -tags faults -count=1 -v -timeout 40m ./tests/faults 2>&1 | tee $(OUT)/faults.log | grep -E '^(=== RUN|--- |ok|FAIL|PASS)|faults_test|throughput|recover|RSS|FIGURES|SIGKILLed|caught up|private cluster' || true
	@grep -qE '^ok ' $(OUT)/faults.log

.PHONY: ingest
ingest: up ## run the ingest consumer groups on the local stack; stats on http://127.0.0.1:9464/debug/ingest
	set -a; . $(STACK_DIR)/env; set +a; $(GO) run ./consumers/cmd/tributary-ingest -http 127.0.0.1:9464

.PHONY: test-contract
test-contract: ## Watermill universal suite + reconnect/stress/SIGKILL tests, each transport on a private stack (~2.5 min)
	@mkdir -p $(OUT)
	$(GO) test -race -count=1 -v ./tests/contract 2>&1 | tee $(OUT)/contract.log

.PHONY: bench-transport
bench-transport: up ## transport throughput: our Kafka/JetStream adapters vs watermill-kafka (Sarama), raw kafka-go, raw nats.go; table + out/bench-transport.json
	@mkdir -p $(OUT)
	set -a; . $(STACK_DIR)/env; set +a; $(GO) run ./tests/bench/cmd/bench-transport -out $(OUT)/bench-transport.json

.PHONY: bench
bench: ## benchmarks with printed figures (detectors, tributary-detect on 20k points); transport: make bench-transport
	$(GO) test -run='^$$' -bench=. -benchmem ./processors/...

.PHONY: bench-ingest
bench-ingest: ## tributary-ingest on private stacks, two runs each: 158,420 Kafka metrics (beside Redpanda Connect on the same records, and the raw kafka-go and clickhouse-client limits), 100,000 JetStream auth events, 369,000 events of every family at once; freshness p50/p99 at 5k and 20k events/s; tables (also out/bench-ingest-*.json), profiles in out/ingest*.pprof. INGEST_FLAGS adds flags, INGEST_BIN measures another build, BENCH_PEER=off skips the peer
	@mkdir -p $(OUT)
	BENCH_OUT=$(CURDIR)/$(OUT) $(GO) test -run='^$$' -bench='Ingest(KafkaMetrics|JetStreamAuth|AllFamilies|Freshness)' -benchtime=2x -timeout 40m ./tests/bench/ingest

.PHONY: bench-storage
bench-storage: $(CHDB)/installed ## what migration 013 (LowCardinality, codecs, skip index) changes on ClickHouse 26.x: bytes for 1M rows, library query times
	$(GO) test -run='^$$' -bench=StorageSteps -benchtime=1x ./tests/queries

.PHONY: eval
eval: up ## scenario -> whole pipeline -> detectors and SQL scored against ground truth; table + out/eval.json
	@mkdir -p $(OUT)
	set -a; . $(STACK_DIR)/env; set +a; $(GO) test -tags eval -count=1 -v -timeout 15m ./tests/eval 2>&1 | tee $(OUT)/eval.log

.PHONY: eval-series
eval-series: | $(BIN) ## score tributary-detect on labelled real KPI series and generated families (windowed NAB scoring); table + out/eval-series.json
	@mkdir -p $(OUT)
	$(GO) build -o $(BIN)/ ./processors/cmd/tributary-detect
	$(GO) run ./tests/cmd/tributary-eval-series -detector $(BIN)/tributary-detect -out $(OUT)/eval-series.json

.PHONY: sim
sim: up ## run the 2-minute demo scenario (every anomaly kind) on the local stack; ground truth in out/demo.truth.jsonl
	@mkdir -p $(OUT) $(BIN)
	$(GO) build -o $(BIN)/ ./producers/cmd/tributary-sim
	set -a; . $(STACK_DIR)/env; set +a; $(BIN)/tributary-sim -scenario producers/scenarios/demo.yaml -truth $(OUT)/demo.truth.jsonl

.PHONY: load
load: up ## 60 s at ~5,000 events/s to JetStream and Kafka; prints achieved rate and publish p50/p99 per transport
	@mkdir -p $(OUT) $(BIN)
	$(GO) build -o $(BIN)/ ./producers/cmd/tributary-sim
	set -a; . $(STACK_DIR)/env; set +a; $(BIN)/tributary-sim -scenario producers/scenarios/load.yaml -truth $(OUT)/load.truth.jsonl | tee $(OUT)/load.log

.PHONY: lint
lint: ## gofmt and go vet over every module
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) vet -tags faults ./tests/faults
	$(GO) vet -tags eval ./tests/eval
