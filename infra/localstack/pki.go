package localstack

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Lifetimes of the secure stack's certificates. A certificate is issued
// again once it has less than certRenewBefore left, so a stack started
// now keeps working for at least that long.
const (
	caLifetime      = 2 * 365 * 24 * time.Hour
	leafLifetime    = 365 * 24 * time.Hour
	certRenewBefore = 30 * 24 * time.Hour
)

// PKI names the files of the secure stack's certificate authority and the
// certificates it signs: one server certificate for all three servers
// (SANs 127.0.0.1, ::1 and localhost) and one client certificate (NATS
// verifies client certificates). Private keys are 0600.
type PKI struct {
	Dir string
}

func (p PKI) CA() string         { return filepath.Join(p.Dir, "ca.pem") }
func (p PKI) CAKey() string      { return filepath.Join(p.Dir, "ca-key.pem") }
func (p PKI) ServerCert() string { return filepath.Join(p.Dir, "server.pem") }
func (p PKI) ServerKey() string  { return filepath.Join(p.Dir, "server-key.pem") }
func (p PKI) ClientCert() string { return filepath.Join(p.Dir, "client.pem") }
func (p PKI) ClientKey() string  { return filepath.Join(p.Dir, "client-key.pem") }

// KafkaKeystore is the server key (PKCS#8) followed by its chain, the one
// file Kafka's PEM keystore reads.
func (p PKI) KafkaKeystore() string { return filepath.Join(p.Dir, "kafka-keystore.pem") }

// Ensure creates whatever is missing or expiring within certRenewBefore. A
// new CA reissues both leaf certificates. It reports whether anything was
// written, so servers holding the old files can be told to restart.
func (p PKI) Ensure(now time.Time) (changed bool, err error) {
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return false, fmt.Errorf("pki: %w", err)
	}
	ca, caKey, err := loadPair(p.CA(), p.CAKey())
	if err != nil || expiring(ca, now) {
		if ca, caKey, err = p.issueCA(now); err != nil {
			return false, err
		}
		changed = true
	}
	for _, leaf := range []struct {
		cert, key string
		usage     x509.ExtKeyUsage
		cn        string
	}{
		{p.ServerCert(), p.ServerKey(), x509.ExtKeyUsageServerAuth, "tributary-local-server"},
		{p.ClientCert(), p.ClientKey(), x509.ExtKeyUsageClientAuth, "tributary-local-client"},
	} {
		c, _, err := loadPair(leaf.cert, leaf.key)
		if !changed && err == nil && !expiring(c, now) && c.CheckSignatureFrom(ca) == nil {
			continue
		}
		if err := issueLeaf(ca, caKey, leaf.cn, leaf.usage, leaf.cert, leaf.key, now); err != nil {
			return false, err
		}
		changed = true
	}
	if _, err := os.Stat(p.KafkaKeystore()); changed || err != nil {
		if err := p.writeKafkaKeystore(); err != nil {
			return false, err
		}
	}
	return changed, nil
}

func expiring(c *x509.Certificate, now time.Time) bool {
	return now.Add(certRenewBefore).After(c.NotAfter) || now.Before(c.NotBefore)
}

func (p PKI) issueCA(now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "tributary local CA", Organization: []string{"tributary-stack"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(caLifetime),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: CA certificate: %w", err)
	}
	if err := writeKeyAndCert(p.CAKey(), key, p.CA(), der); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func issueLeaf(ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, usage x509.ExtKeyUsage, certFile, keyFile string, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("pki: %s key: %w", cn, err)
	}
	serial, err := newSerial()
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{"tributary-stack"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(leafLifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:    []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("pki: %s certificate: %w", cn, err)
	}
	return writeKeyAndCert(keyFile, key, certFile, der)
}

// writeKeyAndCert writes the key as PKCS#8 (what Kafka's PEM keystore,
// ClickHouse's OpenSSL and Go all read) with mode 0600.
func writeKeyAndCert(keyFile string, key *ecdsa.PrivateKey, certFile string, der []byte) error {
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("pki: marshal key: %w", err)
	}
	if err := writeFileAtomic(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func (p PKI) writeKafkaKeystore() error {
	var out []byte
	for _, f := range []string{p.ServerKey(), p.ServerCert(), p.CA()} {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("pki: kafka keystore: %w", err)
		}
		out = append(out, b...)
	}
	return writeFileAtomic(p.KafkaKeystore(), out, 0o600)
}

func loadPair(certFile, keyFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	cblk, _ := pem.Decode(cb)
	kblk, _ := pem.Decode(kb)
	if cblk == nil || kblk == nil {
		return nil, nil, errors.New("no PEM block")
	}
	cert, err := x509.ParseCertificate(cblk.Bytes)
	if err != nil {
		return nil, nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kblk.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, errors.New("key does not match certificate")
	}
	return cert, key, nil
}

func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("pki: serial: %w", err)
	}
	return n, nil
}

// writeFileAtomic writes through a temporary file in the same folder, so
// a server never reads half a key.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
