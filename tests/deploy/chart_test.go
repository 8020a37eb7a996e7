package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	ingest "github.com/tributary-io/tributary/consumers/service"
	"github.com/tributary-io/tributary/schemas"
)

const chart = "../../infra/helm/tributary"

// helm finds the helm binary: TRIBUTARY_HELM, else the one make test
// installs, else PATH. Without it the test fails saying how to get it.
func helm(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TRIBUTARY_HELM"); p != "" {
		return p
	}
	if p, err := filepath.Abs("../../.tributary/bin/helm"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	t.Fatal("no helm: run 'make helm' (go install helm.sh/helm/v3/cmd/helm) or set TRIBUTARY_HELM")
	return ""
}

func runHelm(t *testing.T, args ...string) []byte {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(helm(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.Bytes()
}

// object is one rendered manifest, read loosely.
type object map[string]any

func (o object) kind() string { s, _ := o["kind"].(string); return s }
func (o object) name() string { return str(o, "metadata", "name") }

// at walks nested maps and lists: a string key into a map, an int into a list.
func at(v any, path ...any) any {
	if o, ok := v.(object); ok {
		v = map[string]any(o)
	}
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string { s, _ := at(v, path...).(string); return s }

func render(t *testing.T, args ...string) []object {
	t.Helper()
	out := runHelm(t, append([]string{"template", "t", chart}, args...)...)
	dec := yaml.NewDecoder(bytes.NewReader(out))
	var objs []object
	for {
		// Into a plain map: nested maps then decode as map[string]any too.
		var o map[string]any
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered manifests: %v", err)
		}
		if o != nil {
			objs = append(objs, object(o))
		}
	}
	return objs
}

func byKind(objs []object, kind string) []object {
	var out []object
	for _, o := range objs {
		if o.kind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func TestChartLints(t *testing.T) {
	runHelm(t, "lint", "--strict", chart)
	runHelm(t, "lint", "--strict", chart, "--set", "ingest.autoscaling.enabled=true",
		"--set", "secrets.existingSecret=tributary", "--set", "secrets.files.nats-password-file=nats-password")
}

// binaries builds the two services the chart runs.
func binaries(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	pkgs := map[string]string{
		"ingest": "github.com/tributary-io/tributary/consumers/cmd/tributary-ingest",
		"detect": "github.com/tributary-io/tributary/processors/cmd/tributary-detect-stream",
	}
	out := map[string]string{}
	for svc, pkg := range pkgs {
		p := filepath.Join(dir, filepath.Base(pkg))
		if b, err := exec.Command("go", "build", "-o", p, pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
		out[svc] = p
	}
	return out
}

// TestChartRunsTheBinaries: each Deployment's probes are the endpoints its
// binary serves on the port its settings file gives it, the settings file
// is valid for that binary (its own validate), and every setting the
// binary has can be given through the chart.
func TestChartRunsTheBinaries(t *testing.T) {
	bins := binaries(t)
	objs := render(t)
	settings := map[string]string{}
	for _, cm := range byKind(objs, "ConfigMap") {
		settings[cm.name()] = str(cm, "data", "settings.yaml")
	}
	deps := byKind(objs, "Deployment")
	if len(deps) != 2 {
		t.Fatalf("%d Deployments, want ingest and detect", len(deps))
	}
	for _, d := range deps {
		svc := str(d, "metadata", "labels", "app.kubernetes.io/name")
		bin, ok := bins[svc]
		if !ok {
			t.Fatalf("Deployment %s runs %q, not a service this test knows", d.name(), svc)
		}
		c := at(d, "spec", "template", "spec", "containers", 0)
		args, _ := at(c, "args").([]any)
		if len(args) != 2 || args[0] != "-config" {
			t.Fatalf("%s: args %v, want -config <file>", d.name(), args)
		}
		file := settings[str(d, "spec", "template", "spec", "volumes", 0, "configMap", "name")]
		if file == "" {
			t.Fatalf("%s: no settings ConfigMap behind its first volume", d.name())
		}
		if mount := str(c, "volumeMounts", 0, "mountPath"); mount != args[1] {
			t.Errorf("%s: settings mounted at %s, -config reads %v", d.name(), mount, args[1])
		}
		// The settings file is the binary's: it validates, connecting nowhere.
		p := filepath.Join(t.TempDir(), "settings.yaml")
		if err := os.WriteFile(p, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(bin, "validate", p).CombinedOutput(); err != nil {
			t.Errorf("%s: %s validate of the rendered settings: %v\n%s\n%s", d.name(), filepath.Base(bin), err, out, file)
		}
		// Probes: the binary's /healthz and /readyz on the port -http names.
		var s map[string]any
		if err := yaml.Unmarshal([]byte(file), &s); err != nil {
			t.Fatal(err)
		}
		httpAddr, _ := s["http"].(string)
		port := fmt.Sprint(at(c, "ports", 0, "containerPort"))
		if !strings.HasSuffix(httpAddr, ":"+port) || str(c, "ports", 0, "name") != "http" {
			t.Errorf("%s: container port %s (%s), but the binary serves on %q", d.name(), port, str(c, "ports", 0, "name"), httpAddr)
		}
		for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"} {
			if got := str(c, probe, "httpGet", "path"); got != path || fmt.Sprint(at(c, probe, "httpGet", "port")) != "http" {
				t.Errorf("%s: %s is %s on %v, want %s on the http port", d.name(), probe, got, at(c, probe, "httpGet", "port"), path)
			}
		}
		// Non-root, read-only, with requests the scheduler can place.
		if at(d, "spec", "template", "spec", "securityContext", "runAsNonRoot") != true ||
			at(c, "securityContext", "readOnlyRootFilesystem") != true || str(c, "resources", "requests", "memory") == "" {
			t.Errorf("%s: want runAsNonRoot, a read-only root and memory requests", d.name())
		}
		settable(t, bin, svc)
	}
}

var flagLine = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)

// settable renders the chart with every flag of bin set through the
// service's settings and checks each one reaches its settings file:
// nothing the binary reads is out of a deployment's reach.
func settable(t *testing.T, bin, svc string) {
	t.Helper()
	help, _ := exec.Command(bin, "-h").CombinedOutput()
	flags := flagLine.FindAllStringSubmatch(string(help), -1)
	if len(flags) < 10 {
		t.Fatalf("%s -h lists %d flags:\n%s", bin, len(flags), help)
	}
	var set []string
	for _, f := range flags {
		if f[1] == "config" {
			continue // the chart's own
		}
		set = append(set, "--set-string", fmt.Sprintf("%s.settings.%s=x", svc, strings.ReplaceAll(f[1], ".", `\.`)))
	}
	objs := render(t, set...)
	for _, cm := range byKind(objs, "ConfigMap") {
		if str(cm, "metadata", "labels", "app.kubernetes.io/name") != svc {
			continue
		}
		var s map[string]any
		if err := yaml.Unmarshal([]byte(str(cm, "data", "settings.yaml")), &s); err != nil {
			t.Fatal(err)
		}
		for _, f := range flags {
			if _, ok := s[f[1]]; !ok && f[1] != "config" {
				t.Errorf("%s: -%s cannot be set through %s.settings", filepath.Base(bin), f[1], svc)
			}
		}
		return
	}
	t.Fatalf("no ConfigMap for %s", svc)
}

// TestChartSecretsAreFiles: a secret reaches the binary as a mounted file
// named by its …-file setting, never in the settings file itself.
func TestChartSecretsAreFiles(t *testing.T) {
	objs := render(t, "--set", "secrets.existingSecret=tributary", "--set", "secrets.files.clickhouse-password-file=ch-password")
	for _, d := range byKind(objs, "Deployment") {
		spec := at(d, "spec", "template", "spec")
		if str(spec, "volumes", 1, "secret", "secretName") != "tributary" || str(spec, "containers", 0, "volumeMounts", 1, "mountPath") != "/etc/tributary/secrets" {
			t.Errorf("%s: the Secret is not mounted at /etc/tributary/secrets", d.name())
		}
	}
	for _, cm := range byKind(objs, "ConfigMap") {
		if !strings.Contains(str(cm, "data", "settings.yaml"), "clickhouse-password-file: /etc/tributary/secrets/ch-password") {
			t.Errorf("%s: settings do not point at the mounted secret:\n%s", cm.name(), str(cm, "data", "settings.yaml"))
		}
	}
}

// TestScaledObjectWatchesIngestsConsumers: KEDA scales the ingest
// Deployment on the lag of the very consumer groups and durables ingest
// creates (their names come from the ingest code, not from a copy).
func TestScaledObjectWatchesIngestsConsumers(t *testing.T) {
	objs := render(t, "--set", "ingest.autoscaling.enabled=true")
	sos := byKind(objs, "ScaledObject")
	if len(sos) != 1 {
		t.Fatalf("%d ScaledObjects, want 1", len(sos))
	}
	so := sos[0]
	var target string
	for _, d := range byKind(objs, "Deployment") {
		if str(d, "metadata", "labels", "app.kubernetes.io/name") == "ingest" {
			target = d.name()
			if at(d, "spec", "replicas") != nil {
				t.Errorf("%s sets replicas while KEDA scales it: each rollout would reset the scale", target)
			}
		}
	}
	if got := str(so, "spec", "scaleTargetRef", "name"); got != target {
		t.Errorf("ScaledObject scales %q, ingest is %q", got, target)
	}
	consumers, err := ingest.Consumers("ingest")
	if err != nil {
		t.Fatal(err)
	}
	routes, err := schemas.NewRoutingTable(schemas.DefaultRouting())
	if err != nil {
		t.Fatal(err)
	}
	var streams []string
	for _, s := range routes.Provisioning().Streams {
		streams = append(streams, s.Name)
	}
	triggers, _ := at(so, "spec", "triggers").([]any)
	if len(triggers) == 0 {
		t.Fatal("no triggers")
	}
	for _, tr := range triggers {
		m := at(tr, "metadata")
		switch str(tr, "type") {
		case "kafka":
			want := ingest.Consumer{Name: str(m, "consumerGroup"), Transport: schemas.TransportKafka, Filter: str(m, "topic")}
			if !slices.Contains(consumers, want) {
				t.Errorf("kafka trigger watches group %q on %q: ingest has no such consumer (%v)", want.Name, want.Filter, consumers)
			}
			if str(m, "bootstrapServers") == "" {
				t.Error("kafka trigger without bootstrapServers")
			}
		case "nats-jetstream":
			name := str(m, "consumer")
			if !slices.ContainsFunc(consumers, func(c ingest.Consumer) bool { return c.Name == name && c.Transport == schemas.TransportJetStream }) {
				t.Errorf("jetstream trigger watches durable %q: ingest has no such consumer", name)
			}
			if !slices.Contains(streams, str(m, "stream")) {
				t.Errorf("jetstream trigger names stream %q; the streams are %v", str(m, "stream"), streams)
			}
		default:
			t.Errorf("unexpected trigger %q", str(tr, "type"))
		}
	}
}
