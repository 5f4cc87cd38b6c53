// SPDX-License-Identifier: Apache-2.0
package connpool

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libconnpool/connpool-go/internal/native"
)

const long = 10 * time.Second

// fakeConn and fakeFactory: a factory written in Go for the tests; counts everything and can
// be told to fail or panic.
type fakeConn struct {
	id   int64
	open atomic.Bool
}

type fakeFactory struct {
	created, destroyed, validated atomic.Int64
	openConns                     sync.Map
	panicCreates, failCreates     atomic.Int64
	panicValidates                atomic.Int64
	fatal                         atomic.Bool
	goroutineCalls, nativeCalls   atomic.Int64
}

func takeOne(n *atomic.Int64) bool {
	for {
		v := n.Load()
		if v <= 0 {
			return false
		}
		if n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

func (f *fakeFactory) Create() (*fakeConn, error) {
	if f.fatal.Load() {
		return nil, Fatal(errors.New("authentication failed for user app"))
	}
	if takeOne(&f.panicCreates) {
		panic("boom from create")
	}
	if takeOne(&f.failCreates) {
		return nil, errors.New("backend down")
	}
	c := &fakeConn{id: f.created.Add(1)}
	c.open.Store(true)
	f.openConns.Store(c, true)
	return c, nil
}

func (f *fakeFactory) Destroy(c *fakeConn) error {
	if !c.open.CompareAndSwap(true, false) {
		panic("destroyed twice")
	}
	f.openConns.Delete(c)
	f.destroyed.Add(1)
	return nil
}

func (f *fakeFactory) Validate(c *fakeConn) error {
	f.validated.Add(1)
	if takeOne(&f.panicValidates) {
		panic("boom from validate")
	}
	if !c.open.Load() {
		return errors.New("closed")
	}
	return nil
}

func (f *fakeFactory) openCount() int {
	n := 0
	f.openConns.Range(func(_, _ any) bool { n++; return true })
	return n
}

// waitUntil polls a condition until a deadline (never a fixed sleep used as synchronisation).
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newPool(t *testing.T, f *fakeFactory, cfg Config) *Pool[*fakeConn] {
	t.Helper()
	full := Config{"name": "go-test", "retry_initial_ms": 10, "retry_max_ms": 50}
	for k, v := range cfg {
		full[k] = v
	}
	p, err := New[*fakeConn](full, f)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func stats(t *testing.T, p *Pool[*fakeConn]) *Stats {
	t.Helper()
	s, err := p.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return s
}

func TestAcquireReleaseWithDefer(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 4})
	var first *fakeConn
	func() {
		lease, err := p.Acquire(long)
		if err != nil {
			t.Fatal(err)
		}
		defer lease.Release()
		first = lease.Conn()
		if !first.open.Load() {
			t.Fatal("leased a closed connection")
		}
		if s := stats(t, p); s.Connections.InUse != 1 {
			t.Fatalf("in_use = %d", s.Connections.InUse)
		}
	}()
	if s := stats(t, p); s.Connections.InUse != 0 {
		t.Fatalf("in_use after release = %d", s.Connections.InUse)
	}
	lease, err := p.Acquire(long)
	if err != nil {
		t.Fatal(err)
	}
	if lease.Conn() != first {
		t.Fatal("the released connection was not reused")
	}
	if err := lease.Release(); err != nil {
		t.Fatal(err)
	}
	if err := lease.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if p.State() != Ready || p.HTTPStatus() != 200 {
		t.Fatalf("state %v http %d", p.State(), p.HTTPStatus())
	}
	if s := stats(t, p); s.Counters.Acquired != 2 {
		t.Fatalf("acquired = %d", s.Counters.Acquired)
	}
	p.Close()
	if f.created.Load() != f.destroyed.Load() || f.openCount() != 0 {
		t.Fatalf("created %d destroyed %d open %d", f.created.Load(), f.destroyed.Load(), f.openCount())
	}
}

func TestDiscardDestroys(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 2})
	defer p.Close()
	lease, err := p.Acquire(long)
	if err != nil {
		t.Fatal(err)
	}
	c := lease.Conn()
	if err := lease.Discard(); err != nil {
		t.Fatal(err)
	}
	if err := lease.Release(); err != nil {
		t.Fatal(err)
	}
	if c.open.Load() {
		t.Fatal("discarded connection still open")
	}
	s := stats(t, p)
	if s.Counters.ClosedBroken != 1 || s.Counters.StaleReleases != 0 {
		t.Fatalf("closed_broken %d stale %d", s.Counters.ClosedBroken, s.Counters.StaleReleases)
	}
}

func TestTimeoutError(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 1})
	defer p.Close()
	held, err := p.Acquire(long)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	_, err = p.Acquire(30 * time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != 2 || pe.HTTPStatus() != 503 || pe.Name != "CONNPOOL_ETIMEOUT" {
		t.Fatalf("bad *Error %#v", pe)
	}
	if errors.Is(err, ErrUnavailable) {
		t.Fatal("a timeout is not ErrUnavailable")
	}
	if s := stats(t, p); s.Counters.Timeouts != 1 {
		t.Fatalf("timeouts = %d", s.Counters.Timeouts)
	}
}

func TestFatalCreateMakesPoolUnavailable(t *testing.T) {
	f := &fakeFactory{}
	f.fatal.Store(true)
	p := newPool(t, f, Config{"max_size": 2})
	defer p.Close()
	_, err := p.Acquire(long)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("want ErrUnavailable, got %v", err)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != 3 || pe.HTTPStatus() != 503 {
		t.Fatalf("bad *Error %#v", pe)
	}
	if p.State() != Unavailable || p.HTTPStatus() != 503 {
		t.Fatalf("state %v http %d", p.State(), p.HTTPStatus())
	}
	s := stats(t, p)
	if s.State != "unavailable" || s.HTTPStatus != 503 || s.LastError == nil ||
		!strings.Contains(s.LastError.Message, "authentication failed") || s.Counters.CreateFailures < 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPanickingCreateIsAFailedCreate(t *testing.T) {
	f := &fakeFactory{}
	f.panicCreates.Store(2)
	f.failCreates.Store(1)
	p := newPool(t, f, Config{"max_size": 2})
	defer p.Close()
	lease, err := p.Acquire(long)
	if err != nil {
		t.Fatal(err)
	}
	lease.Release()
	s := stats(t, p)
	if s.Counters.CreateFailures != 3 || s.Counters.Created != 1 {
		t.Fatalf("create_failures %d created %d", s.Counters.CreateFailures, s.Counters.Created)
	}
	if s.LastError == nil {
		t.Fatal("no last_error")
	}
	// Which failure came last depends on timing; both kinds must have been recorded as text.
	if !strings.Contains(s.LastError.Message, "boom from create") && !strings.Contains(s.LastError.Message, "backend down") {
		t.Fatalf("last_error %q", s.LastError.Message)
	}
}

func TestNoWaitAcquireWithPanickingCreate(t *testing.T) {
	f := &fakeFactory{}
	f.panicCreates.Store(1 << 40)
	p := newPool(t, f, Config{"max_size": 2})
	defer p.Close()
	_, err := p.Acquire(0)
	// ErrFactory when this call ran the create; ErrTimeout if a connector was already creating.
	if !errors.Is(err, ErrFactory) && !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v", err)
	}
	if errors.Is(err, ErrFactory) && err.(*Error).HTTPStatus() != 502 {
		t.Fatal("EFACTORY is 502")
	}
	if f.created.Load() != 0 {
		t.Fatal("created")
	}
}

func TestPanickingValidateDestroysTheConnection(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 1, "validate_on_acquire": "always"})
	defer p.Close()
	l, err := p.Acquire(long)
	if err != nil {
		t.Fatal(err)
	}
	first := l.Conn()
	l.Release()
	f.panicValidates.Store(1)
	l, err = p.Acquire(long)
	if err != nil {
		t.Fatal(err)
	}
	if l.Conn() == first || first.open.Load() {
		t.Fatal("the connection whose Validate panicked was reused or not destroyed")
	}
	l.Release()
	if s := stats(t, p); s.Counters.ValidationFailures != 1 {
		t.Fatalf("validation_failures = %d", s.Counters.ValidationFailures)
	}
}

func TestBackgroundThreadsCallTheGoFactory(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 4, "min_idle": 2, "maintenance_interval_ms": 10, "validate_interval_ms": 10})
	// No acquire at all: the connector threads fill min_idle, the maintenance thread validates.
	waitUntil(t, long, "min_idle refill", func() bool { return stats(t, p).Connections.Idle == 2 })
	waitUntil(t, long, "keepalive validation", func() bool { return f.validated.Load() >= 2 })
	if f.created.Load() != 2 {
		t.Fatalf("created %d", f.created.Load())
	}
	if err := p.WaitReady(long); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if f.destroyed.Load() != 2 {
		t.Fatalf("destroyed %d", f.destroyed.Load())
	}
}

func TestEightGoroutinesHammerOnePool(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 4, "validate_on_acquire": "never"})
	const workers, iterations = 8, 3000
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := make(chan struct{})
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(seed int) {
			defer wg.Done()
			<-start
			for i := 0; i < iterations; i++ {
				lease, err := p.Acquire(long)
				if err != nil {
					errs <- err
					return
				}
				if !lease.Conn().open.Load() {
					errs <- errors.New("leased a destroyed connection")
					return
				}
				if (i+seed)%97 == 0 {
					err = lease.Discard()
				} else {
					err = lease.Release()
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	waitUntil(t, long, "creates to settle", func() bool { return stats(t, p).Connections.Creating == 0 })
	s := stats(t, p)
	if s.Counters.Acquired != workers*iterations {
		t.Fatalf("acquired %d", s.Counters.Acquired)
	}
	if s.Counters.Created != s.Counters.Destroyed+uint64(s.Connections.Total) {
		t.Fatalf("invariant: created %d != destroyed %d + live %d", s.Counters.Created, s.Counters.Destroyed, s.Connections.Total)
	}
	if s.Connections.Total > 4 || uint64(f.created.Load()) != s.Counters.Created {
		t.Fatalf("total %d, factory created %d, pool created %d", s.Connections.Total, f.created.Load(), s.Counters.Created)
	}
	done, err := p.Drain(long)
	if err != nil || !done {
		t.Fatalf("drain %v %v", done, err)
	}
	after := stats(t, p)
	if after.Counters.Created != after.Counters.Destroyed {
		t.Fatalf("after drain: created %d destroyed %d", after.Counters.Created, after.Counters.Destroyed)
	}
	p.Close()
	if f.created.Load() != f.destroyed.Load() || f.openCount() != 0 {
		t.Fatalf("factory: created %d destroyed %d open %d", f.created.Load(), f.destroyed.Load(), f.openCount())
	}
}

func TestStatsDecodeWithEncodingJSON(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"name": "orders", "max_size": 3, "min_idle": 1})
	defer p.Close()
	lease, err := p.Acquire(long)
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	s := stats(t, p)
	if s.Name != "orders" || s.State != "ready" || s.HTTPStatus != 200 || s.Connections.MaxSize != 3 ||
		s.Connections.MinIdle != 1 || s.Connections.InUse != 1 || s.Leaks == nil || s.Version == "" {
		t.Fatalf("stats %+v", s)
	}
	m, err := p.MetricsText()
	if err != nil || !strings.Contains(m, `pool="orders"`) {
		t.Fatalf("metrics %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	f := &fakeFactory{}
	_, err := New[*fakeConn](Config{"max_sizes": 3}, f)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "max_sizes") || err.(*Error).HTTPStatus() != 500 {
		t.Fatalf("got %v", err)
	}
	if _, err = New[*fakeConn](Config{"max_size": 0}, f); !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v", err)
	}
	if _, err = NewFromJSON[*fakeConn](`{"max_size": `, f); !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v", err)
	}
	if _, err = New[*fakeConn](nil, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v", err)
	}
	p, err := New[*fakeConn](Config{"max_size": 2, "acquire_timeout_ms": 20 * time.Millisecond,
		"reset_on_release": false, "retry_multiplier": 1.5}, f)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Creates run on connector threads, so the first two wait generously; the third, with the
	// pool full, must give up after the configured 20 ms.
	a, _ := p.Acquire(long)
	b, _ := p.Acquire(long)
	if a == nil || b == nil || a.Conn() == b.Conn() {
		t.Fatal("two leases")
	}
	if _, err := p.Acquire(-1); !errors.Is(err, ErrTimeout) {
		t.Fatalf("configured timeout: %v", err)
	}
	a.Release()
	b.Release()
	q, err := NewFromJSON[*fakeConn](`{"max_size": 1}`, f)
	if err != nil {
		t.Fatal(err)
	}
	q.Close()
}

func TestEveryStatusCodeHasItsSentinel(t *testing.T) {
	// The HTTP column of the status table, code by code (1 EINVAL ... 10 ECANCELED).
	http := []int{500, 503, 503, 503, 503, 500, 502, 500, 500, 500}
	for code := int(native.EINVAL); code <= int(native.ECANCELED); code++ {
		if got := errorFor(code, "").(*Error).HTTPStatus(); got != http[code-1] {
			t.Fatalf("code %d: HTTP %d, want %d", code, got, http[code-1])
		}
	}
	for code := int(native.EINVAL); code <= int(native.ECANCELED); code++ {
		err := errorFor(code, "detail")
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != code || pe.Name != native.StatusName(code) || !strings.HasSuffix(err.Error(), ": detail") {
			t.Fatalf("code %d: %v", code, err)
		}
		n := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("code %d matches %d sentinels", code, n)
		}
	}
	if errorFor(int(native.OK), "") != nil {
		t.Fatal("OK is no error")
	}
	if !errors.Is(errorFor(999, ""), ErrInternal) {
		t.Fatal("unknown code")
	}
	for _, c := range []struct {
		s State
		n native.Connpool_bindingState
	}{{Starting, native.STARTING}, {Ready, native.READY}, {Degraded, native.DEGRADED},
		{Unavailable, native.UNAVAILABLE}, {Draining, native.DRAINING}, {Closed, native.CLOSED}} {
		if int(c.s) != int(c.n) {
			t.Fatalf("state %v is %d natively", c.s, c.n)
		}
	}
}

func TestOverload(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 1, "max_waiters": 1})
	defer p.Close()
	held, err := p.Acquire(long)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		l, err := p.Acquire(long)
		l.Release()
		waited <- err
	}()
	waitUntil(t, long, "a waiter", func() bool { return stats(t, p).Waiters == 1 })
	_, err = p.Acquire(long)
	if !errors.Is(err, ErrOverload) || err.(*Error).Code != 5 || err.(*Error).HTTPStatus() != 503 {
		t.Fatalf("got %v", err)
	}
	held.Release() // hands the connection to the queued waiter
	if err := <-waited; err != nil {
		t.Fatalf("waiter got %v", err)
	}
	if s := stats(t, p); s.Counters.Overload != 1 {
		t.Fatalf("overload = %d", s.Counters.Overload)
	}
}

func TestCloseWakesWaitersAndLeasesOutliveIt(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 1})
	held, err := p.Acquire(long)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		l, err := p.Acquire(60 * time.Second)
		l.Release()
		waited <- err
	}()
	waitUntil(t, long, "a waiter", func() bool { return stats(t, p).Waiters == 1 })
	p.Close()
	if err := <-waited; !errors.Is(err, ErrClosed) {
		t.Fatalf("waiter got %v", err)
	}
	if _, err := p.Acquire(long); !errors.Is(err, ErrClosed) {
		t.Fatalf("acquire after close: %v", err)
	}
	if _, err := p.StatsJSON(); !errors.Is(err, ErrClosed) {
		t.Fatalf("stats after close: %v", err)
	}
	if p.State() != Closed {
		t.Fatalf("state %v", p.State())
	}
	p.Close()
	c := held.Conn()
	if !c.open.Load() {
		t.Fatal("a leased connection must survive Close")
	}
	if err := held.Release(); err != nil {
		t.Fatal(err)
	}
	if c.open.Load() || f.created.Load() != f.destroyed.Load() {
		t.Fatal("released after close: must be destroyed")
	}
	var nilPool *Pool[*fakeConn]
	if _, err := nilPool.Acquire(0); !errors.Is(err, ErrClosed) {
		t.Fatal("nil pool")
	}
	var nilLease *Lease[*fakeConn]
	if nilLease.Release() != nil || nilLease.Conn() != nil {
		t.Fatal("nil lease")
	}
}

func makeAndDrop(t *testing.T, f *fakeFactory, n int) {
	for i := 0; i < n; i++ {
		p := newPool(t, f, Config{"max_size": 2, "min_idle": 1, "maintenance_interval_ms": 10})
		l, err := p.Acquire(long)
		if err != nil {
			t.Fatal(err)
		}
		l.Release()
	}
}

func TestDroppedPoolsAreCollectedWithoutClose(t *testing.T) {
	before := released.Load()
	f := &fakeFactory{}
	const pools = 20
	makeAndDrop(t, f, pools)
	// Each dropped pool is closed by its finalizer: connections destroyed, the director
	// released by the native side after its last callback.
	waitUntil(t, 60*time.Second, fmt.Sprintf("%d dropped pools to be released", pools), func() bool {
		runtime.GC()
		return released.Load()-before >= pools
	})
	waitUntil(t, long, "all connections destroyed", func() bool { return f.created.Load() == f.destroyed.Load() })
	if f.openCount() != 0 {
		t.Fatal("open connections left")
	}
}

func TestResizeGrowsShrinksAndRefusesBadSizes(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 1})
	defer p.Close()
	held, err := p.Acquire(long)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Acquire(0); !errors.Is(err, ErrTimeout) {
		t.Fatalf("full pool: %v", err)
	}
	if err := p.Resize(0, 2); err != nil {
		t.Fatal(err)
	}
	second, err := p.Acquire(long)
	if err != nil {
		t.Fatalf("after growing: %v", err)
	}
	if s := stats(t, p); s.Connections.MaxSize != 2 || s.Connections.InUse != 2 {
		t.Fatalf("max_size %d in_use %d", s.Connections.MaxSize, s.Connections.InUse)
	}
	if err := p.Resize(0, 1); err != nil {
		t.Fatal(err)
	}
	held.Release()
	second.Release()
	s := stats(t, p)
	if s.Connections.Total != 1 || s.Counters.ClosedShrink != 1 || s.Connections.MaxSize != 1 {
		t.Fatalf("after shrinking: total %d closed_shrink %d", s.Connections.Total, s.Counters.ClosedShrink)
	}
	for _, bad := range [][2]int{{0, 0}, {-1, 2}, {3, 2}, {0, 100001}} {
		err := p.Resize(bad[0], bad[1])
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "max_size 1..100000") {
			t.Fatalf("Resize(%d, %d): %v", bad[0], bad[1], err)
		}
	}
	if _, err := p.Drain(0); err != nil {
		t.Fatal(err)
	}
	if err := p.Resize(0, 3); !errors.Is(err, ErrClosed) {
		t.Fatalf("resize of a drained pool: %v", err)
	}
}

func TestSharedLeasesAndAdaptiveStats(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 1, "max_leases_per_conn": 3, "adaptive_sizing": true, "adaptive_target_wait_ms": 5})
	defer p.Close()
	var leases []*Lease[*fakeConn]
	for i := 0; i < 3; i++ {
		l, err := p.Acquire(long)
		if err != nil {
			t.Fatal(err)
		}
		leases = append(leases, l)
	}
	if leases[0].Conn() != leases[2].Conn() {
		t.Fatal("the leases do not share the one connection")
	}
	s := stats(t, p)
	if s.Connections.InUse != 3 || s.Connections.Busy != 1 || s.Connections.MaxLeasesPerConn != 3 {
		t.Fatalf("in_use %d busy %d", s.Connections.InUse, s.Connections.Busy)
	}
	if !s.Adaptive.Enabled || s.Adaptive.TargetWaitMS != 5 {
		t.Fatalf("adaptive %+v", s.Adaptive)
	}
	// The first share is on the handle fast path, the others spill to the lease path: each
	// names its own native lease and every one comes back.
	ids := map[uint64]bool{}
	for _, l := range leases {
		ids[l.ID()] = true
	}
	if len(ids) != 3 || ids[0] {
		t.Fatalf("native leases %v, want three distinct non-zero", ids)
	}
	shared := leases[0].Conn()
	for _, l := range leases {
		if err := l.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if s := stats(t, p); s.Connections.InUse != 0 {
		t.Fatalf("in_use %d after every release", s.Connections.InUse)
	}
	again, err := p.Acquire(long)
	if err != nil || again.Conn() != shared {
		t.Fatalf("the connection does not serve again: %v", err)
	}
	_ = again.Release()
}
