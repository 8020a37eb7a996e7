package service

import (
	"strings"
	"testing"

	"github.com/tributary-io/tributary/schemas"
)

// TestFamiliesHaveDetectors is the registry's consistency check on the
// detector side: every detector a family declares exists, and its inputs
// read every destination the family's types are published to — also with
// a type routed elsewhere.
func TestFamiliesHaveDetectors(t *testing.T) {
	moved := schemas.DefaultRouting()
	moved.Routes[schemas.TypeTaskFailed] = schemas.Route{JetStream: &schemas.JetStreamTarget{Stream: "TASKS", Subject: "jobs.{tenant}.{name}"}}
	for name, routing := range map[string]schemas.RoutingConfig{"default": schemas.DefaultRouting(), "task.failed moved": moved} {
		t.Run(name, func(t *testing.T) {
			routes, err := schemas.NewRoutingTable(routing)
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Routing: routing}.WithDefaults()
			fams, err := families(cfg, routes)
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]*family{}
			for _, f := range fams {
				byName[f.name] = f
			}
			for _, fi := range schemas.Declared() {
				f := byName[string(fi.Family)]
				if fi.Detector == "" {
					if f != nil {
						t.Errorf("family %s declares no detector but got one", fi.Family)
					}
					continue
				}
				if f == nil {
					t.Fatalf("family %s: detector %s not built", fi.Family, fi.Detector)
				}
				for _, info := range fi.Types {
					dests, err := routes.Resolve(schemas.Envelope{Type: info.Type, Tenant: "acme", ID: "x"})
					if err != nil {
						t.Fatal(err)
					}
					read := false
					for _, d := range dests {
						for _, in := range f.inputs {
							p, wild := strings.CutSuffix(in.topic, ">")
							if in.transport == d.Transport && (in.topic == d.Name() || (wild && strings.HasPrefix(d.Name(), p))) {
								read = true
							}
						}
					}
					if !read {
						t.Errorf("%s goes to %v, which the %s detector does not read (inputs %v)", info.Short(), dests, fi.Detector, f.inputs)
					}
				}
			}
		})
	}
	for _, fi := range schemas.Declared() {
		if _, ok := factories[fi.Detector]; fi.Detector != "" && !ok {
			t.Errorf("family %s declares detector %q, which has no factory", fi.Family, fi.Detector)
		}
	}
}
