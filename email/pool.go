package email

import (
	"context"
	"sync"
	"time"

	mail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// pool lets at most size sends hold an SMTP connection at once and keeps the connections
// open for the next send. Idle connections are reused newest first, so a light load runs on
// one hot connection; one that failed is closed and replaced by a fresh dial.
type pool struct {
	client    *mail.Client  // the dial and send settings; its own connection is never used
	sem       chan struct{} // one token per connection a send may hold
	idleCheck time.Duration
	now       func() time.Time

	mu   sync.Mutex
	idle []*conn // a stack: the last one put back is the first one taken
}

// conn is one pooled connection.
type conn struct {
	smtp     *smtp.Client
	lastUsed time.Time
}

func newPool(client *mail.Client, size int, idleCheck time.Duration) *pool {
	return &pool{client: client, sem: make(chan struct{}, size), idleCheck: idleCheck, now: time.Now}
}

// get waits for a free place and returns a working connection: an idle one (checked with
// NOOP when it sat longer than idleCheck, because servers drop idle clients) or a new one.
func (p *pool) get(ctx context.Context) (*conn, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if c := p.pop(); c != nil {
		if p.now().Sub(c.lastUsed) <= p.idleCheck || c.smtp.Noop() == nil {
			return c, nil
		}
		p.closeConn(c)
	}
	client, err := p.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		<-p.sem
		return nil, err
	}
	return &conn{smtp: client}, nil
}

// put gives a connection back; one that failed mid-exchange is closed instead of reused.
func (p *pool) put(c *conn, healthy bool) {
	if healthy {
		c.lastUsed = p.now()
		p.mu.Lock()
		p.idle = append(p.idle, c)
		p.mu.Unlock()
	} else {
		p.closeConn(c)
	}
	<-p.sem
}

func (p *pool) pop() *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.idle)
	if n == 0 {
		return nil
	}
	c := p.idle[n-1]
	p.idle = p.idle[:n-1]
	return c
}

// closeConn sends QUIT (bounded by the connection's deadline) and closes.
func (p *pool) closeConn(c *conn) {
	_ = p.client.CloseWithSMTPClient(c.smtp)
}

// close closes the idle connections; busy ones close when their send returns them unhealthy
// or stay idle for a later send, so call it after the last Send.
func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		p.closeConn(c)
	}
}
