// Package smtptest runs an in-process SMTP server (emersion/go-smtp) for tests: it accepts
// every message on 127.0.0.1 without TLS or AUTH and keeps what it received.
package smtptest

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message as the server got it.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Server is a running test server.
type Server struct {
	Host string
	Port int

	// Discard keeps no messages, only counts them (benchmarks).
	Discard bool
	// Refuse, when it returns an error for a recipient, makes the server answer RCPT with it
	// (an *smtp.SMTPError gives the reply code). Set it before the first message.
	Refuse func(to string) error

	mu      sync.Mutex
	msgs    []Message
	count   int
	arrived chan struct{}
}

// Start starts a server that stops when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	ts := &Server{arrived: make(chan struct{}, 1)}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{ts: ts}, nil }))
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.MaxRecipients = 50
	l, err := net.Listen("tcp", "127.0.0.1:0")
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

// URL is the server as HERALD_SMTP_URL names it.
func (ts *Server) URL() string {
	return "smtp://" + net.JoinHostPort(ts.Host, strconv.Itoa(ts.Port)) + "?tls=none"
}

// Messages returns what the server kept so far.
func (ts *Server) Messages() []Message {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]Message(nil), ts.msgs...)
}

// Count returns how many messages arrived.
func (ts *Server) Count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.count
}

// Wait waits until at least n messages arrived, or ctx ends; it returns the count.
func (ts *Server) Wait(ctx context.Context, n int) int {
	for {
		if c := ts.Count(); c >= n {
			return c
		}
		select {
		case <-ctx.Done():
			return ts.Count()
		case <-ts.arrived:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

type session struct {
	ts  *Server
	msg Message
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.msg.From = from; return nil }

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.ts.Refuse != nil {
		if err := s.ts.Refuse(to); err != nil {
			return err
		}
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ts.mu.Lock()
	s.ts.count++
	if !s.ts.Discard {
		m := s.msg
		m.Data = b
		s.ts.msgs = append(s.ts.msgs, m)
	}
	s.ts.mu.Unlock()
	select {
	case s.ts.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (s *session) Reset() { s.msg = Message{} }

func (s *session) Logout() error { return nil }
