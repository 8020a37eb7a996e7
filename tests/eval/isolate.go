package eval

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/tributary-io/tributary/producers/sim"
)

// NewRunID is 8 random hex digits: short enough for tenant and group
// names, random enough that concurrent runs never share one.
func NewRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// Isolate renames the scenario's tenants to "<tenant>-<runID>" (and the
// anomaly targets, which carry the tenant as a prefix), so this run's
// events, findings and rows are told apart from everyone else's on shared
// servers by tenant alone. It returns the new tenant names.
func Isolate(sc sim.Scenario, runID string) (sim.Scenario, []string) {
	rename := map[string]string{}
	ts := make([]sim.Tenant, len(sc.Tenants))
	names := make([]string, len(sc.Tenants))
	for i, t := range sc.Tenants {
		rename[t.Name] = t.Name + "-" + runID
		t.Name = rename[t.Name]
		ts[i], names[i] = t, t.Name
	}
	as := make([]sim.Anomaly, len(sc.Anomalies))
	for i, a := range sc.Anomalies {
		old := a.Tenant
		if old == "" && len(sc.Tenants) > 0 {
			old = sc.Tenants[0].Name
		}
		a.Tenant = rename[old]
		// Targets are generated names, "<tenant>-user-0007"/"<tenant>-host-03".
		if rest, ok := strings.CutPrefix(a.Target, old+"-"); ok {
			a.Target = a.Tenant + "-" + rest
		}
		as[i] = a
	}
	sc.Tenants, sc.Anomalies = ts, as
	return sc, names
}
