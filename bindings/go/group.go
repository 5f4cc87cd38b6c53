// SPDX-License-Identifier: Apache-2.0
package connpool

import (
	"runtime"
	"sync"
	"time"

	"github.com/libconnpool/connpool-go/internal/native"
)

// Role is a member's role in a Group.
type Role int

// Member roles: the values of CONNPOOL_ROLE_* (pinned by the C ABI; a test compares them).
const (
	RolePrimary Role = 0 // takes writes; serves reads when no replica is healthy
	RoleReplica Role = 1 // serves reads
	RoleShard   Role = 2 // serves AcquireKey for its part of the keys
)

// Intent says what a Group acquire is for.
type Intent int

// Acquire intents: the values of CONNPOOL_INTENT_* (pinned by the C ABI; a test compares them).
const (
	IntentWrite Intent = 0 // the primary only; ErrUnavailable at once when it is unavailable
	IntentRead  Intent = 1 // the least loaded healthy replica, else the primary
)

// Group routes acquires over pools by role (docs/GROUPS.md): writes to the primary, reads to
// the least loaded healthy replica (else the primary), keys to the shard owning them
// (consistent hashing). Unavailable members are skipped without waiting. A Lease from a
// Group belongs to the member pool it came from: Release it as usual.
//
//	g, _ := connpool.NewGroup[*sql.Conn]("orders")
//	g.Add("main", connpool.RolePrimary, primary)
//	g.Add("r1", connpool.RoleReplica, replica)
//	lease, err := g.Acquire(connpool.IntentRead, time.Second)
//	if err != nil { ... }
//	defer lease.Release()
//
// The group does not own its pools: Close leaves them open, and closing a pool that is
// still in the group is safe (it is detached). Safe for concurrent use.
type Group[T any] struct {
	nat     native.NativeGroup
	mu      sync.Mutex // serialises Add; guards members
	members []*Pool[T] // index = the native member index (add order)
}

// NewGroup makes an empty group; name labels it in stats. ErrInvalid for an empty name.
func NewGroup[T any](name string) (*Group[T], error) {
	nat := native.NewNativeGroup(name)
	if rc := nat.Status(); rc != int(native.OK) {
		native.DeleteNativeGroup(nat)
		return nil, errorFor(rc, "group name must not be empty")
	}
	g := &Group[T]{nat: nat}
	runtime.SetFinalizer(g, func(g *Group[T]) { native.DeleteNativeGroup(g.nat) })
	return g, nil
}

// Add makes pool member name with role. ErrInvalid (with the reason) for a taken name, a
// pool already in a group or a second primary; ErrClosed for a closed group or pool.
func (g *Group[T]) Add(name string, role Role, pool *Pool[T]) error {
	if g == nil || pool == nil {
		return errorFor(ErrInvalid.Code, "nil group or pool")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	rc := g.nat.Add(name, int(role), pool.nat)
	runtime.KeepAlive(pool)
	if rc != int(native.OK) {
		return g.fail(rc, "group add '"+name+"'")
	}
	g.members = append(g.members, pool)
	return nil
}

// Acquire borrows a connection for intent, waiting up to timeout (0: do not wait; negative:
// the first candidate's acquire_timeout_ms). Errors: ErrUnavailable, ErrClosed, ErrTimeout,
// ErrOverload, ErrFactory, ErrInvalid (unknown intent, or no member for it).
func (g *Group[T]) Acquire(intent Intent, timeout time.Duration) (*Lease[T], error) {
	if g == nil {
		return nil, errorFor(ErrClosed.Code, "nil group")
	}
	var lease, handle [1]int64
	var member [1]int
	rc := g.nat.Acquire(int(intent), millis(timeout), lease[:], handle[:], member[:])
	return g.adopt(rc, lease[0], handle[0], member[0])
}

// AcquireKey borrows a connection from the shard owning key; no fallback to another shard.
func (g *Group[T]) AcquireKey(key uint64, timeout time.Duration) (*Lease[T], error) {
	if g == nil {
		return nil, errorFor(ErrClosed.Code, "nil group")
	}
	var lease, handle [1]int64
	var member [1]int
	rc := g.nat.AcquireKey(int64(key), millis(timeout), lease[:], handle[:], member[:])
	return g.adopt(rc, lease[0], handle[0], member[0])
}

func (g *Group[T]) fail(rc int, detail string) error {
	if rc == int(native.EINVAL) {
		detail = g.nat.Error()
	}
	runtime.KeepAlive(g)
	return errorFor(rc, detail)
}

func (g *Group[T]) adopt(rc int, lease, handle int64, member int) (*Lease[T], error) {
	if rc != int(native.OK) {
		return nil, g.fail(rc, "")
	}
	// Add appends under mu after the native add, and holds mu throughout: the index is here.
	g.mu.Lock()
	p := g.members[member]
	g.mu.Unlock()
	runtime.KeepAlive(g)
	return p.leaseFor(lease, handle)
}

// StatsJSON is the group stats document (members with roles, states and stats; totals;
// counters). ErrClosed once closed.
func (g *Group[T]) StatsJSON() (string, error) {
	if g == nil {
		return "", errorFor(ErrClosed.Code, "nil group")
	}
	s := g.nat.StatsJson()
	runtime.KeepAlive(g)
	if s == "" {
		return "", errorFor(ErrClosed.Code, "no stats for a closed group")
	}
	return s, nil
}

// Close frees the group; its pools stay open. Idempotent.
func (g *Group[T]) Close() error {
	if g == nil {
		return nil
	}
	g.nat.Close()
	runtime.KeepAlive(g)
	return nil
}
