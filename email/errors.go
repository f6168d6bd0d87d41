package email

import (
	"context"
	"errors"
	"net"
	"net/textproto"
	"strconv"

	gomail "github.com/wneessen/go-mail"

	"github.com/heraldhq/herald"
)

// sendError classifies a go-mail send failure by the server's reply code: 5xx means the
// server refused this message or recipient for good (a bounce); 4xx asks to try later; no
// code at all means the connection failed, which is temporary too.
func sendError(err error) *herald.SendError {
	var ge *gomail.SendError
	if !errors.As(err, &ge) {
		return herald.TemporaryError(herald.SendUnavailable, "", "SMTP send failed", err)
	}
	code := ge.ErrorCode()
	provider := ""
	if code != 0 {
		provider = strconv.Itoa(code)
		if esc := ge.EnhancedStatusCode(); esc != "" {
			provider += " " + esc
		}
	}
	switch {
	case code >= 500 && code <= 599:
		return herald.PermanentError(herald.SendRejected, provider, ge.Error(), nil)
	case code >= 400 && code <= 499:
		return herald.TemporaryError(herald.SendUnavailable, provider, ge.Error(), nil)
	default:
		return herald.TemporaryError(herald.SendUnavailable, "", ge.Error(), nil)
	}
}

// dialError classifies a failure to get a connection. Every such failure is temporary, even
// a 5xx answer to AUTH: it is Herald's configuration or the server's state that is wrong,
// not the message, so the email should go out once that is fixed.
func dialError(addr string, err error) *herald.SendError {
	code := herald.SendUnavailable
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		code = herald.SendTimeout
	}
	provider := ""
	var te *textproto.Error
	if errors.As(err, &te) {
		provider = strconv.Itoa(te.Code)
	}
	return herald.TemporaryError(code, provider, "connecting to SMTP server "+addr, err)
}

// replied reports whether the server answered with a reply code, which means the session
// is still in step and the connection can serve the next email.
func replied(err error) bool {
	var ge *gomail.SendError
	return errors.As(err, &ge) && ge.ErrorCode() != 0
}

// staleConn reports whether err is a connection failure at the start of a transaction,
// before the server accepted anything, which is what a connection closed while idle gives.
func staleConn(err error) bool {
	var ge *gomail.SendError
	return errors.As(err, &ge) && ge.ErrorCode() == 0 &&
		(ge.Reason == gomail.ErrSMTPMailFrom || ge.Reason == gomail.ErrConnCheck)
}
