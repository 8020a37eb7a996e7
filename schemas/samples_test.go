package schemas

import (
	"fmt"
	"time"
)

// t0 is the time of every fixture; tests validate fixtures with now = t0.
var t0 = time.Date(2025, 11, 20, 10, 0, 0, 123456789, time.UTC)

// fixtureID returns a deterministic, valid UUIDv7 (version nibble 7,
// variant 10) so fixtures do not change on every -update.
func fixtureID(n int) string { return fmt.Sprintf("019aa0b0-0000-7000-8000-%012x", n) }

const fixtureTraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// samples holds one valid payload per registered type; testdata/<type>.json
// is generated from it (go test -run TestFixtures -update).
func samples() []Payload {
	origin := AuthOrigin{
		User: "u-1001", SourceIP: "203.0.113.7", UserAgent: "Mozilla/5.0",
		Geo: &Geo{Country: "DE", Lat: 52.52, Lon: 13.405},
	}
	ref := TaskRef{TaskID: "task-42", TaskType: "export.csv", Queue: "default", Attempt: 1}
	run := TaskRun{Worker: "worker-3", StartedAt: t0.Add(-2 * time.Second), FinishedAt: t0, DurationMS: 2000}
	retry := ref
	retry.Attempt = 2
	return []Payload{
		LoginSucceeded{AuthOrigin: origin, Method: MethodPassword, SessionID: "s-77"},
		LoginFailed{AuthOrigin: origin, Method: MethodPassword, Reason: ReasonBadCredentials},
		Logout{User: "u-1001", SessionID: "s-77", SourceIP: "2001:db8::1"},
		TokenIssued{User: "u-1001", TokenID: "jti-1", ExpiresAt: t0.Add(time.Hour), ClientID: "web", Scopes: []string{"read", "write"}},
		TokenRefreshed{User: "u-1001", TokenID: "jti-2", PreviousTokenID: "jti-1", ExpiresAt: t0.Add(2 * time.Hour)},
		TokenRevoked{User: "u-1001", TokenID: "jti-2", ExpiresAt: t0.Add(2 * time.Hour), Reason: "logout"},
		MFAApproved{AuthOrigin: origin, Factor: FactorTOTP},
		MFADenied{AuthOrigin: origin, Factor: FactorPush, Reason: "user rejected"},
		PasswordReset{User: "u-1001", InitiatedBy: "user", SourceIP: "203.0.113.7"},
		AccountLocked{User: "u-1001", Reason: "too many failed logins", FailedAttempts: 10, LockedUntil: t0.Add(15 * time.Minute)},
		PermissionDenied{User: "u-1001", Role: "viewer", Resource: "billing/invoices", Action: "delete", SourceIP: "203.0.113.7"},

		TaskSubmitted{TaskRef: ref, ScheduledAt: t0.Add(time.Minute), Priority: 5},
		TaskStarted{TaskRef: ref, Worker: "worker-3", StartedAt: t0},
		TaskSucceeded{TaskRef: ref, TaskRun: run},
		TaskFailed{TaskRef: ref, TaskRun: run, ErrorClass: "timeout", ErrorMessage: "upstream did not answer", Retryable: true},
		TaskRetried{TaskRef: retry, PreviousErrorClass: "timeout", NextRunAt: t0.Add(30 * time.Second)},
		TaskCancelled{TaskRef: ref, Reason: "user request"},
		TaskTimedOut{TaskRef: ref, TaskRun: run, TimeoutMS: 2000},

		MetricSample{TelemetrySource: TelemetrySource{Host: "web-1", Service: "api"}, Name: "http.server.duration", Value: 0.042,
			Unit: "s", Kind: "gauge", Labels: map[string]string{"route": "/login", "code": "200"}},
		LogRecord{TelemetrySource: TelemetrySource{Host: "web-1", Service: "api"}, Severity: SeverityError, Body: "database connection reset",
			Attributes: map[string]string{"db": "primary"}},
		Heartbeat{TelemetrySource: TelemetrySource{Host: "web-1", Service: "api"}, IntervalMS: 10000, Version: "1.4.2"},

		Anomaly{Kind: "brute_force", Family: FamilyAuth, Entity: Entity{Type: "ip", ID: "203.0.113.7"}, Score: 0.97,
			Severity: SeverityHigh, WindowStart: t0.Add(-5 * time.Minute), WindowEnd: t0, Detector: "auth-bruteforce",
			DetectorVersion: "1.0.0", Evidence: map[string]string{"failed_logins": "57", "distinct_users": "12"},
			RelatedEventIDs: []string{fixtureID(100), fixtureID(101)}},
	}
}

// sampleEvent wraps the sample of eventType in an envelope stamped as of t0.
func sampleEvent(eventType string) Envelope {
	for i, p := range samples() {
		if p.EventType() == eventType {
			env, err := NewEvent("//tributary/test", "acme", p,
				WithTime(t0), WithID(fixtureID(i+1)), WithTraceParent(fixtureTraceParent), WithSubject("fixture"))
			if err != nil {
				panic(fmt.Sprintf("sample %s: %v", eventType, err))
			}
			return env
		}
	}
	panic("no sample for " + eventType)
}
