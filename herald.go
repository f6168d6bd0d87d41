// Package herald holds Herald's domain: people, custom objects, relationships, events, the
// change records that drive the engines, the validation rules every write obeys, and the error
// type shared by every adapter. It does no I/O.
package herald

import (
	"errors"
	"fmt"
)

// Code classifies an Error; adapters map it to a status (HTTP, exit code) in one table.
type Code string

// Error codes. The string value is also the machine-readable "reason" on the wire.
const (
	Invalid      Code = "invalid"       // malformed or semantically wrong input
	Required     Code = "required"      // a required field is missing
	TooLong      Code = "too_long"      // an identifier, name or value is over its byte limit
	TooLarge     Code = "too_large"     // a body or entity is over its size limit
	TooMany      Code = "too_many"      // too many attributes or items
	Reserved     Code = "reserved"      // a reserved attribute name was used
	NotFound     Code = "not_found"     // the addressed entity does not exist
	Conflict     Code = "conflict"      // identifiers belong to different entities
	Unauthorized Code = "unauthorized"  // missing or wrong credentials
	Internal     Code = "internal"      // a fault on Herald's side; details are logged, not shown
	Unsupported  Code = "not_supported" // a valid request Herald does not implement
)

// Error is the one error type the domain and its adapters exchange. Field names the input
// field at fault (a JSON path such as "attributes.plan"), when there is one.
type Error struct {
	Code    Code
	Field   string
	Message string
	Err     error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		if msg == "" {
			return e.Err.Error()
		}
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code, field and formatted message.
func Errorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's *Error, Internal for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return Internal
	}
}

// AsError returns err's *Error, wrapping any other error as Internal.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "internal error", Err: err}
}

// WithField returns a copy of err (as *Error) whose Field is prefixed by prefix.
func WithField(err error, prefix string) error {
	if err == nil {
		return nil
	}
	e := *AsError(err)
	switch {
	case e.Field == "":
		e.Field = prefix
	case prefix != "":
		e.Field = prefix + "." + e.Field
	}
	return &e
}
