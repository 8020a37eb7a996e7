// Package secure holds the connection security every binary takes the
// same way: TLS (CA, client certificate, server name, minimum version) and
// credentials for NATS and ClickHouse, from flags and TRIBUTARY_*
// variables. Secrets come from a variable or a file (…_FILE), never from a
// flag: a command line is visible to every user of the machine. Nothing
// here ever puts a secret in an error or a log line.
package secure

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// TLS is one connection's TLS settings. It is on when any file is given
// or Enabled is set (a server certificate the system roots trust).
type TLS struct {
	Enabled    bool
	CAFile     string // PEM roots that sign the server's certificate
	CertFile   string // client certificate (mutual TLS), with KeyFile
	KeyFile    string
	ServerName string // when the address is not the certificate's name
	MinVersion string // "1.2" (default) or "1.3"
}

// On reports whether the connection uses TLS.
func (t TLS) On() bool { return t.Enabled || t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" }

// Config builds the client's tls.Config; nil when TLS is off. prefix names
// the flags in errors ("-nats-tls").
func (t TLS) Config(prefix string) (*tls.Config, error) {
	if !t.On() {
		return nil, nil
	}
	c := &tls.Config{ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
	switch t.MinVersion {
	case "", "1.2":
	case "1.3":
		c.MinVersion = tls.VersionTLS13
	default:
		return nil, fmt.Errorf("%s-min-version %q: want 1.2 or 1.3", prefix, t.MinVersion)
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s-ca: %w", prefix, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s-ca %s: no PEM certificate in it", prefix, t.CAFile)
		}
		c.RootCAs = pool
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, fmt.Errorf("%s-cert and %s-key: give both or neither", prefix, prefix)
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s-cert/%s-key: %w", prefix, prefix, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Secret is a credential read from TRIBUTARY_<NAME> or from the file that
// TRIBUTARY_<NAME>_FILE or the flag -<name>-file names.
type Secret struct {
	value string
	File  string
}

// Value returns the secret, reading its file if one was named.
func (s Secret) Value() (string, error) {
	if s.File == "" {
		return s.value, nil
	}
	b, err := os.ReadFile(s.File)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// Set reports whether a value or a file was given.
func (s Secret) Set() bool { return s.value != "" || s.File != "" }

// String never shows the value, so a config printed with %v is safe.
func (s Secret) String() string {
	if !s.Set() {
		return ""
	}
	return "[redacted]"
}

func secretVar(fs *flag.FlagSet, getenv func(string) string, s *Secret, name, env, what string) {
	s.value = getenv(env)
	fs.StringVar(&s.File, name+"-file", getenv(env+"_FILE"), fmt.Sprintf("file holding the %s (%s_FILE; or the value in %s)", what, env, env))
}

func tlsVars(fs *flag.FlagSet, getenv func(string) string, t *TLS, prefix, env string) {
	fs.BoolVar(&t.Enabled, prefix+"-tls", getenv(env+"_TLS") == "true", fmt.Sprintf("use TLS, trusting the system roots unless %s-tls-ca is given (%s_TLS=true)", prefix, env))
	fs.StringVar(&t.CAFile, prefix+"-tls-ca", getenv(env+"_TLS_CA"), "PEM file of the CA that signs the server's certificate ("+env+"_TLS_CA)")
	fs.StringVar(&t.CertFile, prefix+"-tls-cert", getenv(env+"_TLS_CERT"), "client certificate, PEM ("+env+"_TLS_CERT)")
	fs.StringVar(&t.KeyFile, prefix+"-tls-key", getenv(env+"_TLS_KEY"), "client key, PEM ("+env+"_TLS_KEY)")
	fs.StringVar(&t.ServerName, prefix+"-tls-server-name", getenv(env+"_TLS_SERVER_NAME"), "name to verify in the server's certificate ("+env+"_TLS_SERVER_NAME)")
	fs.StringVar(&t.MinVersion, prefix+"-tls-min-version", getenv(env+"_TLS_MIN_VERSION"), "1.2 (default) or 1.3 ("+env+"_TLS_MIN_VERSION)")
}

// RedactURL hides the password (or token) of a URL's user information:
// connect errors name the server without its secret.
func RedactURL(raw string) string {
	var out []string
	for _, one := range strings.Split(raw, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil || u.User == nil {
			if strings.Contains(one, "@") {
				out = append(out, "[unparsable URL with user information]")
				continue
			}
			out = append(out, one)
			continue
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		} else {
			u.User = url.User("xxxxx") // a bare token
		}
		out = append(out, u.String())
	}
	return strings.Join(out, ",")
}
