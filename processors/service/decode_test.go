package service

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/infra/bus"
	"github.com/tributary-io/tributary/schemas"
)

// TestDecodeUsesRealClock: the detectors decoded with a zero now, which
// skips the clock-skew check, so an event stamped in 2100 reached the
// detector and moved its watermark. Decoded against the real clock with
// ingest's limits it is refused as ErrClockSkew, and a current one passes.
func TestDecodeUsesRealClock(t *testing.T) {
	now := time.Now()
	msg := func(at time.Time) *message.Message {
		env, err := schemas.NewEvent("//tributary/test", "acme", schemas.LoginFailed{
			AuthOrigin: schemas.AuthOrigin{User: "u", SourceIP: "192.0.2.1"}, Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials})
		if err != nil {
			t.Fatal(err)
		}
		env.Time = at
		m := message.NewMessage(env.ID, message.Payload(env.Data))
		for k, v := range env.Metadata() {
			m.Metadata.Set(k, v)
		}
		return m
	}
	limits := schemas.DefaultLimits()
	for name, tc := range map[string]struct {
		at   time.Time
		want error
	}{
		"stamped in 2100":        {time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), schemas.ErrClockSkew},
		"beyond the skew window": {now.Add(limits.MaxFuture + time.Minute), schemas.ErrClockSkew},
		"older than MaxPast":     {now.Add(-limits.MaxPast - time.Hour), schemas.ErrClockSkew},
		"within the skew window": {now.Add(limits.MaxFuture - time.Minute), nil},
		"a second ago":           {now.Add(-time.Second), nil},
	} {
		t.Run(name, func(t *testing.T) {
			ev, err := decode(msg(tc.at), now, limits, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("decode: %v, want %v", err, tc.want)
			}
			if err == nil && (ev.Tenant != "acme" || !ev.Time.Equal(tc.at)) {
				t.Errorf("event %+v", ev)
			}
		})
	}
}

// TestDecodeChecksTheSubjectsTenant: a detector ignores an event whose
// tenant is not the tenant of the subject it arrived on, as ingest
// dead-letters it: its findings would land in the other tenant's anomalies.
func TestDecodeChecksTheSubjectsTenant(t *testing.T) {
	routes, err := schemas.NewRoutingTable(schemas.DefaultRouting())
	if err != nil {
		t.Fatal(err)
	}
	check := func(env schemas.Envelope, origin string) error {
		return routes.CheckTenant(env, schemas.TransportJetStream, origin)
	}
	env, err := schemas.NewEvent("//tributary/test", "acme", schemas.LoginFailed{
		AuthOrigin: schemas.AuthOrigin{User: "u", SourceIP: "192.0.2.1"}, Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		subject string
		want    error
	}{{"auth.acme.login.failed", nil}, {"auth.globex.login.failed", schemas.ErrTenantMismatch}} {
		m := message.NewMessage(env.ID, message.Payload(env.Data))
		for k, v := range env.Metadata() {
			m.Metadata.Set(k, v)
		}
		m.SetContext(bus.WithOrigin(context.Background(), tc.subject))
		if _, err := decode(m, time.Now(), schemas.DefaultLimits(), check); !errors.Is(err, tc.want) {
			t.Errorf("%s: decode = %v, want %v", tc.subject, err, tc.want)
		}
	}
}

// TestSkewWarningsBounded: a producer with a broken clock gets one warning
// per family per skewLogEvery, not one per event.
func TestSkewWarningsBounded(t *testing.T) {
	var f family
	now := time.Now()
	warned := 0
	for i := range 1000 {
		if f.warnSkew(now.Add(time.Duration(i) * 25 * time.Millisecond)) { // 25 s of events
			warned++
		}
	}
	if warned != 3 {
		t.Errorf("%d warnings over 25 s, want 3 (at 0, 10 and 20 s)", warned)
	}
}
