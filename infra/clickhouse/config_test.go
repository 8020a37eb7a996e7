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
	err := Config{Addr: "nohost", Database: "bad-name;", MaxOpenConns: -1, MaxIdleConns: 3, DialTimeout: -time.Second}.Validate()
	if err == nil {
		t.Fatal("want error")
	}
	for _, field := range []string{"Addr:", "Database:", "Username:", "DialTimeout:", "ReadTimeout:", "ConnMaxLifetime:", "MaxOpenConns:", "MaxIdleConns:"} {
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
