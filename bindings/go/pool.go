// SPDX-License-Identifier: Apache-2.0

// Package connpool is the Go binding of libconnpool, a connection pool with a stable C ABI.
//
//	pool, err := connpool.New[*Conn](connpool.Config{"max_size": 10, "min_idle": 2}, myFactory{})
//	if err != nil { ... }
//	defer pool.Close()
//	lease, err := pool.Acquire(2 * time.Second)
//	if errors.Is(err, connpool.ErrUnavailable) { /* answer 503 */ }
//	defer lease.Release()
//	lease.Conn().Query(...)
//
// Nothing in this package panics: failures are *Error values matching the sentinels
// (ErrTimeout, ErrUnavailable, ...) with errors.Is, and panics in your Factory are recovered.
package connpool

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/libconnpool/connpool-go/internal/native"
)

// Config maps configuration keys (docs/CONFIGURATION.md) to values: strings, bools,
// integers, floats, or time.Duration (given to the pool in milliseconds).
type Config map[string]any

// Resize changes min_idle and max_size at run time (docs/SIZING.md). Growing takes effect at
// once (waiters get new connections); shrinking closes idle connections now and leased ones as
// they come back, never taking a lease away. Errors: ErrInvalid for a size out of range
// (min_idle 0..100000, max_size 1..100000, min_idle <= max_size), ErrClosed when draining or closed.
func (p *Pool[T]) Resize(minIdle, maxSize int) error {
	if p == nil {
		return errorFor(ErrClosed.Code, "nil pool")
	}
	rc := p.nat.Resize(minIdle, maxSize)
	runtime.KeepAlive(p)
	return errorFor(rc, fmt.Sprintf("resize(min_idle=%d, max_size=%d); allowed: min_idle 0..100000, max_size 1..100000, min_idle <= max_size", minIdle, maxSize))
}

// State is the pool's health state. The values are CONNPOOL_STATE_* (pinned in connpool.h;
// a test checks them against the native enum).
type State int

const (
	Starting    State = 0
	Ready       State = 1
	Degraded    State = 2
	Unavailable State = 3
	Draining    State = 4
	Closed      State = 5
)

func (s State) String() string { return native.StateName(int(s)) }

// Pool is a connection pool whose connections your Factory makes. It is safe for
// concurrent use. Close drains it: waiting acquires fail with ErrClosed, idle connections
// are destroyed, background threads stop; leases still out stay valid and their
// connections are destroyed when released. A Pool that becomes unreachable without Close
// is closed by a finalizer; an open pool never keeps the process from exiting.
// Do not call Close from inside a Factory method.
type Pool[T any] struct {
	nat     native.NativePool
	cptr    uintptr // nat's C++ object, for the fast path (native.AcquireHandle, ReleaseHandle)
	adapter *adapter[T]
}

// New opens a pool. It never fails because the backend is down (the pool starts in
// Starting and connects in the background); it fails with ErrInvalid for a bad config.
func New[T any](cfg Config, f Factory[T]) (*Pool[T], error) {
	if f == nil {
		return nil, errorFor(ErrInvalid.Code, "factory is nil")
	}
	nc := native.NewNativeConfig()
	defer native.DeleteNativeConfig(nc)
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic order, so errors are reproducible
	for _, k := range keys {
		if rc := nc.Set(k, text(cfg[k])); rc != int(native.OK) {
			return nil, errorFor(rc, nc.Error())
		}
	}
	return open(nc, f)
}

// NewFromJSON opens a pool configured by a JSON object ({"max_size": 10, ...}).
func NewFromJSON[T any](configJSON string, f Factory[T]) (*Pool[T], error) {
	if f == nil {
		return nil, errorFor(ErrInvalid.Code, "factory is nil")
	}
	nc := native.NewNativeConfig()
	defer native.DeleteNativeConfig(nc)
	if rc := nc.SetJson(configJSON); rc != int(native.OK) {
		return nil, errorFor(rc, nc.Error())
	}
	return open(nc, f)
}

func open[T any](nc native.NativeConfig, f Factory[T]) (*Pool[T], error) {
	a := newAdapter(f)
	dir := native.NewDirectorFactory(a, a.validate != nil, a.reset != nil)
	// The native pool owns the director from here on, on failure too.
	nat := native.NewNativePool(nc, dir)
	if rc := nat.Status(); rc != int(native.OK) {
		err := errorFor(rc, nat.Error())
		native.DeleteNativePool(nat)
		return nil, err
	}
	p := &Pool[T]{nat: nat, cptr: nat.Swigcptr(), adapter: a}
	runtime.SetFinalizer(p, func(p *Pool[T]) {
		// Unreachable, so no Lease of it is reachable either: free the native object.
		native.DeleteNativePool(p.nat)
	})
	return p, nil
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case time.Duration:
		return strconv.FormatInt(x.Milliseconds(), 10)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

func millis(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	ms := d.Milliseconds()
	if ms == 0 && d > 0 {
		return 1 // a sub-millisecond wait still waits
	}
	return ms
}

// Acquire borrows a connection, waiting up to timeout (0: do not wait; negative: the
// configured acquire_timeout_ms). Errors: ErrTimeout, ErrUnavailable, ErrClosed,
// ErrOverload, ErrFactory.
func (p *Pool[T]) Acquire(timeout time.Duration) (*Lease[T], error) {
	return p.AcquirePriority(timeout, 0)
}

// AcquirePriority is Acquire where higher priority waiters are served first.
func (p *Pool[T]) AcquirePriority(timeout time.Duration, priority int) (*Lease[T], error) {
	if p == nil {
		return nil, errorFor(ErrClosed.Code, "nil pool")
	}
	// One number back: the connection's handle (its lease stays in the native facade until
	// releaseHandle), or minus the status, with a spilled handle above it.
	r, spilled := native.AcquireHandle(p.cptr, millis(timeout), priority)
	runtime.KeepAlive(p) // the finalizer must not free the native pool during the call
	if r <= 0 {
		v := -r
		if rc := int(v & 0xff); rc != native.NativePoolKSpilled {
			return nil, p.acquireError(rc, nil)
		}
		return p.leaseFor(spilled, v>>8)
	}
	conn, ok := p.adapter.conn(r)
	if !ok {
		p.releaseHandle(r, true)
		return nil, errorFor(ErrInternal.Code, "leased connection has no Go value")
	}
	return &Lease[T]{pool: p, handle: r, conn: conn}, nil
}

// AcquireContext borrows a connection, waiting until one is free, ctx is done, or the
// timeout: ctx's deadline if it has one, else the configured acquire_timeout_ms. A waiting
// AcquireContext parks its goroutine, not an OS thread, so any number may wait (the pool
// calls back when it has decided). When ctx is done first the error matches both ctx.Err()
// (context.Canceled or context.DeadlineExceeded) and ErrCanceled with errors.Is; a connection
// handed over in the same instant goes back to the pool. Other errors as Acquire.
func (p *Pool[T]) AcquireContext(ctx context.Context) (*Lease[T], error) {
	return p.AcquirePriorityContext(ctx, 0)
}

// AcquirePriorityContext is AcquireContext where higher priority waiters are served first.
func (p *Pool[T]) AcquirePriorityContext(ctx context.Context, priority int) (*Lease[T], error) {
	if p == nil {
		return nil, errorFor(ErrClosed.Code, "nil pool")
	}
	if err := ctx.Err(); err != nil {
		return nil, canceledError(err, "context done before the acquire")
	}
	timeout := int64(-1)
	d, hasDeadline := ctx.Deadline()
	if hasDeadline {
		if timeout = millis(time.Until(d)); timeout <= 0 {
			timeout = 0
		}
	}
	var token native.CancelToken
	if ctx.Done() != nil {
		if token = native.NewCancelToken(); token == 0 {
			return nil, errorFor(ErrNoMemory.Code, "cancel token")
		}
	}
	done := make(chan native.AsyncResult, 1)
	rc, lease, handle := native.AcquireAsync(p.nat, timeout, priority, token, done)
	if rc != int(native.PENDING) {
		runtime.KeepAlive(p)
		if token != 0 {
			token.Free()
		}
		if rc != int(native.OK) {
			return nil, p.acquireError(rc, ctx.Err())
		}
		return p.leaseFor(lease, handle)
	}
	var r native.AsyncResult
	select {
	case r = <-done:
	case <-ctx.Done():
		token.Trigger()
		r = <-done // exactly once: the connection, or ECANCELED
		if r.Status == int(native.OK) {
			p.release(r.Lease, false) // the hand-off won the race, but nobody wants it now
			r = native.AsyncResult{Status: int(native.ECANCELED)}
		}
	}
	runtime.KeepAlive(p) // the pool stays reachable while its callback may still come
	if token != 0 {
		token.Free() // the callback has run: the token is no longer in use
	}
	if r.Status != int(native.OK) {
		ctxErr := ctx.Err()
		if ctxErr == nil && hasDeadline && r.Status == int(native.ETIMEOUT) {
			// The pool's timeout was the context's deadline and fired a moment before it.
			ctxErr = context.DeadlineExceeded
		}
		return nil, p.acquireError(r.Status, ctxErr)
	}
	return p.leaseFor(r.Lease, r.Handle)
}

func (p *Pool[T]) leaseFor(lease, handle int64) (*Lease[T], error) {
	conn, ok := p.adapter.conn(handle)
	if !ok {
		p.release(lease, true)
		return nil, errorFor(ErrInternal.Code, "leased connection has no Go value")
	}
	l := &Lease[T]{pool: p, conn: conn}
	l.id.Store(lease)
	return l, nil
}

// acquireError is the error of a failed acquire, with the pool's explanation (state, counts,
// last create error) as its detail, as HikariCP's timeout message has. ctxErr, if set, is
// the context's error, which a cancellation then also matches.
func (p *Pool[T]) acquireError(rc int, ctxErr error) error {
	if rc == int(native.ECANCELED) && ctxErr != nil {
		return canceledError(ctxErr, p.nat.Explain(rc))
	}
	err := errorFor(rc, p.nat.Explain(rc))
	if e, ok := err.(*Error); ok && ctxErr != nil {
		e.Cause = ctxErr // a deadline that ended the wait: errors.Is(err, context.DeadlineExceeded)
	}
	return err
}

func (p *Pool[T]) releaseHandle(handle int64, broken bool) error {
	rc := native.ReleaseHandle(p.cptr, handle, broken)
	runtime.KeepAlive(p)
	if rc == int(native.OK) {
		return nil
	}
	return errorFor(rc, "release of the lease of connection handle "+strconv.FormatInt(handle, 10))
}

func (p *Pool[T]) release(lease int64, broken bool) error {
	rc := p.nat.Release(lease, broken)
	runtime.KeepAlive(p)
	if rc == int(native.OK) {
		return nil // no detail string built on the hot path
	}
	return errorFor(rc, "release of lease "+strconv.FormatInt(lease, 10))
}

// WaitReady waits until the pool is ready or degraded.
func (p *Pool[T]) WaitReady(timeout time.Duration) error {
	if p == nil {
		return errorFor(ErrClosed.Code, "nil pool")
	}
	rc := p.nat.WaitReady(millis(timeout))
	runtime.KeepAlive(p)
	return errorFor(rc, "state "+p.State().String())
}

// Drain stops new acquires, destroys idle connections and waits up to deadline for leases
// to come back. It reports whether none remain (the pool is then closed).
func (p *Pool[T]) Drain(deadline time.Duration) (bool, error) {
	if p == nil {
		return false, errorFor(ErrClosed.Code, "nil pool")
	}
	rc := p.nat.Drain(millis(deadline))
	runtime.KeepAlive(p)
	switch rc {
	case int(native.OK):
		return true, nil
	case int(native.ETIMEOUT):
		return false, nil
	}
	return false, errorFor(rc, "drain")
}

// State is the pool's health state.
func (p *Pool[T]) State() State {
	if p == nil {
		return Closed
	}
	s := State(p.nat.State())
	runtime.KeepAlive(p)
	return s
}

// HTTPStatus is 200 when ready or degraded, else 503: what a readiness probe should answer.
func (p *Pool[T]) HTTPStatus() int {
	if p == nil {
		return 503
	}
	s := p.nat.HttpStatus()
	runtime.KeepAlive(p)
	return s
}

// StatsJSON is the stats document (docs/STATS.md). It never touches the backend.
func (p *Pool[T]) StatsJSON() (string, error) {
	if p == nil {
		return "", errorFor(ErrClosed.Code, "nil pool")
	}
	s := p.nat.StatsJson()
	runtime.KeepAlive(p)
	if s == "" {
		return "", errorFor(ErrClosed.Code, "no stats for a closed pool")
	}
	return s, nil
}

// Stats is the stats document decoded with encoding/json.
func (p *Pool[T]) Stats() (*Stats, error) {
	js, err := p.StatsJSON()
	if err != nil {
		return nil, err
	}
	var s Stats
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		return nil, errorFor(ErrInternal.Code, "stats JSON: "+err.Error())
	}
	return &s, nil
}

// MetricsText is the same figures in Prometheus text format.
func (p *Pool[T]) MetricsText() (string, error) {
	if p == nil {
		return "", errorFor(ErrClosed.Code, "nil pool")
	}
	s := p.nat.MetricsText()
	runtime.KeepAlive(p)
	if s == "" {
		return "", errorFor(ErrClosed.Code, "no metrics for a closed pool")
	}
	return s, nil
}

// Close closes the pool (see Pool). It is idempotent and always returns nil.
func (p *Pool[T]) Close() error {
	if p == nil {
		return nil
	}
	p.nat.Close()
	runtime.KeepAlive(p)
	return nil
}

// Lease is one borrowed connection. Release it (usually with defer) or Discard it; only the
// first of those counts, later calls return nil. A Lease is for one goroutine at a time,
// like the connection it holds.
type Lease[T any] struct {
	pool *Pool[T]
	// The native lease. On the fast path the native facade holds it by handle (> 0) and
	// this is 0 until ID asks for it.
	id     atomic.Int64
	handle int64
	conn   T
	done   atomic.Bool
}

// Conn is your connection, as your Factory's Create returned it.
func (l *Lease[T]) Conn() T {
	if l == nil {
		var zero T
		return zero
	}
	return l.conn
}

// ID is the native lease value (matches "lease" in the stats' leaks list); ask while the
// lease is out (afterwards it is the value asked for then, or 0).
func (l *Lease[T]) ID() uint64 {
	if l == nil {
		return 0
	}
	if l.id.Load() == 0 && l.handle != 0 && !l.done.Load() {
		l.id.Store(l.pool.nat.LeaseOfHandle(l.handle))
		runtime.KeepAlive(l.pool)
	}
	return uint64(l.id.Load())
}

// Release returns the connection to the pool (reset first when configured).
func (l *Lease[T]) Release() error {
	if l == nil || !l.done.CompareAndSwap(false, true) {
		return nil
	}
	return l.giveBack(false)
}

// Discard returns the connection as broken: the pool destroys it.
func (l *Lease[T]) Discard() error {
	if l == nil || !l.done.CompareAndSwap(false, true) {
		return nil
	}
	return l.giveBack(true)
}

func (l *Lease[T]) giveBack(broken bool) error {
	if l.handle != 0 {
		return l.pool.releaseHandle(l.handle, broken)
	}
	return l.pool.release(l.id.Load(), broken)
}

// Stats mirrors the stats document (docs/STATS.md, docs/stats.schema.json): every field of the
// schema, nested objects as nested structs (TestStatsStructCoversTheSchema and
// TestStatsStructMatchesTheJSON check both directions). Fields the library adds later are
// ignored by encoding/json until they are added here; StatsJSON has the raw document.
type Stats struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	State        string `json:"state"`
	HTTPStatus   int    `json:"http_status"`
	UptimeMS     int64  `json:"uptime_ms"`
	StateSinceMS int64  `json:"state_since_ms"`
	Connections  struct {
		Total    int64 `json:"total"`
		Idle     int64 `json:"idle"`
		InUse    int64 `json:"in_use"`
		Creating int64 `json:"creating"`
		MaxSize  int64 `json:"max_size"`
		MinIdle  int64 `json:"min_idle"`
		// Connections with a lease out; InUse counts leases (several per connection when
		// max_leases_per_conn > 1).
		Busy             int64 `json:"busy"`
		MaxLeasesPerConn int64 `json:"max_leases_per_conn"`
	} `json:"connections"`
	Waiters  int64 `json:"waiters"`
	Counters struct {
		Acquired             uint64 `json:"acquired"`
		Timeouts             uint64 `json:"timeouts"`
		Unavailable          uint64 `json:"unavailable"`
		Overload             uint64 `json:"overload"`
		ClosedRejected       uint64 `json:"closed_rejected"`
		Canceled             uint64 `json:"canceled"` // acquires ended by a cancel (a done context)
		Created              uint64 `json:"created"`
		CreateFailures       uint64 `json:"create_failures"`
		Destroyed            uint64 `json:"destroyed"`
		ValidationFailures   uint64 `json:"validation_failures"`
		ResetFailures        uint64 `json:"reset_failures"`
		ClosedIdle           uint64 `json:"closed_idle"`
		ClosedLifetime       uint64 `json:"closed_lifetime"`
		ClosedBroken         uint64 `json:"closed_broken"`
		ClosedMaxUses        uint64 `json:"closed_max_uses"`
		StaleReleases        uint64 `json:"stale_releases"`
		ClosedShrink         uint64 `json:"closed_shrink"`
		CreatesAbandoned     uint64 `json:"creates_abandoned"`
		ValidationsAbandoned uint64 `json:"validations_abandoned"`
		ResetsAbandoned      uint64 `json:"resets_abandoned"`
		Stalls               uint64 `json:"stalls"`
	} `json:"counters"`
	AcquireWaitUS Histogram `json:"acquire_wait_us"`
	LeaseHoldUS   Histogram `json:"lease_hold_us"`
	CreateUS      Histogram `json:"create_us"`
	// A stalled backend and callbacks abandoned past their bound (docs/HEALTH.md, Failure modes).
	Hangs struct {
		Stalled        bool   `json:"stalled"`
		StalledMS      int64  `json:"stalled_ms"`
		StallAfterMS   int64  `json:"stall_after_ms"`
		AbandonedCalls uint64 `json:"abandoned_calls"`
	} `json:"hangs"`
	Retry struct {
		ConsecutiveFailures uint64 `json:"consecutive_failures"`
		NextAttemptInMS     *int64 `json:"next_attempt_in_ms"`
		OutageMS            int64  `json:"outage_ms"`
		CreateLimit         int64  `json:"create_limit"` // creates allowed in flight (slow start after an outage)
	} `json:"retry"`
	// Why the pool is degraded or unavailable: "outage", "capacity" (creates refused while the
	// connections work), "fatal", or "stalled" (no lease moves); nil otherwise (docs/HEALTH.md).
	HealthReason *string `json:"health_reason"`
	LastError    *struct {
		Message  string `json:"message"`
		Code     int    `json:"code"`
		CodeName string `json:"code_name"`
		AgeMS    int64  `json:"age_ms"`
	} `json:"last_error"`
	// Adaptive sizing (docs/SIZING.md); the decisions are nil until the first one.
	Adaptive struct {
		Enabled      bool              `json:"enabled"`
		TargetWaitMS int64             `json:"target_wait_ms"`
		Floor        int64             `json:"floor"`
		LastDecision *AdaptiveDecision `json:"last_decision"`
		LastChange   *AdaptiveDecision `json:"last_change"`
	} `json:"adaptive"`
	LeakThresholdMS int64 `json:"leak_threshold_ms"`
	Leaks           []struct {
		Lease    uint64 `json:"lease"`
		HeldMS   int64  `json:"held_ms"`
		Thread   string `json:"thread"`
		Priority int    `json:"priority"`
	} `json:"leaks"`
}

// Histogram is one latency histogram of the stats (microseconds): how many, their sum, and
// percentiles.
type Histogram struct {
	Count uint64 `json:"count"`
	Sum   uint64 `json:"sum"`
	P50   int64  `json:"p50"`
	P90   int64  `json:"p90"`
	P99   int64  `json:"p99"`
	P999  int64  `json:"p999"`
	Max   int64  `json:"max"`
}

// AdaptiveDecision is one adaptive sizing decision: "hold", "raise" or "lower" the warm
// floor From -> To, and why.
type AdaptiveDecision struct {
	Action string `json:"action"`
	From   int64  `json:"from"`
	To     int64  `json:"to"`
	Reason string `json:"reason"`
	AgeMS  int64  `json:"age_ms"`
}
