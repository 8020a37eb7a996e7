package testenv

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Images match infra/compose: the newest ClickHouse line, not Debian's 18.16.
const (
	NATSImage       = "nats:2.11"
	KafkaImage      = "apache/kafka:4.1.1"
	ClickHouseImage = "clickhouse/clickhouse-server:25.8"
)

func dockerHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return err
	}
	defer provider.Close()
	return provider.Health(ctx)
}

// fromContainers starts one container per server. They live as long as the
// test binary; testcontainers' reaper removes them after it exits.
func fromContainers(ctx context.Context) (*Env, error) {
	natsC, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		Started: true,
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        NATSImage,
			Cmd:          []string{"-js", "-m", "8222"},
			ExposedPorts: []string{"4222/tcp", "8222/tcp"},
			WaitingFor:   wait.ForHTTP("/healthz?js-enabled-only=true").WithPort("8222/tcp"),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", NATSImage, err)
	}
	natsEndpoint, err := natsC.PortEndpoint(ctx, "4222/tcp", "nats")
	if err != nil {
		return nil, err
	}

	brokers, err := startKafka(ctx)
	if err != nil {
		return nil, err
	}

	chC, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		Started: true,
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        ClickHouseImage,
			Env:          map[string]string{"CLICKHOUSE_SKIP_USER_SETUP": "1"},
			ExposedPorts: []string{"9000/tcp", "8123/tcp"},
			WaitingFor:   wait.ForHTTP("/ping").WithPort("8123/tcp").WithStartupTimeout(2 * time.Minute),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", ClickHouseImage, err)
	}
	native, err := chC.PortEndpoint(ctx, "9000/tcp", "")
	if err != nil {
		return nil, err
	}
	httpEndpoint, err := chC.PortEndpoint(ctx, "8123/tcp", "http")
	if err != nil {
		return nil, err
	}
	return &Env{
		NATSURL:        natsEndpoint,
		KafkaBrokers:   []string{brokers},
		ClickHouseAddr: native,
		ClickHouseHTTP: httpEndpoint,
		Source:         "testcontainers",
		KafkaVersion:   strings.TrimPrefix(KafkaImage, "apache/kafka:"),
	}, nil
}

// startKafka binds the broker to a host port chosen up front, because the
// broker must advertise the address clients will dial before it starts.
func startKafka(ctx context.Context) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	hostPort := strconv.Itoa(port)
	_, err = testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		Started: true,
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        KafkaImage,
			ExposedPorts: []string{"9092/tcp"},
			Env: map[string]string{
				"KAFKA_NODE_ID":                                  "1",
				"KAFKA_PROCESS_ROLES":                            "broker,controller",
				"KAFKA_LISTENERS":                                "PLAINTEXT://:9092,CONTROLLER://:9093",
				"KAFKA_ADVERTISED_LISTENERS":                     "PLAINTEXT://127.0.0.1:" + hostPort,
				"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP":           "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
				"KAFKA_CONTROLLER_LISTENER_NAMES":                "CONTROLLER",
				"KAFKA_CONTROLLER_QUORUM_VOTERS":                 "1@localhost:9093",
				"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":         "1",
				"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
				"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":            "1",
				"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":         "0",
				"KAFKA_NUM_PARTITIONS":                           "3",
			},
			HostConfigModifier: func(hc *container.HostConfig) {
				hc.PortBindings = network.PortMap{network.MustParsePort("9092/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: hostPort}}}
			},
			WaitingFor: wait.ForLog("Kafka Server started").WithStartupTimeout(2 * time.Minute),
		},
	})
	if err != nil {
		return "", fmt.Errorf("start %s: %w", KafkaImage, err)
	}
	return "127.0.0.1:" + hostPort, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
