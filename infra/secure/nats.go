package secure

import (
	"flag"
	"fmt"

	"github.com/nats-io/nats.go"
)

// NATS is how a binary authenticates to NATS: one of user and password,
// token, nkey seed file or .creds file; and TLS.
type NATS struct {
	User      string
	Password  Secret
	Token     Secret
	NKeyFile  string
	CredsFile string
	TLS       TLS
}

// RegisterNATS adds the NATS settings to fs, defaults from getenv.
func RegisterNATS(fs *flag.FlagSet, getenv func(string) string, n *NATS) {
	fs.StringVar(&n.User, "nats-user", getenv("TRIBUTARY_NATS_USER"), "NATS user (TRIBUTARY_NATS_USER); its password from TRIBUTARY_NATS_PASSWORD or -nats-password-file")
	secretVar(fs, getenv, &n.Password, "nats-password", "TRIBUTARY_NATS_PASSWORD", "NATS password")
	secretVar(fs, getenv, &n.Token, "nats-token", "TRIBUTARY_NATS_TOKEN", "NATS token")
	fs.StringVar(&n.NKeyFile, "nats-nkey", getenv("TRIBUTARY_NATS_NKEY"), "NATS nkey seed file (TRIBUTARY_NATS_NKEY)")
	fs.StringVar(&n.CredsFile, "nats-creds", getenv("TRIBUTARY_NATS_CREDS"), "NATS .creds file: user JWT and nkey seed (TRIBUTARY_NATS_CREDS)")
	tlsVars(fs, getenv, &n.TLS, "nats", "TRIBUTARY_NATS")
}

// Options returns the nats.go options for these settings; errors name the
// flag, never the secret.
func (n NATS) Options() ([]nats.Option, error) {
	var opts []nats.Option
	methods := 0
	if n.User != "" || n.Password.Set() {
		if n.User == "" {
			return nil, fmt.Errorf("-nats-user: required with a NATS password")
		}
		pw, err := n.Password.Value()
		if err != nil {
			return nil, fmt.Errorf("-nats-password-file: %w", err)
		}
		opts = append(opts, nats.UserInfo(n.User, pw))
		methods++
	}
	if n.Token.Set() {
		tok, err := n.Token.Value()
		if err != nil {
			return nil, fmt.Errorf("-nats-token-file: %w", err)
		}
		opts = append(opts, nats.Token(tok))
		methods++
	}
	if n.NKeyFile != "" {
		opt, err := nats.NkeyOptionFromSeed(n.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("-nats-nkey %s: %w", n.NKeyFile, err)
		}
		opts = append(opts, opt)
		methods++
	}
	if n.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(n.CredsFile))
		methods++
	}
	if methods > 1 {
		return nil, fmt.Errorf("NATS credentials: give one of -nats-user, a token, -nats-nkey or -nats-creds, not %d", methods)
	}
	tc, err := n.TLS.Config("-nats-tls")
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}
