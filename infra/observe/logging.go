package observe

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// LogConfig is how a binary logs: -log-level and -log-format.
type LogConfig struct {
	Level  string // debug, info (default), warn, error
	Format string // text (default) or json
}

// NewLogger builds the binary's logger, or says which flag is wrong.
func NewLogger(w io.Writer, c LogConfig) (*slog.Logger, error) {
	var level slog.Level
	switch strings.ToLower(c.Level) {
	case "debug":
		level = slog.LevelDebug
	case "", "info":
		level = slog.LevelInfo
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", c.Level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.Format) {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", c.Format)
}

// Relevel returns a logger that logs the records whose message is a key of
// levels at that level instead: libraries' lines that cry wolf (a retry
// that succeeds logged as ERROR, a version warning on every pool) are
// demoted without losing them at debug level.
func Relevel(log *slog.Logger, levels map[string]slog.Level) *slog.Logger {
	return slog.New(relevel{inner: log.Handler(), levels: levels})
}

type relevel struct {
	inner  slog.Handler
	levels map[string]slog.Level
}

// Enabled lets every record through to Handle, which knows the message:
// a demoted one is checked against its new level there.
func (h relevel) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l) || h.inner.Enabled(ctx, slog.LevelDebug)
}

func (h relevel) Handle(ctx context.Context, r slog.Record) error {
	if l, ok := h.levels[r.Message]; ok {
		r.Level = l
	}
	if !h.inner.Enabled(ctx, r.Level) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h relevel) WithAttrs(as []slog.Attr) slog.Handler {
	return relevel{inner: h.inner.WithAttrs(as), levels: h.levels}
}

func (h relevel) WithGroup(name string) slog.Handler {
	return relevel{inner: h.inner.WithGroup(name), levels: h.levels}
}
