package observe

import (
	"context"
	"fmt"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TraceConfig turns tracing on: spans are exported by OTLP over HTTP to
// Endpoint ("host:4318", or a URL). Empty Endpoint: tracing is off (no
// spans are made), the default.
type TraceConfig struct {
	Endpoint string
	Insecure bool    // plain HTTP, for a collector on loopback
	Sample   float64 // share of new traces sampled; default 1 (events arrive with their producer's decision)
}

// Tracer builds the tracer provider for service; shutdown flushes and
// stops it. With tracing off both are no-ops.
func Tracer(ctx context.Context, service string, cfg TraceConfig) (trace.TracerProvider, func(context.Context) error, error) {
	if cfg.Endpoint == "" {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	opts := []otlptracehttp.Option{}
	if strings.Contains(cfg.Endpoint, "://") {
		opts = append(opts, otlptracehttp.WithEndpointURL(cfg.Endpoint))
	} else {
		opts = append(opts, otlptracehttp.WithEndpoint(cfg.Endpoint))
	}
	if cfg.Insecure {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("otlp exporter %s: %w", cfg.Endpoint, err)
	}
	return NewTracerProvider(service, sdktrace.NewBatchSpanProcessor(exp), cfg.Sample)
}

// NewTracerProvider is Tracer with the span processor given (tests pass an
// in-memory one).
func NewTracerProvider(service string, sp sdktrace.SpanProcessor, sample float64) (trace.TracerProvider, func(context.Context) error, error) {
	if sample <= 0 || sample > 1 {
		sample = 1
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName("tributary-"+service)))
	if err != nil {
		return nil, nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSpanProcessor(sp),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(sample))))
	return tp, tp.Shutdown, nil
}

// TraceMiddleware continues the trace an event carries (its W3C
// traceparent metadata, stamped by the producer SDK) with one consumer
// span per handler attempt, and hands the span's context on as the
// message's context, so what the handler does — a ClickHouse insert, an
// anomaly published — joins the trace.
func TraceMiddleware(tp trace.TracerProvider, handler string) message.HandlerMiddleware {
	start := ConsumeSpans(tp, handler)
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) (out []*message.Message, err error) {
			end := start(msg)
			defer func() { end(err) }() // ended even if h panics
			return h(msg)
		}
	}
}

// ConsumeSpans is TraceMiddleware's span on its own, for a handler that
// finishes a message outside a Watermill HandlerFunc: the returned func
// starts the consumer span of msg, sets it as msg's context and returns
// what ends it with the handling's outcome.
func ConsumeSpans(tp trace.TracerProvider, handler string) func(msg *message.Message) (end func(error)) {
	tr := tp.Tracer("github.com/tributary-io/tributary/infra/observe")
	prop := propagation.TraceContext{}
	return func(msg *message.Message) func(error) {
		parent := prop.Extract(msg.Context(), metadataCarrier(msg.Metadata))
		ctx, span := tr.Start(parent, "consume "+handler, trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(
				attribute.String("messaging.message.id", msg.UUID),
				attribute.String("tributary.handler", handler),
				attribute.String("tributary.event.type", msg.Metadata.Get("ce_type")),
				attribute.String("tributary.tenant", msg.Metadata.Get("ce_tenant")),
			))
		msg.SetContext(ctx)
		return func(err error) {
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}
	}
}

// metadataCarrier reads a Watermill message's metadata as W3C headers.
type metadataCarrier message.Metadata

func (c metadataCarrier) Get(key string) string { return message.Metadata(c).Get(key) }
func (c metadataCarrier) Set(key, v string)     { message.Metadata(c).Set(key, v) }
func (c metadataCarrier) Keys() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	return out
}
