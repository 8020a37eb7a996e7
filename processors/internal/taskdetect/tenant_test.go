package taskdetect

import (
	"testing"
	"time"

	"github.com/tributary-io/tributary/processors/internal/stream"
	"github.com/tributary-io/tributary/schemas"
)

// TestStuckJudgedPerTenant: one tenant's event an hour ahead used to move
// the family's single watermark past every open task of every tenant, each
// reported stuck at once. A tenant's tasks are now judged on its own time.
func TestStuckJudgedPerTenant(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ref := func(id string) schemas.TaskRef {
		return schemas.TaskRef{TaskID: id, TaskType: "export.csv", Queue: "q", Attempt: 1}
	}
	obs := func(tenant, id string, at time.Duration, p schemas.Payload) []stream.Finding {
		return d.Observe(stream.Event{ID: tenant + id + at.String(), Tenant: tenant, Time: t0.Add(at), Payload: p})
	}
	var found []stream.Finding
	found = append(found, obs("acme", "t1", 0, schemas.TaskStarted{TaskRef: ref("t1"), Worker: "w"})...)
	found = append(found, obs("skewed", "x", time.Hour, schemas.TaskStarted{TaskRef: ref("x"), Worker: "w"})...)
	found = append(found, obs("acme", "t2", 10*time.Second, schemas.TaskStarted{TaskRef: ref("t2"), Worker: "w"})...)
	if len(found) != 0 {
		t.Errorf("findings %+v after another tenant's clock ran an hour ahead, want none", found)
	}
	// acme's own time still decides: 6 minutes on, t1 is stuck.
	found = obs("acme", "t3", 6*time.Minute, schemas.TaskStarted{TaskRef: ref("t3"), Worker: "w"})
	if len(found) != 2 || found[0].Anomaly.Kind != KindStuck {
		t.Errorf("findings %+v at acme's 6 min, want t1 and t2 stuck", found)
	}
}
