package deploy

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var buildLine = regexp.MustCompile(`RUN CGO_ENABLED=0 go build .* -o (\S+) (\./\S+)`)

// TestDockerfiles: every service's Dockerfile is multi-stage, builds its
// binary with cgo off and runs it as a non-root user; the build line it
// holds, run here, gives a static executable (no interpreter, no shared
// libraries), which is what a distroless static base can run. No Docker
// engine runs here, so the image itself is not built.
func TestDockerfiles(t *testing.T) {
	for _, svc := range []string{"ingest", "detect-stream"} {
		path := filepath.Join("..", "..", "infra", "docker", svc+".Dockerfile")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		df := string(data)
		if n := strings.Count(df, "\nFROM "); n < 2 {
			t.Errorf("%s: %d stages, want a build stage and a runtime stage", path, n)
		}
		users := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(df, -1)
		if len(users) == 0 || strings.HasPrefix(users[len(users)-1][1], "0") || strings.HasPrefix(users[len(users)-1][1], "root") {
			t.Errorf("%s: the image must end with a non-root USER, got %v", path, users)
		}
		if _, err := os.Stat(filepath.Join("..", "..", svc+".Dockerfile.dockerignore")); err == nil {
			t.Errorf("%s: its .dockerignore must sit beside the Dockerfile", path)
		}
		m := buildLine.FindStringSubmatch(df)
		if m == nil {
			t.Fatalf("%s: no 'RUN CGO_ENABLED=0 go build … -o <out> ./<pkg>' line", path)
		}
		if !strings.Contains(df, "ENTRYPOINT [\""+strings.Replace(m[1], "/out/", "/usr/local/bin/", 1)+"\"]") {
			t.Errorf("%s: the ENTRYPOINT does not run the binary built at %s", path, m[1])
		}
		out := filepath.Join(t.TempDir(), filepath.Base(m[1]))
		cmd := exec.Command("go", "build", "-o", out, m[2])
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
		}
		f, err := elf.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		libs, _ := f.ImportedLibraries()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s: %s needs a dynamic loader", path, m[2])
			}
		}
		if len(libs) > 0 {
			t.Errorf("%s: %s links %v", path, m[2], libs)
		}
		f.Close()
	}
}
