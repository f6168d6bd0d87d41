// Package email sends Herald's rendered emails over SMTP: a small pool of reused
// connections, STARTTLS or implicit TLS, optional DKIM signing, RFC 8058 one-click
// unsubscribe headers, open and click tracking, and a text part derived from the HTML.
package email

import (
	"crypto/tls"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/heraldhq/herald"
)

// TLSMode says how the SMTP connection is encrypted.
type TLSMode string

// TLS modes, as spelled in the tls= query parameter of HERALD_SMTP_URL.
const (
	TLSNone     TLSMode = "none"     // plain text; only for a relay on a trusted network
	TLSStartTLS TLSMode = "starttls" // upgrade with STARTTLS, which the server must offer
	TLSImplicit TLSMode = "tls"      // TLS from the first byte (SMTPS, usually port 465)
)

// Config configures a Sender. The zero value of every optional field is documented on it.
type Config struct {
	Host     string // SMTP server host name or address
	Port     int    // default: 465 for TLSImplicit, 587 for TLSStartTLS, 25 for TLSNone
	Username string // empty: no SMTP AUTH
	Password string
	TLS      TLSMode // default TLSStartTLS
	// TLSConfig overrides the TLS settings (custom roots in tests); ServerName defaults to Host.
	// Nil verifies the server against the system roots.
	TLSConfig *tls.Config
	// From is the default From address (HERALD_EMAIL_FROM) for emails that name none.
	From string
	// PoolSize is the number of SMTP connections kept open and reused; default 4.
	PoolSize int
	// Timeout bounds dialing and each SMTP exchange; default 30s.
	Timeout time.Duration
	// IdleCheck is how long a connection may sit unused before it is checked with NOOP
	// before reuse; default 15s. A used connection is never checked, which keeps sends fast.
	IdleCheck time.Duration
	// HELO is the name sent in EHLO; default "localhost".
	HELO string
	// DKIM, when set, signs every message.
	DKIM *DKIM
	// Tracker, when set, rewrites links for click tracking and adds an open pixel.
	Tracker *Tracker
}

// DKIM is the signing identity: the public key is published at Selector._domainkey.Domain.
type DKIM struct {
	Domain        string // the d= tag
	Selector      string // the s= tag
	PrivateKeyPEM []byte // an RSA (PKCS#1 or PKCS#8) or Ed25519 (PKCS#8) private key
}

// ParseURL parses HERALD_SMTP_URL, smtp://user:pass@host:port?tls=none|starttls|tls, into a
// Config with From set to from. The scheme smtps means tls=tls. skip_verify=true turns off
// certificate verification (a relay with a self-signed certificate); pool=N sets PoolSize.
func ParseURL(raw, from string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, herald.Errorf(herald.Invalid, "smtp_url", "not a URL: %v", err)
	}
	cfg := Config{From: from, TLS: TLSStartTLS, Host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		cfg.TLS = TLSImplicit
	default:
		return Config{}, herald.Errorf(herald.Invalid, "smtp_url", "scheme %q is not smtp or smtps", u.Scheme)
	}
	if cfg.Host == "" {
		return Config{}, herald.Errorf(herald.Required, "smtp_url", "no host")
	}
	if p := u.Port(); p != "" {
		if cfg.Port, err = strconv.Atoi(p); err != nil || cfg.Port <= 0 || cfg.Port > 65535 {
			return Config{}, herald.Errorf(herald.Invalid, "smtp_url", "port %q is not a port number", p)
		}
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	q := u.Query()
	if v := q.Get("tls"); v != "" {
		switch m := TLSMode(v); m {
		case TLSNone, TLSStartTLS, TLSImplicit:
			cfg.TLS = m
		default:
			return Config{}, herald.Errorf(herald.Invalid, "smtp_url", "tls=%q is not none, starttls or tls", v)
		}
	}
	if v := q.Get("skip_verify"); v != "" {
		skip, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, herald.Errorf(herald.Invalid, "smtp_url", "skip_verify=%q is not a boolean", v)
		}
		if skip {
			cfg.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the operator asked for it
		}
	}
	if v := q.Get("pool"); v != "" {
		if cfg.PoolSize, err = strconv.Atoi(v); err != nil || cfg.PoolSize < 1 {
			return Config{}, herald.Errorf(herald.Invalid, "smtp_url", "pool=%q is not a positive number", v)
		}
	}
	return cfg, nil
}

// withDefaults returns cfg with every zero optional field set to its documented default.
func (cfg Config) withDefaults() Config {
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Port == 0 {
		switch cfg.TLS {
		case TLSImplicit:
			cfg.Port = 465
		case TLSNone:
			cfg.Port = 25
		default:
			cfg.Port = 587
		}
	}
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.IdleCheck <= 0 {
		cfg.IdleCheck = 15 * time.Second
	}
	if cfg.HELO == "" {
		cfg.HELO = "localhost"
	}
	return cfg
}

// addr is host:port, for messages.
func (cfg Config) addr() string {
	return net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
}

// tlsConfig returns the TLS settings with ServerName defaulted to the host.
func (cfg Config) tlsConfig() *tls.Config {
	var c *tls.Config
	if cfg.TLSConfig != nil {
		c = cfg.TLSConfig.Clone()
	} else {
		c = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if c.ServerName == "" {
		c.ServerName = cfg.Host
	}
	return c
}
