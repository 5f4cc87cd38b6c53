// SPDX-License-Identifier: Apache-2.0

package native

// Asynchronous acquire and cancel tokens, by hand rather than through SWIG: the C library calls
// back into Go (connpoolGoAcquireDone in async_export.go) from its dispatcher thread, so a
// waiting goroutine parks on a channel and holds no OS thread while it waits.

/*
#include <connpool/connpool.h>
#include <stdint.h>
void connpoolGoAcquireDone(void *ud, int status, uint64_t lease, void *conn);
static inline int64_t connpool_go_done_fn(void) { return (int64_t)(intptr_t)&connpoolGoAcquireDone; }
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// AsyncResult is what a pending acquire's callback delivered.
type AsyncResult struct {
	Status int
	Lease  int64
	Handle int64
}

// CancelToken is a connpool_cancel_t; 0 means none.
type CancelToken uintptr

// NewCancelToken returns a new token, or 0 when out of memory.
func NewCancelToken() CancelToken { return CancelToken(unsafe.Pointer(C.connpool_cancel_new())) }

// Trigger ends every acquire waiting with the token (idempotent).
func (t CancelToken) Trigger() { C.connpool_cancel_trigger((*C.connpool_cancel_t)(unsafe.Pointer(t))) }

// Free frees the token; only once no call that uses it is running or pending.
func (t CancelToken) Free() { C.connpool_cancel_free((*C.connpool_cancel_t)(unsafe.Pointer(t))) }

// AcquireAsync starts connpool_acquire_async on p. OK: served now (lease, handle set). PENDING:
// the outcome arrives on done, exactly once (done must have room for it: a buffer of 1).
// Anything else: refused, nothing arrives on done.
func AcquireAsync(p NativePool, timeoutMs int64, priority int, cancel CancelToken,
	done chan AsyncResult) (rc int, lease, handle int64) {
	h := cgo.NewHandle(done)
	var out [2]int64
	rc = p.AcquireAsync(timeoutMs, priority, int64(cancel), int64(C.connpool_go_done_fn()), int64(h),
		out[0:1], out[1:2])
	if rc != int(PENDING) {
		h.Delete()
	}
	return rc, out[0], out[1]
}
