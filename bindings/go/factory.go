// SPDX-License-Identifier: Apache-2.0
package connpool

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/libconnpool/connpool-go/internal/native"
)

// Factory opens and closes your connections: the only code that talks to your backend.
//
// The pool calls it from acquiring goroutines and from its own background threads
// (connector threads run Create, a maintenance thread runs keepalive validation and idle
// retirement), never with a pool lock held, so it may block on I/O. A panic never reaches
// the pool: in Create it is a failed create (transient), in Validate or Reset the connection
// is destroyed, in Destroy it is ignored.
type Factory[T any] interface {
	// Create opens one connection. Return Fatal(err) for a permanent failure.
	Create() (T, error)
	// Destroy closes a connection; called exactly once per connection Create returned.
	Destroy(conn T) error
}

// Validator is an optional Factory method: a health check before reuse and in the
// background keepalive. A non-nil error destroys the connection.
type Validator[T any] interface {
	Validate(conn T) error
}

// Resetter is an optional Factory method: clears session state when a lease ends
// (config reset_on_release). A non-nil error destroys the connection.
type Resetter[T any] interface {
	Reset(conn T) error
}

// released counts adapters whose native pool made its last callback (tests watch dropped pools).
var released atomic.Int64

// adapter is the director the native pool calls. It maps the pool's opaque handles to the
// user's connections and recovers every panic, so none crosses into C. The native pool owns
// the C++ director and deletes it after its last callback (which unregisters this object
// from SWIG's director table); this package never calls DeleteDirectorNativeFactory. It must
// not reference the Pool, or a dropped pool could never be collected.
type adapter[T any] struct {
	f        Factory[T]
	validate Validator[T]
	reset    Resetter[T]
	conns    handleTable[T] // handle -> T
}

func newAdapter[T any](f Factory[T]) *adapter[T] {
	a := &adapter[T]{f: f}
	a.validate, _ = f.(Validator[T])
	a.reset, _ = f.(Resetter[T])
	return a
}

func (a *adapter[T]) conn(handle int64) (T, bool) { return a.conns.get(handle) }

func (a *adapter[T]) Create(r native.NativeCreateResult) {
	defer func() {
		if v := recover(); v != nil {
			r.Retry(fmt.Sprintf("Factory.Create panicked: %v", v))
		}
	}()
	conn, err := a.f.Create()
	if err != nil {
		var fe *fatalError
		if errors.As(err, &fe) {
			r.Fatal(err.Error())
		} else {
			r.Retry(err.Error())
		}
		return
	}
	r.Succeed(a.conns.add(conn))
}

func (a *adapter[T]) Destroy(handle int64) {
	defer func() { _ = recover() }()
	if c, ok := a.conns.remove(handle); ok {
		_ = a.f.Destroy(c)
	}
}

func (a *adapter[T]) Validate(handle int64) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	c, found := a.conn(handle)
	return found && (a.validate == nil || a.validate.Validate(c) == nil)
}

func (a *adapter[T]) Reset(handle int64) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	c, found := a.conn(handle)
	return found && (a.reset == nil || a.reset.Reset(c) == nil)
}

func (a *adapter[T]) Released() { released.Add(1) }
