// SPDX-License-Identifier: Apache-2.0

package native

// The callback of connpool_acquire_async (a file of its own: cgo allows only declarations in
// the preamble of a file with //export).

// #include <stdint.h>
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

//export connpoolGoAcquireDone
func connpoolGoAcquireDone(ud unsafe.Pointer, status C.int, lease C.uint64_t, conn unsafe.Pointer) {
	h := cgo.Handle(uintptr(ud))
	done := h.Value().(chan AsyncResult)
	h.Delete()
	// Never blocks: the channel has room for its one result. The C library's dispatcher
	// thread runs this, and must not wait on Go code.
	done <- AsyncResult{Status: int(status), Lease: int64(lease), Handle: int64(uintptr(conn))}
}
