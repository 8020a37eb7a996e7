package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"

	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/natsbus"
)

// Config sets the servers and the size of the run.
type Config struct {
	KafkaBrokers []string
	NATSURL      string
	// Transports to run: "kafka", "jetstream" (default both).
	Transports []string
	Partitions []int // Kafka partition counts (default 1 and 8)
	// Messages per round: concurrent publish, batch publish, subscribe.
	PublishMessages, BatchMessages, SubscribeMessages int
	Concurrency                                       int // publishing goroutines in concurrent mode (default 64)
	BatchSize                                         int // messages per call in batch mode (default 100)
	Rounds                                            int // default 3; the median is reported
	// CaseTimeout bounds one round of one implementation (default 2m).
	CaseTimeout time.Duration
	Logger      *slog.Logger
}

// DefaultConfig returns cfg with zero fields set to defaults sized to
// finish well within ten minutes on a 2-core machine.
func DefaultConfig(cfg Config) Config {
	if len(cfg.Transports) == 0 {
		cfg.Transports = []string{"kafka", "jetstream"}
	}
	if len(cfg.Partitions) == 0 {
		cfg.Partitions = []int{1, 8}
	}
	if cfg.PublishMessages == 0 {
		cfg.PublishMessages = 20000
	}
	if cfg.BatchMessages == 0 {
		cfg.BatchMessages = 5000
	}
	if cfg.SubscribeMessages == 0 {
		cfg.SubscribeMessages = 50000
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 64
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 100
	}
	if cfg.Rounds == 0 {
		cfg.Rounds = 3
	}
	if cfg.CaseTimeout == 0 {
		cfg.CaseTimeout = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	for _, t := range c.Transports {
		switch t {
		case "kafka":
			if len(c.KafkaBrokers) == 0 {
				errs = append(errs, errors.New("KafkaBrokers: required for the kafka transport"))
			}
		case "jetstream":
			if c.NATSURL == "" {
				errs = append(errs, errors.New("NATSURL: required for the jetstream transport"))
			}
		default:
			errs = append(errs, fmt.Errorf("Transports: unknown %q", t))
		}
	}
	for _, p := range c.Partitions {
		if p < 1 {
			errs = append(errs, fmt.Errorf("Partitions: must be positive, got %d", p))
		}
	}
	if c.BatchSize < 1 || c.BatchMessages%c.BatchSize != 0 {
		errs = append(errs, fmt.Errorf("BatchMessages (%d) must be a multiple of BatchSize (%d)", c.BatchMessages, c.BatchSize))
	}
	if c.PublishMessages < 1 || c.SubscribeMessages < 1 || c.Concurrency < 1 || c.Rounds < 1 {
		errs = append(errs, errors.New("message counts, Concurrency and Rounds must be positive"))
	}
	return errors.Join(errs...)
}

// Run measures every case and returns the results; a failed case is
// reported in its Result.Err and in the returned error, the others still run.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	cfg = DefaultConfig(cfg)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bench config: %w", err)
	}
	payload := newPayload()
	run := strings.ToLower(watermill.NewShortUUID())
	var results []Result
	var errs []error
	for _, t := range cfg.Transports {
		var s suite
		switch t {
		case "kafka":
			s = kafkaSuite(cfg, run, payload)
		case "jetstream":
			var cleanup func()
			var err error
			if s, cleanup, err = jetStreamSuite(ctx, cfg, run, payload); err != nil {
				errs = append(errs, err)
				continue
			}
			defer cleanup()
		}
		res, err := s.run(ctx, cfg)
		results = append(results, res...)
		errs = append(errs, err)
	}
	addRatios(results)
	return results, errors.Join(errs...)
}

func kafkaSuite(cfg Config, run string, payload []byte) suite {
	return suite{
		transport:  "kafka",
		impls:      kafkaImpls(cfg.KafkaBrokers, payload),
		partitions: cfg.Partitions,
		newTopic: func(ctx context.Context, kind string, partitions int) (string, error) {
			topic := fmt.Sprintf("bench-%s-%s-p%d-%s", run, kind, partitions, strings.ToLower(watermill.NewShortUUID()))
			return topic, kafkabus.EnsureTopics(ctx, cfg.KafkaBrokers, []kafkabus.TopicSpec{{Name: topic, Partitions: partitions, ReplicationFactor: 1}})
		},
	}
}

func jetStreamSuite(ctx context.Context, cfg Config, run string, payload []byte) (suite, func(), error) {
	nc, js, err := connectJS(cfg.NATSURL)
	if err != nil {
		return suite{}, nil, err
	}
	stream := "BENCH_" + run
	if err := natsbus.EnsureStream(ctx, js, natsbus.StreamSpec{Name: stream, Subjects: []string{"bench." + run + ".>"}, MaxAge: time.Hour}); err != nil {
		nc.Close()
		return suite{}, nil, err
	}
	cleanup := func() {
		_ = js.DeleteStream(context.Background(), stream)
		nc.Close()
	}
	return suite{
		transport:  "jetstream",
		impls:      jsImpls(cfg.NATSURL, stream, payload),
		partitions: []int{1},
		newTopic: func(context.Context, string, int) (string, error) {
			return "bench." + run + "." + strings.ToLower(watermill.NewShortUUID()), nil
		},
	}, cleanup, nil
}

// addRatios compares each of our rows with the other implementations of
// the same case: Ratio against the raw client, Baseline naming it.
func addRatios(results []Result) {
	type key struct {
		transport, op string
		partitions    int
	}
	raw := map[key]float64{}
	for _, r := range results {
		if r.Impl == ImplKafkaGo || r.Impl == ImplNATSGo {
			raw[key{r.Transport, r.Op, r.Partitions}] = r.MsgsPerSec
		}
	}
	for i, r := range results {
		if !strings.HasPrefix(r.Impl, ImplTributary) {
			continue
		}
		if base := raw[key{r.Transport, r.Op, r.Partitions}]; base > 0 {
			results[i].Ratio = r.MsgsPerSec / base
			results[i].Baseline = map[string]string{"kafka": ImplKafkaGo, "jetstream": ImplNATSGo}[r.Transport]
		}
	}
}
