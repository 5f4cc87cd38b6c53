// SPDX-License-Identifier: Apache-2.0

package native

// The acquire/release fast path: one cgo call each, straight to the functions connpool_go.i
// adds to the SWIG wrapper (no NativePool interface dispatch, no Go memory handed to C).

/*
#include <stdint.h>
typedef struct {
  int64_t r;
  int64_t lease;
} connpool_go_acquired_t;
connpool_go_acquired_t connpool_go_acquire(uintptr_t pool, int64_t timeout_ms, int priority);
int connpool_go_release_handle(uintptr_t pool, int64_t handle, int broken);
*/
import "C"

// AcquireHandle is NativePool.AcquireHandleBlocking on the pool whose Swigcptr is pool: > 0
// the connection's handle (its lease stays in the facade for ReleaseHandle); <= 0 minus
// (status | handle << 8), and for NativePoolKSpilled lease is the lease, taken on the same
// thread as the acquire.
func AcquireHandle(pool uintptr, timeoutMs int64, priority int) (r, lease int64) {
	out := C.connpool_go_acquire(C.uintptr_t(pool), C.int64_t(timeoutMs), C.int(priority))
	return int64(out.r), int64(out.lease)
}

// ReleaseHandle is NativePool.ReleaseHandle on the pool whose Swigcptr is pool.
func ReleaseHandle(pool uintptr, handle int64, broken bool) int {
	b := C.int(0)
	if broken {
		b = 1
	}
	return int(C.connpool_go_release_handle(C.uintptr_t(pool), C.int64_t(handle), b))
}
