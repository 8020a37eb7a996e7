package clickhouse

import (
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{Addr: "127.0.0.1:9000"}.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults must validate: %v", err)
	}
	if c.Database != "tributary" || c.Username != "default" || c.MaxOpenConns != 10 || c.MaxIdleConns != 5 || c.DialTimeout != 5*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	// Set fields are kept, and idle never exceeds open.
	c = Config{Addr: "h:1", Database: "x", MaxOpenConns: 2}.Defaults()
	if c.Database != "x" || c.MaxIdleConns != 2 {
		t.Fatalf("kept fields: %+v", c)
	}
}

func TestConfigValidateReportsEveryField(t *testing.T) {
	err := Config{Addr: "nohost", Database: "bad-name;", Cluster: "two words", MaxOpenConns: -1, MaxIdleConns: 3, DialTimeout: -time.Second}.Validate()
	if err == nil {
		t.Fatal("want error")
	}
	for _, field := range []string{"Addr:", "Database:", "Cluster:", "Username:", "DialTimeout:", "ReadTimeout:", "ConnMaxLifetime:", "MaxOpenConns:", "MaxIdleConns:"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s:\n%v", field, err)
		}
	}
	if err := (Config{}).Defaults().Validate(); err == nil || !strings.Contains(err.Error(), "Addr: required") {
		t.Errorf("empty Addr: %v", err)
	}
	if err := (Config{Addr: "a:1, b:2"}).Defaults().Validate(); err != nil {
		t.Errorf("comma-separated addrs: %v", err)
	}
}

// The cluster setting selects the migrations' form and makes inserts into
// Distributed tables synchronous; one server gets neither.
func TestConfigCluster(t *testing.T) {
	one := Config{Addr: "h:1"}.Defaults()
	if m := one.Migrate(nil); one.settings() != nil || m.Cluster != "" || m.Database != "tributary" {
		t.Fatalf("one server: settings %v, migrate %+v", one.settings(), one.Migrate(nil))
	}
	c := Config{Addr: "h:1,h:2", Cluster: "tributary", Database: "events"}.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.settings()["insert_distributed_sync"]; got != 1 {
		t.Fatalf("insert_distributed_sync = %v", got)
	}
	m := c.Migrate(map[string]string{"event_retention_days": "3"})
	if m.Cluster != "tributary" || m.Database != "events" || m.Params["event_retention_days"] != "3" {
		t.Fatalf("migrate config %+v", m)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
}
