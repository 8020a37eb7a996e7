// Package jsonlines publishes events read as JSON lines (CloudEvents
// structured mode, one event per line) and reports each line's outcome.
// It is the core of cmd/tributary-publish, kept importable so integration
// tests run it against real brokers.
package jsonlines

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/tributary-io/tributary/schemas"
)

// Publisher is what Process needs of publish.Client: stamp id and time when
// absent, validate, publish, and return the event as published.
type Publisher interface {
	Publish(ctx context.Context, env schemas.Envelope) (schemas.Envelope, error)
}

// Stats counts the lines of one input.
type Stats struct {
	Lines    int // non-blank lines read
	Accepted int
	Failed   int
}

// Process publishes every non-blank line of r and writes one report line
// per input line to out:
//
//	<name>line N: accepted <id>
//	<name>line N: <error naming the field>
//
// name prefixes the report ("events.jsonl: "), empty for stdin. A bad line
// never stops the rest; the returned error is only for reading r or
// writing out, and ctx ending.
func Process(ctx context.Context, name string, r io.Reader, maxLine int, pub Publisher, out io.Writer) (Stats, error) {
	var st Stats
	prefix := ""
	if name != "" {
		prefix = name + ": "
	}
	sc := bufio.NewScanner(r)
	// A line may be as large as the largest event plus JSON overhead.
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
		st.Lines++
		env, err := schemas.UnmarshalStructured([]byte(line))
		if err == nil {
			env, err = pub.Publish(ctx, env)
		}
		if err != nil {
			st.Failed++
			// One line per input line: joined field errors go on one line.
			msg := strings.ReplaceAll(err.Error(), "\n", "; ")
			if _, werr := fmt.Fprintf(out, "%sline %d: %s\n", prefix, n, msg); werr != nil {
				return st, werr
			}
			continue
		}
		st.Accepted++
		if _, err := fmt.Fprintf(out, "%sline %d: accepted %s\n", prefix, n, env.ID); err != nil {
			return st, err
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("%sread: %w", prefix, err)
	}
	return st, nil
}
