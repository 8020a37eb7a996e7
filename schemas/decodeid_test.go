package schemas

import (
	"fmt"
	"maps"
	"reflect"
	"testing"
)

// DecodeWithID is Decode of the metadata with the id put in, as
// bus.EventMetadata copies it: same event, same error.
func TestDecodeWithIDIsDecodeOfACopy(t *testing.T) {
	limits := DefaultLimits()
	limits.MaxHeaders = 12
	env := sampleEvent(TypeMetric)
	id := env.ID
	full := env.Metadata()
	noID := maps.Clone(full)
	delete(noID, MetaID)
	emptyID := maps.Clone(noID)
	emptyID[MetaID] = ""
	crowded := maps.Clone(noID) // at the limit once the id is in
	for i := len(crowded); i < limits.MaxHeaders-1; i++ {
		crowded[fmt.Sprintf("x-%d", i)] = "v"
	}
	over := maps.Clone(crowded)
	over["x-over"] = "v"
	for name, tc := range map[string]struct {
		md map[string]string
		id string
	}{
		"id in md": {full, "0190a6c2-5f1b-7c3d-8e4f-0123456789ab"}, "no id": {noID, id}, "empty id": {emptyID, id},
		"no id anywhere": {noID, ""}, "at the header limit": {crowded, id}, "over the header limit": {over, id},
		"bad id": {noID, "\xff"}, "long id": {noID, string(make([]byte, 9000))},
	} {
		copied := tc.md
		if tc.md[MetaID] == "" && tc.id != "" {
			copied = maps.Clone(tc.md)
			copied[MetaID] = tc.id
		}
		e1, p1, err1 := DecodeWithID(tc.md, tc.id, env.Data, t0, limits)
		e2, p2, err2 := Decode(copied, env.Data, t0, limits)
		if fmt.Sprint(err1) != fmt.Sprint(err2) || !reflect.DeepEqual(e1, e2) || !reflect.DeepEqual(p1, p2) {
			t.Errorf("%s: DecodeWithID gave %v, %v; Decode of a copy %v, %v", name, e1.ID, err1, e2.ID, err2)
		}
	}
}
