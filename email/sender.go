package email

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/heraldhq/herald"
)

// DeliveryHeader carries the delivery id on every message, for bounce and complaint matching.
const DeliveryHeader = "X-Herald-Delivery-ID"

// Sender sends emails over a pool of reused SMTP connections. It is safe for concurrent use;
// up to Config.PoolSize sends run at once and the rest wait for a free connection.
type Sender struct {
	cfg  Config
	pool *pool
	dkim *gomail.DKIMSigner
}

// New returns a Sender for cfg. It does not connect: connections are dialled on first use.
func New(cfg Config) (*Sender, error) {
	cfg = cfg.withDefaults()
	if cfg.Host == "" {
		return nil, herald.Errorf(herald.Required, "host", "SMTP host is required")
	}
	if cfg.Tracker != nil && (cfg.Tracker.BaseURL == "" || len(cfg.Tracker.Secret) == 0) {
		return nil, herald.Errorf(herald.Required, "tracker", "tracking needs a base URL and a secret")
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithHELO(cfg.HELO),
		gomail.WithTLSConfig(cfg.tlsConfig()),
		gomail.WithoutNoop(), // the pool checks idle connections itself; busy ones need no NOOP
		gomail.WithoutRset(), // a finished transaction needs no RSET; go-mail still resets after a refusal
	}
	switch cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, herald.Errorf(herald.Invalid, "tls", "TLS mode %q is not none, starttls or tls", cfg.TLS)
	}
	if cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if cfg.TLS == TLSNone { // the operator chose a plain-text relay; AUTH goes in the clear too
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	client, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, herald.Errorf(herald.Invalid, "smtp", "%v", err)
	}
	s := &Sender{cfg: cfg, pool: newPool(client, cfg.PoolSize, cfg.IdleCheck)}
	if cfg.DKIM != nil {
		key, err := gomail.PrivKeyFromPEM(cfg.DKIM.PrivateKeyPEM)
		if err != nil {
			return nil, herald.Errorf(herald.Invalid, "dkim.private_key", "%v", err)
		}
		s.dkim = gomail.NewDKIMSigner(cfg.DKIM.Domain, cfg.DKIM.Selector, key)
		if err := s.dkim.ValidateConfig(); err != nil {
			return nil, herald.Errorf(herald.Invalid, "dkim", "%v", err)
		}
	}
	return s, nil
}

// Close closes the idle pooled connections; call it after the last Send (a later one reconnects).
func (s *Sender) Close() error {
	s.pool.close()
	return nil
}

// Send delivers one email. The result's ProviderID is the Message-ID and Status the server's
// final reply. Errors are *herald.SendError: a 5xx reply to the message is permanent, while
// 4xx replies, network failures and trouble connecting (TLS, AUTH) are temporary. ctx bounds
// the wait for a free connection; each SMTP exchange is bounded by Config.Timeout.
func (s *Sender) Send(ctx context.Context, e *herald.Email) (herald.SendResult, error) {
	msg, err := s.compose(e)
	if err != nil {
		return herald.SendResult{}, err
	}
	res := herald.SendResult{ProviderID: msg.GetMessageID()}
	// A connection that went stale between sends fails at MAIL FROM, before anything was
	// accepted, so one more try on a fresh connection cannot duplicate the email.
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		conn, err := s.pool.get(ctx)
		if err != nil {
			return res, dialError(s.cfg.addr(), err)
		}
		err = s.pool.client.SendWithSMTPClient(conn.smtp, msg)
		if err == nil {
			s.pool.put(conn, true)
			res.Status = msg.ServerResponse()
			return res, nil
		}
		se := sendError(err)
		s.pool.put(conn, replied(err)) // a clean SMTP reply leaves the session usable
		if attempt == 1 && staleConn(err) {
			continue
		}
		return res, se
	}
}

// compose builds the MIME message: From defaulted, a Message-ID in the sender's domain,
// the delivery header, unsubscribe headers, the HTML with preheader and tracking, and the
// text part (derived from the HTML when the email has none).
func (s *Sender) compose(e *herald.Email) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	from := e.From
	if from == "" {
		from = s.cfg.From
	}
	invalid := func(field string, err error) error {
		return herald.PermanentError(herald.SendInvalid, "", field, err)
	}
	if err := msg.From(from); err != nil {
		return nil, invalid("from", err)
	}
	if err := msg.To(e.To); err != nil {
		return nil, invalid("to", err)
	}
	if e.ReplyTo != "" {
		if err := msg.ReplyTo(e.ReplyTo); err != nil {
			return nil, invalid("reply_to", err)
		}
	}
	if e.HTML == "" && e.Text == "" {
		return nil, invalid("body", errors.New("the email has neither HTML nor text"))
	}
	msg.Subject(e.Subject)
	msg.SetMessageIDWithValue(messageID(e.DeliveryID, from))
	msg.SetDate()
	for k, v := range e.Headers {
		if err := checkHeader(k); err != nil {
			return nil, invalid("headers", err)
		}
		msg.SetGenHeader(gomail.Header(k), v) // go-mail encodes values with control characters
	}
	if e.DeliveryID != "" {
		msg.SetGenHeader(DeliveryHeader, e.DeliveryID)
	}
	if err := setUnsubscribe(msg, e); err != nil {
		return nil, invalid("unsubscribe", err)
	}
	text := e.Text
	if text == "" {
		text = HTMLToText(e.HTML)
	}
	msg.SetBodyString(gomail.TypeTextPlain, text)
	if e.HTML != "" {
		edit := htmlEdit{preheader: e.Preheader}
		if s.cfg.Tracker != nil && !e.Untracked && e.DeliveryID != "" {
			edit.tracker, edit.deliveryID, edit.skip = s.cfg.Tracker, e.DeliveryID, []string{e.UnsubscribeURL}
		}
		msg.AddAlternativeString(gomail.TypeTextHTML, rewriteHTML(e.HTML, edit))
	}
	if s.dkim != nil {
		msg.SetDKIM(s.dkim)
	}
	return msg, nil
}

// reservedHeaders are composed by the Sender; an email's Headers may not set them.
var reservedHeaders = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Reply-To": true, "Sender": true,
	"Subject": true, "Date": true, "Message-Id": true, "Mime-Version": true, "Content-Type": true,
	"Content-Transfer-Encoding": true, "Dkim-Signature": true, "List-Unsubscribe": true,
	"List-Unsubscribe-Post": true, "X-Herald-Delivery-Id": true,
}

// checkHeader refuses names that are not RFC 5322 field names (which could smuggle in
// other headers) and the headers the Sender composes itself.
func checkHeader(name string) error {
	if name == "" {
		return errors.New("empty header name")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return fmt.Errorf("header name %q has a character not allowed in a field name", name)
		}
	}
	if reservedHeaders[textproto.CanonicalMIMEHeaderKey(name)] {
		return fmt.Errorf("header %s is set by Herald, not by the message", name)
	}
	return nil
}

// setUnsubscribe sets List-Unsubscribe from the email's mailto and https addresses, and the
// RFC 8058 one-click List-Unsubscribe-Post when there is an https one.
func setUnsubscribe(msg *gomail.Msg, e *herald.Email) error {
	var extra []string
	if e.UnsubscribeMailto != "" {
		extra = append(extra, "mailto:"+strings.TrimPrefix(e.UnsubscribeMailto, "mailto:"))
	}
	switch {
	case e.UnsubscribeURL != "":
		return msg.SetListUnsubscribeOneClick(e.UnsubscribeURL, extra...)
	case len(extra) > 0:
		msg.SetListUnsubscribe(extra...)
	}
	return nil
}

// messageID returns an id in the From address's domain, so it says who sent it: the
// delivery's own id when the email has one, else a random one.
func messageID(deliveryID, from string) string {
	domain := "localhost"
	if a, err := mail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			domain = d
		}
	}
	if deliveryID != "" && strings.Trim(deliveryID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == "" {
		// Every attempt at one delivery carries the same Message-ID, so that a message sent
		// again (its outcome lost in a crash) is recognisably the same one downstream.
		return "d." + deliveryID + "@" + domain
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s@%s", hex.EncodeToString(b[:]), domain)
}
