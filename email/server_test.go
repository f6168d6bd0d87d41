package email_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message as the test server got it.
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool // the session was encrypted
	User string
}

// testServer is an in-process SMTP server (emersion/go-smtp) on 127.0.0.1 that records
// what it receives and answers RCPT or DATA with a configured error.
type testServer struct {
	Host string
	Port int

	rcptErr error // reply to every RCPT, when set
	dataErr error // reply to DATA, when set
	discard bool  // keep no messages (benchmarks)
	users   map[string]string

	mu       sync.Mutex
	msgs     []received
	sessions int
	conns    []net.Conn
}

type serverOpt func(*testServer, *smtp.Server)

// withTLS serves cert: implicitly on connect when implicit is true, else through STARTTLS.
func withTLS(cert tls.Certificate) serverOpt {
	return func(_ *testServer, s *smtp.Server) {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
}

// withAuth requires PLAIN authentication with one of users (name → password).
func withAuth(users map[string]string) serverOpt {
	return func(ts *testServer, _ *smtp.Server) { ts.users = users }
}

// startServer starts the server; implicit TLS when tlsListen is set.
func startServer(tb testing.TB, implicitTLS bool, opts ...serverOpt) *testServer {
	tb.Helper()
	ts := &testServer{}
	s := smtp.NewServer(smtp.BackendFunc(ts.newSession))
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	for _, o := range opts {
		o(ts, s)
	}
	var l net.Listener
	var err error
	if implicitTLS {
		l, err = tls.Listen("tcp", "127.0.0.1:0", s.TLSConfig)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		tb.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(l.Addr().String())
	ts.Host = host
	ts.Port, _ = strconv.Atoi(port)
	go func() { _ = s.Serve(l) }()
	tb.Cleanup(func() { _ = s.Close() })
	return ts
}

func (ts *testServer) newSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	ts.mu.Lock()
	ts.sessions++
	ts.conns = append(ts.conns, c.Conn())
	ts.mu.Unlock()
	return &session{ts: ts, c: c, msg: received{TLS: isTLS}}, nil
}

// dropConnections closes every connection from the server side, as an idle timeout would.
func (ts *testServer) dropConnections() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, c := range ts.conns {
		_ = c.Close()
	}
	ts.conns = nil
}

func (ts *testServer) messages() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.msgs...)
}

func (ts *testServer) sessionCount() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.sessions
}

type session struct {
	ts  *testServer
	c   *smtp.Conn
	msg received
}

func (s *session) AuthMechanisms() []string {
	if s.ts.users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if want, ok := s.ts.users[user]; !ok || want != pass {
			return errors.New("bad credentials")
		}
		s.msg.User = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.ts.users != nil && s.msg.User == "" {
		return smtp.ErrAuthRequired
	}
	s.msg.From = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.ts.rcptErr != nil {
		return s.ts.rcptErr
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.ts.dataErr != nil {
		return s.ts.dataErr
	}
	if !s.ts.discard {
		m := s.msg
		m.Data = b
		s.ts.mu.Lock()
		s.ts.msgs = append(s.ts.msgs, m)
		s.ts.mu.Unlock()
	}
	return nil
}

func (s *session) Reset() { s.msg = received{TLS: s.msg.TLS, User: s.msg.User} }

func (s *session) Logout() error { return nil }

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "herald test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}
