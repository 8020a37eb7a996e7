package localstack

import (
	"bufio"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// zookeeperPOM names ZooKeeper's server jars; Maven resolves them from
// Maven Central, as for Kafka.
//
//go:embed zookeeper/pom.xml
var zookeeperPOM string

var zookeeperJar = regexp.MustCompile(`zookeeper-([0-9][^/]*)\.jar`)

// zookeeper is the one ZooKeeper node a local ClickHouse cluster
// coordinates through: replication logs, distributed DDL. One node is
// enough on one machine; its data survives restarts.
type zookeeper struct{ cfg ClickHouseClusterConfig }

func (z zookeeper) name() string     { return ZooKeeper }
func (z zookeeper) ports() []int     { return []int{z.cfg.ZooKeeperPort} }
func (z zookeeper) dir() string      { return filepath.Join(z.cfg.Dir, "zookeeper") }
func (z zookeeper) conf() string     { return filepath.Join(z.dir(), "zoo.cfg") }
func (z zookeeper) addr() string     { return fmt.Sprintf("127.0.0.1:%d", z.cfg.ZooKeeperPort) }
func (z zookeeper) toolsDir() string { return filepath.Join(z.cfg.tools(), "zookeeper") }
func (z zookeeper) cpFile() string   { return filepath.Join(z.toolsDir(), "classpath.txt") }

func (z zookeeper) proc() process {
	return process{name: ZooKeeper, pidFile: filepath.Join(z.dir(), "pid"), logFile: filepath.Join(z.dir(), "zookeeper.log"), marker: z.conf()}
}

func (z zookeeper) prepare(ctx context.Context) error {
	if _, err := exec.LookPath("java"); err != nil {
		return errors.New("prepare zookeeper: java not found on PATH: install a Java runtime (Debian: apt-get install -y openjdk-17-jre-headless)")
	}
	if _, err := mavenClasspath(ctx, zookeeperPOM, z.toolsDir(), zookeeperJar, z.cfg.InstallTimeout); err != nil {
		return fmt.Errorf("prepare zookeeper: %w", err)
	}
	data, err := filepath.Abs(filepath.Join(z.dir(), "data"))
	if err != nil {
		return fmt.Errorf("prepare zookeeper: %w", err)
	}
	// Standalone. The admin server (an HTTP port, 8080 by default) is off;
	// srvr is the probe ready and version use. maxSessionTimeout
	// lets ClickHouse's 10 s sessions through; a killed replica's session
	// (and its is_active node) expires after that, and it rejoins.
	conf := fmt.Sprintf(`# Written by tributary-stack; edits are overwritten.
tickTime=1000
initLimit=10
syncLimit=5
dataDir=%s
clientPort=%d
clientPortAddress=127.0.0.1
maxClientCnxns=0
minSessionTimeout=2000
maxSessionTimeout=30000
admin.enableServer=false
4lw.commands.whitelist=srvr,mntr
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
`, data, z.cfg.ZooKeeperPort)
	if err := writeIfChanged(z.conf(), conf); err != nil {
		return fmt.Errorf("prepare zookeeper: %w", err)
	}
	return os.MkdirAll(data, 0o755)
}

func (z zookeeper) command() *exec.Cmd {
	cp, _ := readClasspath(z.cpFile(), zookeeperJar) // prepare has checked it
	return exec.Command("java", "-Xms"+z.cfg.ZooKeeperHeap, "-Xmx"+z.cfg.ZooKeeperHeap,
		"-XX:+UseSerialGC", "-Djava.awt.headless=true",
		"-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
		"-cp", cp, "org.apache.zookeeper.server.ZooKeeperServerMain", z.conf())
}

// fourLetter sends one of ZooKeeper's four-letter commands.
func (z zookeeper) fourLetter(ctx context.Context, cmd string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", z.addr())
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(conn, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(conn, 64<<10))
	return string(b), err
}

// ready asks srvr, not ruok: ruok answers imok even while the server
// proper failed to start, srvr only once it serves.
func (z zookeeper) ready(ctx context.Context) error {
	got, err := z.fourLetter(ctx, "srvr")
	if err != nil {
		return err
	}
	if !strings.Contains(got, "Mode: standalone") {
		return fmt.Errorf("zookeeper srvr answered %q", strings.TrimSpace(got))
	}
	return nil
}

// version reads "Zookeeper version: 3.9.5-<sha>, built on …" from srvr.
func (z zookeeper) version(ctx context.Context) (string, error) {
	got, err := z.fourLetter(ctx, "srvr")
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(strings.NewReader(got))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Zookeeper version: "); ok {
			v, _, _ = strings.Cut(v, ",")
			v, _, _ = strings.Cut(v, "-")
			return v, nil
		}
	}
	return "", fmt.Errorf("zookeeper srvr: no version in %q", got)
}

// mavenClasspath resolves pom's dependencies into dir/classpath.txt with
// Maven, only when the pom changed since the last resolution, and returns
// the classpath. Kafka's broker does the same with its own pom.
func mavenClasspath(ctx context.Context, pom, dir string, mainJar *regexp.Regexp, timeout time.Duration) (string, error) {
	sum := sha256.Sum256([]byte(pom))
	stamp := hex.EncodeToString(sum[:])
	cpFile := filepath.Join(dir, "classpath.txt")
	stampFile := filepath.Join(dir, "classpath.pom.sha256")
	if old, err := os.ReadFile(stampFile); err == nil && string(old) == stamp {
		if cp, err := readClasspath(cpFile, mainJar); err == nil {
			return cp, nil
		}
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return "", errors.New("mvn not found on PATH: install Maven (Debian: apt-get install -y maven) to fetch the jars")
	}
	pomFile := filepath.Join(dir, "pom.xml")
	if err := writeIfChanged(pomFile, pom); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(cpFile)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "mvn", "-q", "-B", "-f", pomFile, "dependency:build-classpath", "-Dmdep.outputFile="+abs)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("resolve jars with Maven: %w\n%s", err, out)
	}
	cp, err := readClasspath(cpFile, mainJar)
	if err != nil {
		return "", err
	}
	return cp, os.WriteFile(stampFile, []byte(stamp), 0o644)
}

// readClasspath reads a resolved classpath and checks every jar is there.
func readClasspath(path string, mainJar *regexp.Regexp) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("classpath: %w", err)
	}
	cp := strings.TrimSpace(string(raw))
	for _, jar := range strings.Split(cp, string(os.PathListSeparator)) {
		if _, err := os.Stat(jar); err != nil {
			return "", fmt.Errorf("classpath: %w", err)
		}
	}
	if !mainJar.MatchString(cp) {
		return "", fmt.Errorf("classpath %s has no jar matching %s", path, mainJar)
	}
	return cp, nil
}
