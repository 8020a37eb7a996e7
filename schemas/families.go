package schemas

import "slices"

// FamilyInfo is one family declared once: its event types (each with the
// table it lands in), the route its events take by default, and the
// detector that consumes it. Ingest subscribes from the routes of every
// type; the detector service reads a family's types from the same routes;
// provisioning, the dead-letter destinations (dlq.<family>), the eval and
// the docs all start here.
type FamilyInfo struct {
	Family Family
	Types  []TypeInfo
	// Route is the default route of every type that has none of its own.
	Route *Route
	// Detector names the detector that consumes the family ("" for none);
	// the detector service has a factory under that name, and a test
	// fails when one is missing.
	Detector string
}

// Declared returns every family's declaration, in Families' order.
func Declared() []FamilyInfo {
	out := make([]FamilyInfo, len(declared))
	for i, f := range declared {
		f.Types = slices.Clone(f.Types)
		out[i] = f
	}
	return out
}

// Tables lists the tables the declared types land in, sorted.
func Tables() []string {
	var out []string
	for _, info := range Types() {
		out = append(out, info.Table)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
