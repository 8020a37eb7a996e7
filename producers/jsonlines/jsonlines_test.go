package jsonlines

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
)

// okTransport acks everything; the real client does stamping and validation.
type okTransport struct{ n int }

func (t *okTransport) Publish(string, ...*message.Message) error { t.n++; return nil }

type downTransport struct{}

func (downTransport) Publish(string, ...*message.Message) error {
	return errors.New("connection refused")
}

const valid = `{"specversion":"1.0","id":"0190b6a4-7c1e-7b3a-9c2d-3e4f5a6b7c8d","source":"//tributary/auth","type":"io.tributary.auth.login.failed","tenant":"acme","schemaversion":"1","time":"%s","data":{"user":"alice","source_ip":"198.51.100.4","method":"password","reason":"bad_credentials"}}`

func TestProcess(t *testing.T) {
	now := time.Now().UTC().Format(time.RFC3339)
	line := strings.Replace(valid, "%s", now, 1)
	noID := strings.Replace(strings.Replace(line, `"id":"0190b6a4-7c1e-7b3a-9c2d-3e4f5a6b7c8d",`, "", 1), `"time":"`+now+`",`, "", 1)
	tests := []struct {
		name      string
		input     string
		down      bool
		want      []string // report lines, by prefix
		wantStats Stats
	}{
		{name: "valid line is accepted with its id", input: line,
			want: []string{"line 1: accepted 0190b6a4-7c1e-7b3a-9c2d-3e4f5a6b7c8d"}, wantStats: Stats{1, 1, 0}},
		{name: "missing id and time are filled", input: noID, want: []string{"line 1: accepted "}, wantStats: Stats{1, 1, 0}},
		{name: "blank lines are skipped but counted in numbering", input: "\n\n" + line + "\n",
			want: []string{"line 3: accepted "}, wantStats: Stats{1, 1, 0}},
		{name: "validation error names the field", input: strings.Replace(line, `"source_ip":"198.51.100.4"`, `"source_ip":"nope"`, 1),
			want: []string{`line 1: publish io.tributary.auth.login.failed: auth.login.failed: field "source_ip"`}, wantStats: Stats{1, 0, 1}},
		{name: "missing tenant names the field", input: strings.Replace(line, `"tenant":"acme",`, "", 1),
			want: []string{`field "tenant" is required`}, wantStats: Stats{1, 0, 1}},
		{name: "malformed JSON is reported and the next line still runs", input: "{nope\n" + line,
			want: []string{"line 1: unmarshal structured event", "line 2: accepted"}, wantStats: Stats{2, 1, 1}},
		{name: "unknown type lists its family's types", input: strings.Replace(line, "login.failed", "login.exploded", 1),
			want: []string{`field "type"`, "auth types are io.tributary.auth.account.locked, io.tributary.auth.login.failed"}, wantStats: Stats{1, 0, 1}},
		{name: "a too-long line fails alone; the lines after it are sent", input: line + "\n" + `{"pad":"` + strings.Repeat("x", 3<<20) + `"}` + "\n" + line + "\n" + line,
			want: []string{"line 1: accepted", "line 2: longer than 1048576 bytes", "line 3: accepted", "line 4: accepted"}, wantStats: Stats{4, 3, 1}},
		{name: "last line without a newline is read", input: line + "\n" + line,
			want: []string{"line 2: accepted"}, wantStats: Stats{2, 2, 0}},
		{name: "broker down is reported per line", input: line, down: true,
			want: []string{"line 1: publish io.tributary.auth.login.failed", "broker unavailable"}, wantStats: Stats{1, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr publish.Transport = &okTransport{}
			if tt.down {
				tr = downTransport{}
			}
			c, err := publish.New(publish.Config{Source: "//tributary/publish-cli",
				Retry: publish.RetryConfig{MaxAttempts: 2, InitialBackoff: time.Millisecond}},
				map[schemas.Transport]publish.Transport{schemas.TransportJetStream: tr})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			st, err := Process(context.Background(), "", strings.NewReader(tt.input), 1<<20, c, &out)
			if err != nil {
				t.Fatal(err)
			}
			if st != tt.wantStats {
				t.Errorf("stats %+v, want %+v", st, tt.wantStats)
			}
			got := out.String()
			if n := strings.Count(got, "\n"); n != tt.wantStats.Lines {
				t.Errorf("%d report lines for %d input lines:\n%s", n, tt.wantStats.Lines, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("report %q lacks %q", got, w)
				}
			}
		})
	}
}

func TestProcessNamesTheFile(t *testing.T) {
	c, _ := publish.New(publish.Config{Source: "//x"}, map[schemas.Transport]publish.Transport{schemas.TransportJetStream: &okTransport{}})
	var out bytes.Buffer
	if _, err := Process(context.Background(), "events.jsonl", strings.NewReader("{"), 1<<20, c, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "events.jsonl: line 1: ") {
		t.Fatalf("report %q does not name the file", out.String())
	}
}
