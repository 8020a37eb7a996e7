package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tributary-io/tributary/infra/poll"
)

// suite runs every case of one transport.
type suite struct {
	transport  string
	impls      []impl
	partitions []int
	// newTopic provisions a fresh topic (Kafka) or subject (JetStream).
	newTopic func(ctx context.Context, kind string, partitions int) (string, error)
}

func (s suite) run(ctx context.Context, cfg Config) ([]Result, error) {
	var results []Result
	var errs []error
	for _, p := range s.partitions {
		for _, op := range []string{OpPublishConcurrent, OpPublishBatch} {
			res, err := s.publishCase(ctx, cfg, op, p)
			results = append(results, res...)
			errs = append(errs, err)
		}
		res, err := s.subscribeCase(ctx, cfg, p)
		results = append(results, res...)
		errs = append(errs, err)
	}
	return results, errors.Join(errs...)
}

func (s suite) publishCase(ctx context.Context, cfg Config, op string, partitions int) ([]Result, error) {
	total, perCall, concurrency := cfg.PublishMessages, 1, cfg.Concurrency
	if op == OpPublishBatch {
		total, perCall, concurrency = cfg.BatchMessages, cfg.BatchSize, 1
	}
	type state struct {
		publish func(context.Context, string, int) error
		topic   string
		res     *Result
	}
	byName := map[string]*state{}
	var names []string
	var errs []error
	for _, im := range s.impls {
		if im.publisher == nil {
			continue
		}
		res := &Result{Transport: s.transport, Impl: im.name, Op: op, Partitions: partitions, Messages: total}
		publish, closeFn, err := im.publisher(ctx)
		if err == nil {
			defer closeFn()
			var topic string
			if topic, err = s.newTopic(ctx, "pub", partitions); err == nil {
				// Warm up: connections and metadata are not what is measured.
				err = s.timed(ctx, cfg, func(ctx context.Context) error { return warmUp(ctx, publish, topic, perCall) })
				byName[im.name] = &state{publish: publish, topic: topic, res: res}
			}
		}
		if err != nil {
			res.Err = err.Error()
			errs = append(errs, fmt.Errorf("%s %s %s p=%d: %w", s.transport, im.name, op, partitions, err))
		}
		names = append(names, im.name)
	}
	var live []string
	for _, n := range names {
		if byName[n] != nil {
			live = append(live, n)
		}
	}
	err := rounds(cfg.Rounds, live, func(_ int, name string) error {
		st := byName[name]
		var took time.Duration
		err := s.timed(ctx, cfg, func(ctx context.Context) error {
			var err error
			took, err = measurePublish(ctx, func(ctx context.Context, n int) error { return st.publish(ctx, st.topic, n) }, total, perCall, concurrency)
			return err
		})
		if err != nil {
			st.res.Err = err.Error()
			return err
		}
		st.res.Rounds = append(st.res.Rounds, rate(total, took))
		cfg.Logger.Info("round", "transport", s.transport, "impl", name, "op", op, "partitions", partitions, "msgs_per_sec", int(rate(total, took)))
		return nil
	})
	errs = append(errs, err)
	var results []Result
	for _, n := range names {
		if st := byName[n]; st != nil {
			finish(st.res, nil)
			results = append(results, *st.res)
		} else {
			results = append(results, Result{Transport: s.transport, Impl: n, Op: op, Partitions: partitions, Err: "setup failed"})
		}
	}
	return results, errors.Join(errs...)
}

func (s suite) subscribeCase(ctx context.Context, cfg Config, partitions int) ([]Result, error) {
	n := cfg.SubscribeMessages
	topic, err := s.newTopic(ctx, "sub", partitions)
	if err != nil {
		return nil, fmt.Errorf("%s subscribe p=%d: topic: %w", s.transport, partitions, err)
	}
	if err := s.fill(ctx, cfg, topic, n); err != nil {
		return nil, fmt.Errorf("%s subscribe p=%d: fill: %w", s.transport, partitions, err)
	}
	byName := map[string]*Result{}
	joins := map[string][]float64{}
	var names []string
	for _, im := range s.impls {
		if im.consume != nil {
			names = append(names, im.name)
			byName[im.name] = &Result{Transport: s.transport, Impl: im.name, Op: OpSubscribe, Partitions: partitions, Messages: n}
		}
	}
	consumers := map[string]consumeFunc{}
	for _, im := range s.impls {
		consumers[im.name] = im.consume
	}
	err = rounds(cfg.Rounds, names, func(r int, name string) error {
		res := byName[name]
		var ts consumeTimes
		group := fmt.Sprintf("bench-%d-%d-%s", partitions, r, sanitize(name))
		err := s.timed(ctx, cfg, func(ctx context.Context) error {
			var err error
			ts, err = consumers[name](ctx, topic, group+"-"+topicSuffix(topic), n)
			return err
		})
		if err != nil {
			res.Err = err.Error()
			return err
		}
		// n-1 intervals between the first and the last message.
		res.Rounds = append(res.Rounds, rate(n-1, ts.last.Sub(ts.first)))
		joins[name] = append(joins[name], float64(ts.first.Sub(ts.subscribed).Milliseconds()))
		cfg.Logger.Info("round", "transport", s.transport, "impl", name, "op", OpSubscribe, "partitions", partitions, "msgs_per_sec", int(rate(n-1, ts.last.Sub(ts.first))))
		return nil
	})
	var results []Result
	for _, name := range names {
		finish(byName[name], joins[name])
		results = append(results, *byName[name])
	}
	return results, err
}

// fill publishes n messages for the subscribe case with our publisher (the
// same records for every reader).
func (s suite) fill(ctx context.Context, cfg Config, topic string, n int) error {
	for _, im := range s.impls {
		if im.name != ImplTributary {
			continue
		}
		publish, closeFn, err := im.publisher(ctx)
		if err != nil {
			return err
		}
		defer closeFn()
		return s.timed(ctx, cfg, func(ctx context.Context) error {
			_, err := measurePublish(ctx, func(ctx context.Context, k int) error { return publish(ctx, topic, k) }, n, cfg.BatchSize, 8)
			return err
		})
	}
	return errors.New("no publisher to fill the topic with")
}

// timed runs f bounded by CaseTimeout.
func (s suite) timed(ctx context.Context, cfg Config, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.CaseTimeout)
	defer cancel()
	return f(ctx)
}

func sanitize(s string) string {
	out := []rune{}
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			out = append(out, r)
		} else {
			out = append(out, '-')
		}
	}
	return string(out)
}

func topicSuffix(topic string) string {
	if len(topic) > 8 {
		return sanitize(topic[len(topic)-8:])
	}
	return sanitize(topic)
}

// warmUp publishes once, retrying while the client has not yet seen the
// new topic (raw kafka-go does not refresh its metadata cache for an
// unknown topic until its TTL passes; our publisher retries by itself).
func warmUp(ctx context.Context, publish func(context.Context, string, int) error, topic string, n int) error {
	err := poll.Until(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		err := publish(ctx, topic, n)
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}
