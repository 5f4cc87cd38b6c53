// SPDX-License-Identifier: Apache-2.0

package connpool

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAcquireContextServesAtOnceAndAfterARelease(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 1, "min_idle": 1})
	defer p.Close()
	if err := p.WaitReady(long); err != nil {
		t.Fatal(err)
	}
	l, err := p.AcquireContext(context.Background())
	if err != nil {
		t.Fatalf("AcquireContext on an idle pool: %v", err)
	}
	got := make(chan *Lease[*fakeConn], 1)
	go func() {
		l2, err := p.AcquireContext(context.Background())
		if err != nil {
			t.Errorf("waiting AcquireContext: %v", err)
		}
		got <- l2
	}()
	waitUntil(t, long, "one waiter", func() bool { return stats(t, p).Waiters == 1 })
	if l.Conn() == nil {
		t.Fatal("nil connection")
	}
	l.Release()
	l2 := <-got
	if l2 == nil || l2.Conn() != l.Conn() {
		t.Fatal("the waiter did not get the released connection")
	}
	l2.Release()
	if s := stats(t, p); s.Connections.InUse != 0 || s.Waiters != 0 {
		t.Fatalf("in_use %d waiters %d after both released", s.Connections.InUse, s.Waiters)
	}
}

func TestAcquireContextCanceledMatchesCtxErrAndErrCanceled(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 1, "min_idle": 1})
	defer p.Close()
	held, err := p.Acquire(long)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := p.AcquireContext(ctx)
		errc <- err
	}()
	waitUntil(t, long, "one waiter", func() bool { return stats(t, p).Waiters == 1 })
	cancel()
	err = <-errc
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCanceled) {
		t.Fatalf("canceled AcquireContext: %v; want context.Canceled and ErrCanceled", err)
	}
	if !strings.Contains(err.Error(), "pool 'go-test'") {
		t.Fatalf("error %q does not carry the pool's explanation", err)
	}
	// Already done before the call: refused at once, with the same matches.
	if _, err := p.AcquireContext(ctx); !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCanceled) {
		t.Fatalf("AcquireContext with a done context: %v", err)
	}
	if s := stats(t, p); s.Counters.Canceled != 1 || s.Waiters != 0 {
		t.Fatalf("canceled %d waiters %d", s.Counters.Canceled, s.Waiters)
	}
}

func TestAcquireContextDeadlineIsTheTimeout(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 1, "min_idle": 1, "acquire_timeout_ms": 60000})
	defer p.Close()
	held, err := p.Acquire(long)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = p.AcquireContext(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AcquireContext past its deadline: %v; want context.DeadlineExceeded", err)
	}
	if !errors.Is(err, ErrTimeout) && !errors.Is(err, ErrCanceled) {
		t.Fatalf("AcquireContext past its deadline: %v; want ErrTimeout or ErrCanceled", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Fatalf("waited %v: the deadline was not the timeout", waited)
	}
}

// A cancel racing a hand-off: every round ends with the connection or a cancel error, and the
// pool's books balance with nothing leased afterwards.
func TestAcquireContextCancelRaceLosesNothing(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 1, "min_idle": 1})
	defer p.Close()
	for i := 0; i < 300; i++ {
		held, err := p.Acquire(long)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		res := make(chan error, 1)
		go func() {
			l, err := p.AcquireContext(ctx)
			if err == nil {
				l.Release()
			}
			res <- err
		}()
		waitUntil(t, long, "one waiter", func() bool { return stats(t, p).Waiters == 1 })
		go cancel()
		held.Release()
		if err := <-res; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: %v", i, err)
		}
		cancel()
	}
	s := stats(t, p)
	if s.Connections.InUse != 0 || s.Connections.Total != 1 {
		t.Fatalf("in_use %d total %d after the races", s.Connections.InUse, s.Connections.Total)
	}
	if s.Counters.Created != s.Counters.Destroyed+uint64(s.Connections.Total) {
		t.Fatalf("books: created %d destroyed %d total %d", s.Counters.Created, s.Counters.Destroyed, s.Connections.Total)
	}
}

// 100,000 goroutines wait on a pool of 10 without an OS thread each (Go's default limit is
// 10,000 threads: a binding that parked a thread per waiter would crash here), then all are
// served.
func TestHundredThousandGoroutinesWaitOnTenConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const waiters = 100_000
	f := &fakeFactory{}
	p := newPool(t, f, Config{"max_size": 10, "min_idle": 10, "max_waiters": 0})
	defer p.Close()
	if err := p.WaitReady(long); err != nil {
		t.Fatal(err)
	}
	var held []*Lease[*fakeConn]
	for i := 0; i < 10; i++ {
		l, err := p.Acquire(long)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	for i := 0; i < waiters; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := p.AcquireContext(ctx)
			if err != nil {
				mu.Lock()
				failures = append(failures, err)
				mu.Unlock()
				return
			}
			l.Release()
		}()
	}
	waitUntil(t, 2*time.Minute, "100,000 waiters", func() bool { return stats(t, p).Waiters == waiters })
	threads := threadCount()
	for _, l := range held {
		l.Release()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d acquires failed, the first: %v", len(failures), waiters, failures[0])
	}
	s := stats(t, p)
	if s.Counters.Acquired < waiters+10 || s.Waiters != 0 || s.Connections.InUse != 0 {
		t.Fatalf("acquired %d waiters %d in_use %d", s.Counters.Acquired, s.Waiters, s.Connections.InUse)
	}
	t.Logf("%d goroutines waited on %d OS threads", waiters, threads)
	if threads > 1000 {
		t.Fatalf("%d OS threads while %d goroutines waited: waiters hold threads", threads, waiters)
	}
}

// threadCount is the process's OS thread count (Linux), from the runtime's own profile.
func threadCount() int {
	n, _ := runtime.ThreadCreateProfile(nil)
	return n
}
