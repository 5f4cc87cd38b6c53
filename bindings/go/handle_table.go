// SPDX-License-Identifier: Apache-2.0

package connpool

import (
	"sync"
	"sync/atomic"
)

// handleTable holds the Go values behind the native pool's connections, by handle: the handle
// the factory hands the native pool (its "connection pointer") is an index into the table, so
// an acquire finds its value with one slice read instead of a sync.Map lookup.
//
// Handles are small and recycled (a freed one goes to the next connection), so the table is
// as large as the most connections the pool held at once; handle 0 is never used (the native
// pool reads a NULL connection as a failed create). get is lock-free (atomic loads of the
// table and the entry); add and remove run on pool threads when connections are made and
// destroyed, under mu. The native pool only names a handle between its add and its remove.
type handleTable[T any] struct {
	slots atomic.Pointer[[]atomic.Pointer[T]]
	mu    sync.Mutex // add, remove
	free  []int64    // guarded by mu: handles given back, reused LIFO
	next  int64      // guarded by mu: the lowest handle never used (0 until the first add)
}

func (t *handleTable[T]) get(h int64) (T, bool) {
	if s := t.slots.Load(); s != nil && h > 0 && h < int64(len(*s)) {
		if p := (*s)[h].Load(); p != nil {
			return *p, true
		}
	}
	var zero T
	return zero, false
}

func (t *handleTable[T]) add(conn T) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var h int64
	if n := len(t.free); n > 0 {
		h = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		if t.next == 0 {
			t.next = 1
		}
		h = t.next
		t.next++
		s := t.slots.Load()
		if s == nil || h >= int64(len(*s)) {
			size := 16
			if s != nil {
				size = 2 * len(*s)
			}
			grown := make([]atomic.Pointer[T], size)
			if s != nil {
				for i := range *s {
					grown[i].Store((*s)[i].Load())
				}
			}
			t.slots.Store(&grown)
		}
	}
	c := conn
	(*t.slots.Load())[h].Store(&c)
	return h
}

func (t *handleTable[T]) remove(h int64) (T, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	conn, ok := t.get(h)
	if !ok {
		return conn, false
	}
	(*t.slots.Load())[h].Store(nil)
	t.free = append(t.free, h)
	return conn, true
}
