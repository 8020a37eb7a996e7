package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tributary-io/tributary/infra/cli"
)

// TestComposeRunsThePipeline: the compose file's pipeline profile builds
// ingest and the detectors from infra/docker and sets only variables their
// binaries read (a misspelt TRIBUTARY_ name would be silently ignored by a
// container, so it is caught here).
func TestComposeRunsThePipeline(t *testing.T) {
	data, err := os.ReadFile("../../infra/compose/docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Profiles    []string          `yaml:"profiles"`
			Build       map[string]string `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   map[string]any    `yaml:"depends_on"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	bins := binaries(t)
	for name, svc := range map[string]string{"ingest": "ingest", "detect": "detect"} {
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("compose has no %s service", name)
		}
		if !slices.Contains(s.Profiles, "pipeline") {
			t.Errorf("%s: not in the pipeline profile, so make up would start it", name)
		}
		if _, err := os.Stat(filepath.Join("../../infra/compose", s.Build["context"], s.Build["dockerfile"])); err != nil {
			t.Errorf("%s: build %v: %v", name, s.Build, err)
		}
		if _, ok := s.DependsOn["nats"]; !ok {
			t.Errorf("%s: starts before nats is healthy", name)
		}
		help, _ := exec.Command(bins[svc], "-h").CombinedOutput()
		known := map[string]bool{}
		for _, f := range flagLine.FindAllStringSubmatch(string(help), -1) {
			known[cli.EnvName(f[1])] = true
		}
		for k := range s.Environment {
			if !known[k] {
				t.Errorf("%s: %s is not a setting of %s", name, k, filepath.Base(bins[svc]))
			}
		}
	}
}
