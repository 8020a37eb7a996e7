package secure

import (
	"flag"
	"fmt"

	"github.com/tributary-io/tributary/infra/clickhouse"
)

// ClickHouse is how a binary authenticates to ClickHouse: a user, its
// password, and TLS.
type ClickHouse struct {
	User     string
	Password Secret
	TLS      TLS
}

// RegisterClickHouse adds the ClickHouse settings to fs.
func RegisterClickHouse(fs *flag.FlagSet, getenv func(string) string, c *ClickHouse) {
	fs.StringVar(&c.User, "clickhouse-user", getenv("TRIBUTARY_CLICKHOUSE_USER"), "ClickHouse user (TRIBUTARY_CLICKHOUSE_USER; default \"default\"); its password from TRIBUTARY_CLICKHOUSE_PASSWORD or -clickhouse-password-file")
	secretVar(fs, getenv, &c.Password, "clickhouse-password", "TRIBUTARY_CLICKHOUSE_PASSWORD", "ClickHouse password")
	tlsVars(fs, getenv, &c.TLS, "clickhouse", "TRIBUTARY_CLICKHOUSE")
}

// Apply puts the settings into cfg.
func (c ClickHouse) Apply(cfg *clickhouse.Config) error {
	if c.User != "" {
		cfg.Username = c.User
	}
	pw, err := c.Password.Value()
	if err != nil {
		return fmt.Errorf("-clickhouse-password-file: %w", err)
	}
	if pw != "" {
		cfg.Password = pw
	}
	tc, err := c.TLS.Config("-clickhouse-tls")
	if err != nil {
		return err
	}
	cfg.TLS = tc
	return nil
}
