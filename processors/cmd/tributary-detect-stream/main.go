// Command tributary-detect-stream runs the streaming anomaly detectors:
// auth and task events from JetStream, telemetry from Kafka, anomalies out
// through the routing table. Settings come from the environment
// (TRIBUTARY_NATS_URL, TRIBUTARY_KAFKA_BROKERS, TRIBUTARY_DETECT_GROUP,
// TRIBUTARY_DETECT_HTTP for /metrics, /healthz and /readyz,
// TRIBUTARY_OTLP_ENDPOINT to export traces).
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tributary-io/tributary/infra/observe"
	"github.com/tributary-io/tributary/processors/service"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := service.Config{
		NATSURL:      env("TRIBUTARY_NATS_URL", "nats://127.0.0.1:4222"),
		KafkaBrokers: strings.Split(env("TRIBUTARY_KAFKA_BROKERS", "127.0.0.1:9092"), ","),
		Group:        os.Getenv("TRIBUTARY_DETECT_GROUP"),
		StartFrom:    os.Getenv("TRIBUTARY_DETECT_START_FROM"), // earliest (default); latest is for tests only and refused
		HTTPAddr:     os.Getenv("TRIBUTARY_DETECT_HTTP"),
		Tracing: observe.TraceConfig{Endpoint: os.Getenv("TRIBUTARY_OTLP_ENDPOINT"),
			Insecure: os.Getenv("TRIBUTARY_OTLP_INSECURE") == "true"},
	}
	if err := service.RunDetectors(ctx, cfg, log, nil); err != nil {
		log.Error("tributary-detect-stream", "err", err)
		os.Exit(1)
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
