package localstack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

type clickhouseServer struct{ cfg Config }

func (s clickhouseServer) name() string { return ClickHouse }
func (s clickhouseServer) ports() []int {
	if s.cfg.Secure {
		return []int{s.cfg.ClickHouseTLSPort, s.cfg.ClickHouseHTTPPort}
	}
	return []int{s.cfg.ClickHouseTCPPort, s.cfg.ClickHouseHTTPPort}
}
func (s clickhouseServer) dir() string   { return s.cfg.path("clickhouse") }
func (s clickhouseServer) conf() string  { return filepath.Join(s.dir(), "config.xml") }
func (s clickhouseServer) users() string { return filepath.Join(s.dir(), "users.xml") }
func (s clickhouseServer) httpURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d", s.cfg.ClickHouseHTTPPort)
}

func (s clickhouseServer) proc() process {
	return process{name: ClickHouse, pidFile: filepath.Join(s.dir(), "pid"), logFile: filepath.Join(s.dir(), "stdout.log"), marker: s.conf()}
}

// binary finds a server: clickhouse-server, or the single clickhouse binary
// that newer releases ship (then the first argument is "server").
func binaryOnPath() (path string, args []string, ok bool) {
	for _, dir := range []string{"", "/usr/sbin/", "/usr/bin/", "/usr/local/bin/"} {
		if p, err := exec.LookPath(dir + "clickhouse-server"); err == nil {
			return p, nil, true
		}
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return p, []string{"server"}, true
	}
	return "", nil, false
}

func (s clickhouseServer) prepare(ctx context.Context) error {
	if _, _, ok := binaryOnPath(); !ok {
		if err := installClickHouse(ctx); err != nil {
			return err
		}
	}
	abs, err := filepath.Abs(s.dir())
	if err != nil {
		return fmt.Errorf("prepare clickhouse: %w", err)
	}
	for _, d := range []string{"data", "tmp", "user_files", "format_schemas"} {
		if err := os.MkdirAll(filepath.Join(abs, d), 0o755); err != nil {
			return fmt.Errorf("prepare clickhouse: %w", err)
		}
	}
	// <yandex> is the root 18.16 requires; newer servers still accept it.
	conf := fmt.Sprintf(`<?xml version="1.0"?>
<!-- Written by tributary-stack; edits are overwritten. -->
<yandex>
  <logger>
    <level>information</level>
    <log>%[1]s/clickhouse-server.log</log>
    <errorlog>%[1]s/clickhouse-server.err.log</errorlog>
    <size>100M</size>
    <count>3</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
%[2]s
  <http_port>%[3]d</http_port>
  <max_connections>1024</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <uncompressed_cache_size>1073741824</uncompressed_cache_size>
  <mark_cache_size>1073741824</mark_cache_size>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <format_schema_path>%[1]s/format_schemas/</format_schema_path>
  <users_config>%[4]s</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
</yandex>
`, abs, s.nativePorts(), s.cfg.ClickHouseHTTPPort, filepath.Join(abs, "users.xml"))
	if err := writeIfChanged(s.conf(), conf); err != nil {
		return fmt.Errorf("prepare clickhouse: %w", err)
	}
	if !s.cfg.Secure {
		if err := writeIfChanged(s.users(), clickhouseUsers); err != nil {
			return fmt.Errorf("prepare clickhouse: %w", err)
		}
		return nil
	}
	users, err := clickhouseSecureUsers(s.cfg)
	if err != nil {
		return fmt.Errorf("prepare clickhouse: %w", err)
	}
	if err := writePrivateIfChanged(s.users(), users); err != nil {
		return fmt.Errorf("prepare clickhouse: %w", err)
	}
	return nil
}

// installClickHouse uses the distribution package: on these machines it is
// the only ClickHouse the package registries serve.
func installClickHouse(ctx context.Context) error {
	if _, err := exec.LookPath("apt-get"); err != nil || os.Geteuid() != 0 {
		return errors.New("prepare clickhouse: no clickhouse-server or clickhouse on PATH; install one (Debian: apt-get install -y clickhouse-server) or set TRIBUTARY_CLICKHOUSE_ADDR")
	}
	run := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("install", "-y", "-q", "clickhouse-server", "clickhouse-client"); err != nil {
		if uerr := run("update", "-q"); uerr != nil {
			return fmt.Errorf("prepare clickhouse: %w", uerr)
		}
		if err := run("install", "-y", "-q", "clickhouse-server", "clickhouse-client"); err != nil {
			return fmt.Errorf("prepare clickhouse: %w", err)
		}
	}
	return nil
}

func (s clickhouseServer) command() *exec.Cmd {
	bin, args, _ := binaryOnPath()
	return exec.Command(bin, append(args, "--config-file="+s.conf())...)
}

func (s clickhouseServer) ready(ctx context.Context) error {
	body, err := httpGet(ctx, s.httpURL()+"/ping")
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(body)) != "Ok." {
		return fmt.Errorf("clickhouse /ping answered %q", body)
	}
	return nil
}

func (s clickhouseServer) version(ctx context.Context) (string, error) {
	user, pw := "", ""
	if s.cfg.Secure {
		var err error
		if pw, err = s.cfg.password(ClickHouse, UserAdmin); err != nil {
			return "", err
		}
		user = UserAdmin
	}
	body, err := httpGetAuth(ctx, s.httpURL()+"/?query="+url.QueryEscape("SELECT version()"), user, pw)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(body)), nil
}

const clickhouseUsers = `<?xml version="1.0"?>
<!-- Written by tributary-stack: one passwordless user, loopback only. -->
<yandex>
  <profiles>
    <default>
      <max_memory_usage>4000000000</max_memory_usage>
      <load_balancing>random</load_balancing>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries><errors>0</errors><result_rows>0</result_rows>
        <read_rows>0</read_rows><execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
`
