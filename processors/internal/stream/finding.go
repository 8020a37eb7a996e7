package stream

import (
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tributary-io/tributary/schemas"
)

// Event is what detectors consume: a validated envelope's id, tenant and
// event time with its typed payload.
type Event struct {
	ID      string
	Tenant  string
	Time    time.Time
	Payload schemas.Payload
}

// Finding is an anomaly and the tenant it belongs to (the envelope carries
// the tenant, the payload does not).
type Finding struct {
	Tenant  string
	Anomaly schemas.Anomaly
}

// Detector is the contract every family's detector satisfies. Observe is
// not safe for concurrent use: the caller serialises events (one mutex per
// detector), which also makes findings deterministic for a given order.
// Snapshot and Restore round-trip the whole state (see package doc).
// ClampClocks restarts every tenant clock after notAfter (see
// Clocks.Clamp) and returns those tenants: the caller runs it after
// Restore with the real now plus the accepted clock skew.
type Detector interface {
	Observe(ev Event) []Finding
	Snapshot() ([]byte, error)
	Restore(data []byte) error
	ClampClocks(notAfter time.Time) []string
}

// maxRelated bounds related_event_ids well under schemas' list limit.
const maxRelated = 50

// NewFinding builds a finding; ids that are not UUIDv7 (events from foreign
// producers) are left out because the anomaly schema only accepts v7.
func NewFinding(tenant, kind string, fam schemas.Family, entity schemas.Entity, score float64,
	from, to time.Time, detector string, evidence map[string]string, ids []string) Finding {
	var related []string
	seen := map[string]bool{}
	for _, id := range ids {
		if u, err := uuid.Parse(id); err == nil && u.Version() == 7 && !seen[id] && len(related) < maxRelated {
			seen[id] = true
			related = append(related, id)
		}
	}
	if to.Before(from) {
		from, to = to, from
	}
	return Finding{Tenant: tenant, Anomaly: schemas.Anomaly{
		Kind: kind, Family: fam, Entity: entity, Score: max(score, 0), Severity: Severity(score),
		WindowStart: from.UTC(), WindowEnd: to.UTC(), Detector: detector, DetectorVersion: "1",
		Evidence: evidence, RelatedEventIDs: related,
	}}
}

// Severity maps a score, by convention "how many times the threshold", to a
// severity: every detector scales its score so 1 is just at the threshold.
func Severity(score float64) schemas.AnomalySeverity {
	switch {
	case score >= 4:
		return schemas.SeverityCritical
	case score >= 2:
		return schemas.SeverityHigh
	case score >= 1.25:
		return schemas.SeverityMedium
	default:
		return schemas.SeverityLow
	}
}

// F formats a number for evidence.
func F(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// I formats an int for evidence.
func I(v int) string { return strconv.Itoa(v) }

// Key joins a tenant and an entity id into a state key, so tenants never
// share state.
func Key(tenant, id string) string { return tenant + "\x00" + id }

// SplitKey is Key's inverse; a key without a tenant has tenant "".
func SplitKey(k string) (tenant, id string) {
	if t, id, ok := strings.Cut(k, "\x00"); ok {
		return t, id
	}
	return "", k
}
