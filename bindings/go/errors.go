// SPDX-License-Identifier: Apache-2.0
package connpool

import (
	"fmt"

	"github.com/libconnpool/connpool-go/internal/native"
)

// Error is every error this package returns for a failed pool call. Code is the C library's
// status code (CONNPOOL_STATUS_MAP in connpool.h, the one table all bindings come from).
// Compare with the sentinels using errors.Is: errors.Is(err, connpool.ErrTimeout).
type Error struct {
	Code   int    // e.g. 2
	Name   string // e.g. "CONNPOOL_ETIMEOUT"
	Text   string // the library's text for the code
	Detail string // what this call adds, may be empty
	Cause  error  // for a canceled acquire, the context's error (errors.Is(err, context.Canceled))
}

// Unwrap gives the cause (a context's error), so errors.Is sees through to it.
func (e *Error) Unwrap() error { return e.Cause }

// canceledError is ErrCanceled caused by a context's error: it matches both.
func canceledError(ctxErr error, detail string) error {
	return &Error{Code: ErrCanceled.Code, Name: ErrCanceled.Name, Text: ErrCanceled.Text, Detail: detail,
		Cause: ctxErr}
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "connpool: " + e.Name + ": " + e.Text
	}
	return "connpool: " + e.Name + ": " + e.Text + ": " + e.Detail
}

// Is matches any *Error with the same code, so the sentinels work with errors.Is.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// HTTPStatus is what a service should answer: 503 for timeout, unavailable, overload and
// closed; 502 when a factory failed on this call; 500 otherwise.
func (e *Error) HTTPStatus() int { return native.HttpStatusFor(e.Code) }

func sentinel(code native.Connpool_bindingStatus) *Error {
	c := int(code)
	return &Error{Code: c, Name: native.StatusName(c), Text: native.StatusMessage(c)}
}

// The sentinel errors, one per status code of the C library.
var (
	ErrInvalid     = sentinel(native.EINVAL)       // bad argument: unknown config key, value out of range
	ErrTimeout     = sentinel(native.ETIMEOUT)     // no connection within the acquire timeout (503)
	ErrUnavailable = sentinel(native.EUNAVAILABLE) // backend down past the cutoff: failing fast (503)
	ErrClosed      = sentinel(native.ECLOSED)      // pool draining or closed (503)
	ErrOverload    = sentinel(native.EOVERLOAD)    // too many waiters: shed at once (503)
	ErrStale       = sentinel(native.ESTALE)       // lease not current (a bug with this package's leases)
	ErrFactory     = sentinel(native.EFACTORY)     // a factory callback failed on this call's path (502)
	ErrNoMemory    = sentinel(native.ENOMEM)       // allocation failed
	ErrInternal    = sentinel(native.EINTERNAL)    // a bug in libconnpool
	ErrCanceled    = sentinel(native.ECANCELED)    // the acquire's cancel token was triggered
)

var sentinels = []*Error{ErrInvalid, ErrTimeout, ErrUnavailable, ErrClosed, ErrOverload, ErrStale,
	ErrFactory, ErrNoMemory, ErrInternal, ErrCanceled}

// errorFor turns a native status into an *Error (nil for OK).
func errorFor(code int, detail string) error {
	if code == int(native.OK) {
		return nil
	}
	for _, s := range sentinels {
		if s.Code == code {
			return &Error{Code: code, Name: s.Name, Text: s.Text, Detail: detail}
		}
	}
	return &Error{Code: ErrInternal.Code, Name: ErrInternal.Name, Text: ErrInternal.Text,
		Detail: fmt.Sprintf("unknown status code %d %s", code, detail)}
}

// fatalError marks a Create failure as permanent.
type fatalError struct{ err error }

func (f *fatalError) Error() string { return f.err.Error() }
func (f *fatalError) Unwrap() error { return f.err }

// Fatal wraps an error returned by Factory.Create to say the failure is permanent (bad
// credentials): the pool turns unavailable at once (acquires fail with ErrUnavailable, 503)
// and keeps probing at the maximum backoff. Any other error from Create is transient and
// retried with backoff.
func Fatal(err error) error {
	if err == nil {
		err = fmt.Errorf("fatal create failure")
	}
	return &fatalError{err}
}
