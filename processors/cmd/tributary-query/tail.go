package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/cli"
	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/schemas"
)

// tailConfig is `tributary-query tail`: anomaly events as the detectors
// publish them, like `nats sub` or `kcat -C` for the anomaly stream.
type tailConfig struct {
	Tenant, Kind, Format string
	Count                int // stop after this many; 0: until interrupted
	NATSURL              string
	NATSOptions          []nats.Option
}

func parseTail(args []string, stderr io.Writer) (*tailConfig, error) {
	c := &tailConfig{}
	fs := flag.NewFlagSet("tributary-query tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: tributary-query tail [--tenant t] [--kind k] [--count n] [--format table|json]

Follows the anomaly events the streaming detectors publish, from now on,
until interrupted (or --count of them), from NATS (-nats-url,
TRIBUTARY_NATS_URL).

flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Tenant, "tenant", "", "only this tenant (default: every tenant)")
	fs.StringVar(&c.Kind, "kind", "", "only this kind, e.g. metric_spike (default: every kind)")
	fs.IntVar(&c.Count, "count", 0, "stop after this many anomalies (0: until interrupted)")
	fs.StringVar(&c.Format, "format", "table", "table (one line each) or json (one object per line)")
	fs.StringVar(&c.NATSURL, "nats-url", "nats://127.0.0.1:4222", "NATS URL (env TRIBUTARY_NATS_URL)")
	var ns secure.NATS
	secure.RegisterNATS(fs, os.Getenv, &ns)
	if _, err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("tail: unexpected argument %q", fs.Arg(0))
	}
	if c.Format != "table" && c.Format != "json" {
		return nil, fmt.Errorf("--format %q: want table or json", c.Format)
	}
	for flag, v := range map[string]string{"--tenant": c.Tenant, "--kind": c.Kind} {
		if strings.ContainsAny(v, ".*> ") {
			return nil, fmt.Errorf("%s %q: a tenant or kind is one subject token", flag, v)
		}
	}
	opts, err := ns.Options()
	if err != nil {
		return nil, err
	}
	c.NATSOptions = opts
	return c, nil
}

// runTail reads the anomaly stream with an ordered consumer from its end:
// nothing durable is left on the server, and nothing is acknowledged for
// the detectors' or ingest's consumers.
func runTail(ctx context.Context, c *tailConfig, out io.Writer) error {
	nc, err := nats.Connect(c.NATSURL, append([]nats.Option{nats.Name("tributary-query-tail")}, c.NATSOptions...)...)
	if err != nil {
		return fmt.Errorf("tail: connect nats %s: %w", secure.RedactURL(c.NATSURL), err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("tail: %w", err)
	}
	routes, err := schemas.NewRoutingTable(schemas.DefaultRouting())
	if err != nil {
		return err
	}
	route, err := routes.RouteFor(schemas.TypeAnomaly)
	if err != nil || route.JetStream == nil {
		return fmt.Errorf("tail: anomalies have no JetStream route: %v", err)
	}
	subject := strings.NewReplacer(schemas.PlaceholderTenant, orAll(c.Tenant), schemas.PlaceholderKind, orAll(c.Kind)).Replace(route.JetStream.Subject)
	cons, err := js.OrderedConsumer(ctx, route.JetStream.Stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		return fmt.Errorf("tail: follow %s: %w", subject, err)
	}
	limits := schemas.DefaultLimits()
	seen := 0
	for {
		m, err := cons.Next(jetstream.FetchMaxWait(time.Second))
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, jetstream.ErrMsgIteratorClosed):
			return nil
		case err != nil:
			if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
				continue
			}
			return fmt.Errorf("tail: %w", err)
		}
		md := map[string]string{}
		for k, vs := range m.Headers() {
			if len(vs) > 0 && !strings.HasPrefix(k, "Nats-") {
				md[k] = vs[0]
			}
		}
		env, p, err := schemas.Decode(md, m.Data(), time.Time{}, limits)
		if err != nil {
			fmt.Fprintf(out, "# skipped a message on %s: %v\n", m.Subject(), err)
			continue
		}
		a, ok := p.(schemas.Anomaly)
		if !ok {
			continue
		}
		if err := printAnomaly(out, c.Format, env, a); err != nil {
			return err
		}
		if seen++; c.Count > 0 && seen >= c.Count {
			return nil
		}
	}
}

func orAll(v string) string {
	if v == "" {
		return "*"
	}
	return v
}

func printAnomaly(out io.Writer, format string, env schemas.Envelope, a schemas.Anomaly) error {
	if format == "json" {
		b, err := json.Marshal(map[string]any{
			"time": env.Time.UTC().Format(time.RFC3339), "tenant": env.Tenant, "kind": a.Kind,
			"entity": a.Entity.String(), "score": a.Score, "severity": a.Severity,
			"window_start": a.WindowStart.UTC().Format(time.RFC3339), "window_end": a.WindowEnd.UTC().Format(time.RFC3339),
			"detector": a.Detector, "evidence": a.Evidence,
		})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", b)
		return err
	}
	keys := make([]string, 0, len(a.Evidence))
	for k := range a.Evidence {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ev []string
	for _, k := range keys {
		ev = append(ev, k+"="+a.Evidence[k])
	}
	_, err := fmt.Fprintf(out, "%s  %s  %s  %s  score %s  %s  %s\n", env.Time.UTC().Format(time.RFC3339), env.Tenant, a.Kind,
		a.Entity.String(), fmt.Sprint(a.Score), a.Severity, strings.Join(ev, " "))
	return err
}
