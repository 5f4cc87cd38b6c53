// SPDX-License-Identifier: Apache-2.0

// Command go_peers runs the shared peer workload (../../../shared/bench, README "The workload")
// on three Go pools in one process, so they are compared by the same code on the same machine:
//
//	database_sql   database/sql's own connection pool over a no-op driver (standard library only)
//	puddle         github.com/jackc/puddle (v1, the Debian package; pgx's pool is built on it)
//	connpool_go    libconnpool through its Go binding (bindings/go)
//
// For each goroutine count T: a pool of N ready objects, T goroutines looping acquire -> (no
// work) -> release, WARMUP s of warm-up, then cycles counted for MEASURE s of wall time. One
// acquire in 64 is timed. Output: one line per (peer, T) in the harness's key=value format.
//
// Differences from the C++/Java drivers, on purpose:
//   - Latencies are exact (each goroutine keeps its timed samples, sorted at the end) instead
//     of a log-linear histogram; the percentiles mean the same thing.
//   - The "waits up to 10 s" of the workload is, for the two context-based pools, one shared
//     context whose deadline is 10 s after the measurement ends: a context.WithTimeout per
//     acquire would add a timer allocation to every cycle of those pools but not of ours.
//   - Warm-up and measurement run the same loop; a phase counter decides where cycles count.
package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/puddle"
	"github.com/libconnpool/connpool-go"
)

const acquireTimeout = 10 * time.Second

// peer is one pool under test: cycle does one acquire (timed when timed is set, returning its
// latency) + release and reports false for a failed acquire.
type peer interface {
	cycle(ctx context.Context, timed bool) (ns int64, ok bool)
	close()
}

// ---- database/sql over a no-op driver ----

type noopDriver struct{}
type noopConn struct{}

func (noopDriver) Open(string) (driver.Conn, error)  { return noopConn{}, nil }
func (noopConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("no-op driver") }
func (noopConn) Close() error                        { return nil }
func (noopConn) Begin() (driver.Tx, error)           { return nil, errors.New("no-op driver") }

func init() { sql.Register("connpool_bench_noop", noopDriver{}) }

type sqlPeer struct{ db *sql.DB }

func newSQLPeer(n int) (peer, error) {
	db, err := sql.Open("connpool_bench_noop", "")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	// Pre-fill: hold n connections at once, then give them back (they stay idle).
	conns := make([]*sql.Conn, n)
	for i := range conns {
		if conns[i], err = db.Conn(context.Background()); err != nil {
			return nil, err
		}
	}
	for _, c := range conns {
		c.Close()
	}
	return &sqlPeer{db: db}, nil
}

func (p *sqlPeer) cycle(ctx context.Context, timed bool) (int64, bool) {
	var t0 time.Time
	if timed {
		t0 = time.Now()
	}
	c, err := p.db.Conn(ctx)
	var ns int64
	if timed {
		ns = time.Since(t0).Nanoseconds()
	}
	if err != nil {
		return ns, false
	}
	c.Close() // returns the connection to the pool
	return ns, true
}

func (p *sqlPeer) close() { p.db.Close() }

// ---- puddle ----

type puddlePeer struct{ p *puddle.Pool }

func newPuddlePeer(n int) (peer, error) {
	p := puddle.NewPool(
		func(context.Context) (interface{}, error) { return new(int), nil },
		func(interface{}) {}, int32(n))
	for i := 0; i < n; i++ {
		if err := p.CreateResource(context.Background()); err != nil {
			return nil, err
		}
	}
	return &puddlePeer{p: p}, nil
}

func (p *puddlePeer) cycle(ctx context.Context, timed bool) (int64, bool) {
	var t0 time.Time
	if timed {
		t0 = time.Now()
	}
	r, err := p.p.Acquire(ctx)
	var ns int64
	if timed {
		ns = time.Since(t0).Nanoseconds()
	}
	if err != nil {
		return ns, false
	}
	r.Release()
	return ns, true
}

func (p *puddlePeer) close() { p.p.Close() }

// ---- libconnpool through the Go binding ----

type cpConn struct{}
type cpFactory struct{}

func (cpFactory) Create() (*cpConn, error) { return &cpConn{}, nil }
func (cpFactory) Destroy(*cpConn) error    { return nil }

type connpoolPeer struct{ p *connpool.Pool[*cpConn] }

func newConnpoolPeer(n int) (peer, error) {
	// The same settings as bench/peers/connpool.c: no validation, no reset, no leak detection.
	p, err := connpool.New[*cpConn](connpool.Config{
		"max_size": n, "min_idle": n, "validate_on_acquire": "never",
		"reset_on_release": false, "leak_threshold_ms": 0,
	}, cpFactory{})
	if err != nil {
		return nil, err
	}
	// Ready means the connector threads made min_idle connections.
	if err := p.WaitReady(acquireTimeout); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(acquireTimeout)
	for time.Now().Before(deadline) {
		st, err := p.Stats()
		if err == nil && st.Connections.Idle >= int64(n) {
			break
		}
		time.Sleep(time.Millisecond) // waiting for the pool to fill, not synchronising a test
	}
	return &connpoolPeer{p: p}, nil
}

func (p *connpoolPeer) cycle(_ context.Context, timed bool) (int64, bool) {
	var t0 time.Time
	if timed {
		t0 = time.Now()
	}
	l, err := p.p.Acquire(acquireTimeout)
	var ns int64
	if timed {
		ns = time.Since(t0).Nanoseconds()
	}
	if err != nil {
		return ns, false
	}
	l.Release()
	return ns, true
}

func (p *connpoolPeer) close() { p.p.Close() }

// ---- driver ----

type cpuSnap struct{ busy, self uint64 }

// snapshot reads what the harness's cpu_usage.h reads: busy ticks of all CPUs and this
// process's utime+stime.
func snapshot() cpuSnap {
	var s cpuSnap
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
		for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
			if i < len(f) {
				v, _ := strconv.ParseUint(f[i], 10, 64)
				s.busy += v
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		str := string(b)
		if i := strings.LastIndexByte(str, ')'); i >= 0 {
			f := strings.Fields(str[i+2:])
			if len(f) > 12 {
				u, _ := strconv.ParseUint(f[11], 10, 64)
				k, _ := strconv.ParseUint(f[12], 10, 64)
				s.self = u + k
			}
		}
	}
	return s
}

func otherCPUPct(a, b cpuSnap, wall float64) float64 {
	const hz = 100 // USER_HZ on Linux
	other := float64(b.busy-a.busy) - float64(b.self-a.self)
	pct := 100 * other / hz / (wall * float64(runtime.NumCPU()))
	if pct < 0 {
		return 0
	}
	return pct
}

type worker struct {
	cycles   [2]int64 // by phase: 0 warm-up, 1 measurement
	timeouts [2]int64
	samples  []int64 // measurement phase only
	_        [64]byte
}

func run(name string, p peer, threads, poolSize int, warmup, measure time.Duration) string {
	var phase atomic.Int32 // 0 warm-up, 1 measure, 2 stop
	ctx, cancel := context.WithTimeout(context.Background(), warmup+measure+acquireTimeout)
	defer cancel()
	ws := make([]worker, threads)
	var wg sync.WaitGroup
	for i := range ws {
		w := &ws[i]
		w.samples = make([]int64, 0, 1<<16)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := uint32(0); ; n++ {
				ph := phase.Load()
				if ph == 2 {
					return
				}
				timed := n&63 == 0
				ns, ok := p.cycle(ctx, timed)
				if ok {
					w.cycles[ph]++
				} else {
					w.timeouts[ph]++
				}
				if timed && ph == 1 {
					w.samples = append(w.samples, ns)
				}
			}
		}()
	}
	time.Sleep(warmup) // the workload's wall-clock phases, not test synchronisation
	a := snapshot()
	t0 := time.Now()
	phase.Store(1)
	time.Sleep(measure)
	phase.Store(2)
	wall := time.Since(t0).Seconds()
	b := snapshot()
	wg.Wait()
	var cycles, timeouts int64
	var all []int64
	for i := range ws {
		cycles += ws[i].cycles[1]
		timeouts += ws[i].timeouts[1]
		all = append(all, ws[i].samples...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(q float64) int64 {
		if len(all) == 0 {
			return 0
		}
		i := int(q * float64(len(all)))
		if i >= len(all) {
			i = len(all) - 1
		}
		return all[i]
	}
	return fmt.Sprintf("peer=%s threads=%d pool=%d ops_per_s=%.0f p50_ns=%d p99_ns=%d p999_ns=%d samples=%d timeouts=%d other_cpu_pct=%.1f",
		name, threads, poolSize, float64(cycles)/wall, pct(0.50), pct(0.99), pct(0.999), len(all), timeouts,
		otherCPUPct(a, b, wall))
}

func main() {
	threadsFlag := flag.String("threads", envOr("THREADS", "1,2,4,8,32,256"), "goroutine counts")
	poolSize := flag.Int("pool", atoi(envOr("POOL", "10")), "objects in each pool")
	warmup := flag.Float64("warmup", float64(atoi(envOr("WARMUP", "1"))), "seconds of warm-up per line")
	measure := flag.Float64("seconds", float64(atoi(envOr("MEASURE", "3"))), "seconds measured per line")
	peers := flag.String("peers", envOr("GO_PEERS", "database_sql puddle connpool_go"), "peers to run")
	flag.Parse()
	makers := map[string]func(int) (peer, error){
		"database_sql": newSQLPeer, "puddle": newPuddlePeer, "connpool_go": newConnpoolPeer,
	}
	fmt.Fprintf(os.Stderr, "# go_peers: %s, GOMAXPROCS=%d\n", runtime.Version(), runtime.GOMAXPROCS(0))
	for _, name := range strings.Fields(*peers) {
		mk, ok := makers[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown Go peer %q\n", name)
			os.Exit(2)
		}
		for _, t := range strings.Split(*threadsFlag, ",") {
			threads := atoi(strings.TrimSpace(t))
			p, err := mk(*poolSize)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
				os.Exit(1)
			}
			fmt.Println(run(name, p, threads, *poolSize,
				time.Duration(*warmup*float64(time.Second)), time.Duration(*measure*float64(time.Second))))
			p.close()
		}
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func atoi(s string) int {
	v, err := strconv.Atoi(s)
	if err != nil {
		fmt.Fprintf(os.Stderr, "not a number: %q\n", s)
		os.Exit(2)
	}
	return v
}
