// Package jsonlines publishes events read as JSON lines (CloudEvents
// structured mode, one event per line) and reports each line's outcome.
// It is the core of cmd/tributary-publish, kept importable so integration
// tests run it against real brokers.
package jsonlines

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		raw, tooLong, err := readLine(br, maxLine)
		if err != nil && !errors.Is(err, io.EOF) {
			return st, fmt.Errorf("%sread line %d: %w", prefix, n, err)
		}
		eof := err != nil
		if tooLong {
			// That line alone fails; the lines after it are still sent.
			st.Lines++
			st.Failed++
			if _, werr := fmt.Fprintf(out, "%sline %d: longer than %d bytes, the most an event of the allowed size takes: skipped\n", prefix, n, maxLine); werr != nil {
				return st, werr
			}
		} else if line := strings.TrimSpace(string(raw)); line != "" {
			if err := ctx.Err(); err != nil {
				return st, err
			}
			st.Lines++
			if err := publishLine(ctx, pub, line, &st, func(msg string) error {
				_, err := fmt.Fprintf(out, "%sline %d: %s\n", prefix, n, msg)
				return err
			}); err != nil {
				return st, err
			}
		}
		if eof {
			break
		}
	}
	return st, nil
}

// publishLine publishes one line's event and reports the outcome through
// report; only report's error is returned.
func publishLine(ctx context.Context, pub Publisher, line string, st *Stats, report func(string) error) error {
	env, err := schemas.UnmarshalStructured([]byte(line))
	if err == nil {
		env, err = pub.Publish(ctx, env)
	}
	if err != nil {
		st.Failed++
		// One line per input line: joined field errors go on one line.
		return report(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	st.Accepted++
	return report("accepted " + env.ID)
}

// readLine returns the next line without its newline, holding at most max
// bytes of it: a longer line is read to its end and dropped (tooLong), so
// one oversize line costs bounded memory and ends nothing but itself.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max+1 { // +1: the newline
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil:
			return line, tooLong, err
		}
		return bytes.TrimSuffix(line, []byte{'\n'}), tooLong, nil
	}
}
