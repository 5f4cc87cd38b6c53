// SPDX-License-Identifier: Apache-2.0
package connpool

import "testing"

// TestAcquireReleaseAllocatesOnlyTheLease pins the fast path's Go allocations: one per cycle,
// the *Lease itself. It cannot be zero without giving something up: go1.19 does not inline
// generic methods, so the Lease cannot live on the caller's stack, and a Lease recycled for the
// connection's next acquire would let a late second Release (defer plus an early Release)
// give back somebody else's lease, which today is a no-op.
func TestAcquireReleaseAllocatesOnlyTheLease(t *testing.T) {
	p := newPool(t, &fakeFactory{}, Config{"max_size": 2, "validate_on_acquire": "never"})
	defer p.Close()
	for name, cycle := range map[string]func(){
		"Acquire+Release": func() {
			l, err := p.Acquire(long)
			if err != nil {
				t.Fatal(err)
			}
			_ = l.Conn()
			_ = l.Release()
		},
		"AcquirePriority+defer Release": func() {
			l, err := p.AcquirePriority(long, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Release()
			_ = l.Conn()
		},
	} {
		if n := testing.AllocsPerRun(10000, cycle); n != 1 {
			t.Errorf("%s: %v allocations per cycle, want 1 (the Lease)", name, n)
		}
	}
}
