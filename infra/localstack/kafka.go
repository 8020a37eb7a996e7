package localstack

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/segmentio/kafka-go"
)

// pom.xml names the broker jars; Maven resolves them from Maven Central.
//
//go:embed kafka/pom.xml
var kafkaPOM string

var kafkaJar = regexp.MustCompile(`kafka_2\.13-([0-9][^/]*)\.jar`)

type kafkaServer struct{ cfg Config }

func (s kafkaServer) name() string     { return Kafka }
func (s kafkaServer) ports() []int     { return []int{s.cfg.KafkaPort, s.cfg.KafkaControllerPort} }
func (s kafkaServer) dir() string      { return s.cfg.path("kafka") }
func (s kafkaServer) props() string    { return filepath.Join(s.dir(), "server.properties") }
func (s kafkaServer) cpFile() string   { return s.cfg.toolsPath("kafka", "classpath.txt") }
func (s kafkaServer) dataDir() string  { return filepath.Join(s.dir(), "data") }
func (s kafkaServer) broker() string   { return fmt.Sprintf("127.0.0.1:%d", s.cfg.KafkaPort) }
func (s kafkaServer) log4j() string    { return filepath.Join(s.dir(), "log4j2.properties") }
func (s kafkaServer) pomFile() string  { return s.cfg.toolsPath("kafka", "pom.xml") }
func (s kafkaServer) pomStamp() string { return s.cfg.toolsPath("kafka", "classpath.pom.sha256") }

func (s kafkaServer) proc() process {
	return process{name: Kafka, pidFile: filepath.Join(s.dir(), "pid"), logFile: filepath.Join(s.dir(), "kafka.log"), marker: s.props()}
}

func (s kafkaServer) prepare(ctx context.Context) error {
	if _, err := exec.LookPath("java"); err != nil {
		return errors.New("prepare kafka: java not found on PATH: install a Java 17+ runtime (Debian: apt-get install -y openjdk-17-jre-headless)")
	}
	if err := s.resolveClasspath(ctx); err != nil {
		return err
	}
	data, err := filepath.Abs(s.dataDir())
	if err != nil {
		return fmt.Errorf("prepare kafka: %w", err)
	}
	// Single node, combined broker+controller. Internal topics get replication
	// factor 1 because there is only one broker to hold them.
	props := fmt.Sprintf(`# Written by tributary-stack; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:%[2]d
listeners=PLAINTEXT://127.0.0.1:%[1]d,CONTROLLER://127.0.0.1:%[2]d
advertised.listeners=PLAINTEXT://127.0.0.1:%[1]d
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=%[3]s
num.partitions=%[4]d
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
`, s.cfg.KafkaPort, s.cfg.KafkaControllerPort, data, s.cfg.KafkaPartitions)
	write := writeIfChanged
	if s.cfg.Secure {
		if props, err = kafkaSecureProps(s.cfg, props); err != nil {
			return fmt.Errorf("prepare kafka: %w", err)
		}
		write = writePrivateIfChanged
	}
	if err := write(s.props(), props); err != nil {
		return fmt.Errorf("prepare kafka: %w", err)
	}
	if err := writeIfChanged(s.log4j(), kafkaLog4j); err != nil {
		return fmt.Errorf("prepare kafka: %w", err)
	}
	return s.format(ctx)
}

// resolveClasspath runs Maven only when the embedded pom changed, so a warm
// start does not pay for Maven's JVM.
func (s kafkaServer) resolveClasspath(ctx context.Context) error {
	sum := sha256.Sum256([]byte(kafkaPOM))
	stamp := hex.EncodeToString(sum[:])
	if old, err := os.ReadFile(s.pomStamp()); err == nil && string(old) == stamp {
		if _, err := s.classpath(); err == nil {
			return nil
		}
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return errors.New("prepare kafka: mvn not found on PATH: install Maven (Debian: apt-get install -y maven) to fetch Kafka's jars")
	}
	if err := writeIfChanged(s.pomFile(), kafkaPOM); err != nil {
		return fmt.Errorf("prepare kafka: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.InstallTimeout)
	defer cancel()
	cp, err := filepath.Abs(s.cpFile())
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "mvn", "-q", "-B", "-f", s.pomFile(), "dependency:build-classpath", "-Dmdep.outputFile="+cp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("prepare kafka: resolve jars with Maven: %w\n%s", err, out)
	}
	if _, err := s.classpath(); err != nil {
		return err
	}
	return os.WriteFile(s.pomStamp(), []byte(stamp), 0o644)
}

// classpath reads the resolved classpath and checks every jar is present.
func (s kafkaServer) classpath() (string, error) {
	raw, err := os.ReadFile(s.cpFile())
	if err != nil {
		return "", fmt.Errorf("kafka classpath: %w", err)
	}
	cp := strings.TrimSpace(string(raw))
	for _, jar := range strings.Split(cp, string(os.PathListSeparator)) {
		if _, err := os.Stat(jar); err != nil {
			return "", fmt.Errorf("kafka classpath: %w", err)
		}
	}
	if !kafkaJar.MatchString(cp) {
		return "", fmt.Errorf("kafka classpath %s has no kafka_2.13 jar", s.cpFile())
	}
	return cp, nil
}

// format writes KRaft metadata once; a formatted log dir keeps its cluster id.
func (s kafkaServer) format(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(s.dataDir(), "meta.properties")); err == nil {
		return nil
	}
	cp, err := s.classpath()
	if err != nil {
		return err
	}
	id, err := newClusterID()
	if err != nil {
		return err
	}
	// --cluster-id=<id> in one argument: a random id may start with '-',
	// which the tool would take for an option.
	args := []string{"-cp", cp, "kafka.tools.StorageTool", "format", "--cluster-id=" + id, "-c", s.props()}
	if s.cfg.Secure {
		scram, err := kafkaScramArgs(s.cfg)
		if err != nil {
			return err
		}
		args = append(args, scram...)
	}
	cmd := exec.CommandContext(ctx, "java", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("format kafka storage: %w\n%s", err, out)
	}
	return nil
}

// newClusterID makes an id in Kafka's form: 16 random bytes, URL-safe base64.
func newClusterID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("kafka cluster id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func (s kafkaServer) command() *exec.Cmd {
	cp, _ := s.classpath() // prepare has checked it
	return kafkaJVM(s.cfg.KafkaHeap, s.log4j(), cp, s.props())
}

// kafkaJVM is the command line of one Kafka process, single or a
// cluster's node: the same JVM settings for both.
func kafkaJVM(heap, log4j, classpath, props string) *exec.Cmd {
	return exec.Command("java",
		"-Xms"+heap, "-Xmx"+heap,
		"-XX:+UseG1GC", "-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile="+log4j,
		"-cp", classpath, "kafka.Kafka", props)
}

// ready asks for cluster metadata, which only a broker that has joined the
// KRaft quorum and registered can answer with a controller.
func (s kafkaServer) ready(ctx context.Context) error {
	// A transport of its own: kafka-go's default one caches metadata, and
	// would answer for a broker that has since died.
	transport, err := s.adminTransport()
	if err != nil {
		return err
	}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(s.broker()), Transport: transport}
	resp, err := client.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return err
	}
	if len(resp.Brokers) == 0 || resp.Controller.ID < 0 {
		return errors.New("kafka metadata lists no broker or controller yet")
	}
	return nil
}

// version comes from the jar Maven resolved: Kafka's protocol does not tell it.
func (s kafkaServer) version(context.Context) (string, error) {
	cp, err := s.classpath()
	if err != nil {
		return "", err
	}
	return kafkaJar.FindStringSubmatch(cp)[1], nil
}

const kafkaLog4j = `# Written by tributary-stack. The broker's stdout goes to kafka.log.
rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=kafka
logger.kafka.level=INFO
logger.request.name=kafka.request.logger
logger.request.level=WARN
logger.state.name=state.change.logger
logger.state.level=WARN
`
