// SPDX-License-Identifier: Apache-2.0
/* Go additions to connpool.i (included from its language switch).
 * SWIG generates package native (bindings/go/internal/native): exported Go names are
 * unavoidable there, so it is an internal package; the public API is package connpool. */

/* The acquire/release fast path for bindings/go/internal/native/fastpath.go, called with cgo
 * directly (not through SWIG's Go wrappers and the NativePool interface). The acquire returns
 * its whole outcome by value, so no Go memory is passed to C, and takes a spilled lease on
 * the same OS thread as the acquire: between two cgo calls a goroutine may move to another
 * thread, and Pool::takeSpilledLease() is thread-local. Not exported from libconnpool.so:
 * this is compiled into the Go wrapper. */
%{
extern "C" {
typedef struct {
  int64_t r;      /* Pool::acquireHandleBlocking's value */
  int64_t lease;  /* for a kSpilled outcome: its lease */
} connpool_go_acquired_t;

connpool_go_acquired_t connpool_go_acquire(uintptr_t pool, int64_t timeout_ms, int priority) {
  connpool_binding::Pool* p = reinterpret_cast<connpool_binding::Pool*>(pool);
  connpool_go_acquired_t out = {p->acquireHandleBlocking(timeout_ms, priority), 0};
  if (out.r <= 0 && ((-out.r) & 0xff) == connpool_binding::Pool::kSpilled)
    out.lease = connpool_binding::Pool::takeSpilledLease();
  return out;
}

int connpool_go_release_handle(uintptr_t pool, int64_t handle, int broken) {
  return reinterpret_cast<connpool_binding::Pool*>(pool)->releaseHandle(handle, broken != 0);
}
}
%}
