package localstack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// nativePorts is the config.xml line of the native protocol: the plaintext
// port on an open stack; on a secure one only the TLS port, with the
// server certificate, so no client can bypass TLS on the native protocol.
func (s clickhouseServer) nativePorts() string {
	if !s.cfg.Secure {
		return fmt.Sprintf("  <tcp_port>%d</tcp_port>", s.cfg.ClickHouseTCPPort)
	}
	pki := s.cfg.PKI()
	return fmt.Sprintf(`  <tcp_port_secure>%d</tcp_port_secure>
  <openSSL>
    <server>
      <certificateFile>%s</certificateFile>
      <privateKeyFile>%s</privateKeyFile>
      <caConfig>%s</caConfig>
      <verificationMode>none</verificationMode>
      <loadDefaultCAFile>false</loadDefaultCAFile>
      <cacheSessions>true</cacheSessions>
      <disableProtocols>sslv2,sslv3,tlsv1,tlsv1_1</disableProtocols>
      <preferServerCiphers>true</preferServerCiphers>
    </server>
  </openSSL>`, s.cfg.ClickHouseTLSPort, pki.ServerCert(), pki.ServerKey(), pki.CA())
}

// clickhouseSecureUsers is users.xml of a secure stack. ClickHouse 18.16
// has no GRANT and no row policies; per user it can only set a password,
// networks, a profile (readonly: 1 forbids every write and DDL and setting
// changes, 2 allows setting changes), a quota and allow_databases. So:
//
//   - admin: everything (migrations, provisioning, the stack's checks);
//   - ingest: every statement, but only in the allowed databases (and
//     system). It runs the migrations at start, so it must create and
//     alter tables; 18.16 cannot make it INSERT-only, nor keep it from
//     SELECT or DROP in those databases;
//   - analyst: readonly=1 (SELECT only, no settings changed), the allowed
//     databases, and a quota per hour.
//
// There is no default user: every connection names one of these.
func clickhouseSecureUsers(cfg Config) (string, error) {
	pws, err := cfg.passwords(ClickHouse)
	if err != nil {
		return "", err
	}
	hash := func(u string) string {
		sum := sha256.Sum256([]byte(pws[u]))
		return hex.EncodeToString(sum[:])
	}
	var dbs strings.Builder
	for _, db := range cfg.ClickHouseDatabases {
		fmt.Fprintf(&dbs, "<database>%s</database>", db)
	}
	return fmt.Sprintf(`<?xml version="1.0"?>
<!-- Written by tributary-stack -secure: users admin, ingest, analyst; loopback only. -->
<yandex>
  <profiles>
    <default>
      <max_memory_usage>4000000000</max_memory_usage>
      <load_balancing>random</load_balancing>
    </default>
    <analyst>
      <readonly>1</readonly>
      <max_memory_usage>2000000000</max_memory_usage>
      <max_execution_time>120</max_execution_time>
      <max_result_rows>1000000</max_result_rows>
      <load_balancing>random</load_balancing>
    </analyst>
  </profiles>
  <users>
    <%[1]s>
      <password_sha256_hex>%[2]s</password_sha256_hex>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </%[1]s>
    <%[3]s>
      <password_sha256_hex>%[4]s</password_sha256_hex>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <allow_databases>%[7]s</allow_databases>
    </%[3]s>
    <%[5]s>
      <password_sha256_hex>%[6]s</password_sha256_hex>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>analyst</profile>
      <quota>analyst</quota>
      <allow_databases>%[7]s</allow_databases>
    </%[5]s>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries><errors>0</errors><result_rows>0</result_rows>
        <read_rows>0</read_rows><execution_time>0</execution_time>
      </interval>
    </default>
    <analyst>
      <interval>
        <duration>3600</duration>
        <queries>2000</queries><errors>200</errors><result_rows>100000000</result_rows>
        <read_rows>10000000000</read_rows><execution_time>3600</execution_time>
      </interval>
    </analyst>
  </quotas>
</yandex>
`, UserAdmin, hash(UserAdmin), UserIngest, hash(UserIngest), UserAnalyst, hash(UserAnalyst), dbs.String()), nil
}
