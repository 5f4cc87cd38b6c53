// SPDX-License-Identifier: Apache-2.0

// Command go_pgx pools real PostgreSQL connections (*pgx.Conn, jackc/pgx v4) through the
// libconnpool Go binding, with AcquireContext as an HTTP handler would use it.
//
//	go_pgx 'postgres://app@127.0.0.1:5432/postgres'   (or a libpq DSN; default $CONNPOOL_PG_DSN)
//
// It runs 16 goroutines of queries on a pool of 4, and, when CONNPOOL_PG_CONTROL is set (the
// test's throwaway server), restarts PostgreSQL in the middle: the pool must say so (its state
// leaves ready or its acquires fail) and then serve again, with no connection leaked. Exit
// status 0 only if every check held.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v4"
	"github.com/libconnpool/connpool-go"
)

// pgxFactory opens one *pgx.Conn per pooled connection. Validate pings; Reset discards what a
// borrower may have left (an open transaction, session settings) before the next one.
type pgxFactory struct{ url string }

func (f pgxFactory) Create() (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return pgx.Connect(ctx, f.url)
}

func (f pgxFactory) Destroy(c *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Close(ctx)
}

func (f pgxFactory) Validate(c *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Ping(ctx)
}

func (f pgxFactory) Reset(c *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := c.Exec(ctx, "ROLLBACK; RESET ALL")
	return err
}

// query runs one request the way a handler would: a deadline on the whole request, the lease
// released when done, a broken connection reported as such.
func query(pool *connpool.Pool[*pgx.Conn], n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lease, err := pool.AcquireContext(ctx)
	if err != nil {
		return err
	}
	var got int
	if err := lease.Conn().QueryRow(ctx, "SELECT $1::int + 1", n).Scan(&got); err != nil {
		lease.Discard() // the server went away under this connection: do not reuse it
		return err
	}
	lease.Release()
	if got != n+1 {
		return fmt.Errorf("SELECT %d + 1 answered %d", n, got)
	}
	return nil
}

func control(action string) error {
	script := os.Getenv("CONNPOOL_PG_CONTROL")
	out, err := exec.Command("bash", script, action).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", script, action, err, out)
	}
	return nil
}

func main() {
	url := os.Getenv("CONNPOOL_PG_DSN")
	if len(os.Args) > 1 {
		url = os.Args[1]
	}
	if url == "" {
		fmt.Fprintln(os.Stderr, "usage: go_pgx POSTGRES_URL_OR_DSN (or CONNPOOL_PG_DSN)")
		os.Exit(2)
	}
	pool, err := connpool.New[*pgx.Conn](connpool.Config{
		"name": "go-pgx", "max_size": 4, "min_idle": 2, "acquire_timeout_ms": 2000,
		"retry_initial_ms": 50, "retry_max_ms": 500, "reset_on_release": true,
	}, pgxFactory{url})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pool:", err)
		os.Exit(1)
	}
	defer pool.Close()
	if err := pool.WaitReady(10 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "not ready:", err)
		os.Exit(1)
	}

	failed := 0
	check := func(ok bool, what string) {
		if !ok {
			fmt.Fprintln(os.Stderr, "FAIL:", what)
			failed++
		}
	}

	// 16 goroutines, a pool of 4: most requests wait in AcquireContext.
	run := func(rounds int) (ok, bad int64) {
		var good, errs atomic.Int64
		var wg sync.WaitGroup
		for g := 0; g < 16; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < rounds; i++ {
					if err := query(pool, g*1000+i); err != nil {
						errs.Add(1)
					} else {
						good.Add(1)
					}
				}
			}(g)
		}
		wg.Wait()
		return good.Load(), errs.Load()
	}
	ok, bad := run(50)
	fmt.Printf("before the restart: %d queries answered, %d failed\n", ok, bad)
	check(ok == 800 && bad == 0, "every query answered on a healthy server")

	// A context that is already done never gets a connection, and says why.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = pool.AcquireContext(done)
	check(errors.Is(err, context.Canceled) && errors.Is(err, connpool.ErrCanceled), "a done context is ErrCanceled")

	if os.Getenv("CONNPOOL_PG_CONTROL") != "" {
		if err := control("stop"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		// While it is down every query fails within its deadline (none hangs).
		start := time.Now()
		err := query(pool, 1)
		check(err != nil, "a query fails while the server is down")
		check(time.Since(start) < 5*time.Second, "a failing query ends within its deadline")
		fmt.Printf("while down: %v (%v)\n", err, time.Since(start).Round(time.Millisecond))
		if err := control("start"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		// Back: the pool serves again once its broken connections are replaced.
		deadline := time.Now().Add(30 * time.Second)
		for query(pool, 2) != nil && time.Now().Before(deadline) {
		}
		ok, bad = run(25)
		fmt.Printf("after the restart: %d queries answered, %d failed\n", ok, bad)
		check(bad == 0 && ok == 400, "every query answered after the restart")
	}

	// A replacement for a connection the restart broke may still be on its way (min_idle
	// refill); total counts it, created not yet. Let it land before balancing the books.
	s, err := pool.Stats()
	for settle := time.Now().Add(10 * time.Second); err == nil && s.Connections.Creating > 0 && time.Now().Before(settle); {
		time.Sleep(10 * time.Millisecond) // polling a condition, with a bound
		s, err = pool.Stats()
	}
	check(err == nil, "stats")
	if err == nil {
		fmt.Printf("state %s, total %d, in use %d, created %d, destroyed %d, canceled %d\n", s.State,
			s.Connections.Total, s.Connections.InUse, s.Counters.Created, s.Counters.Destroyed, s.Counters.Canceled)
		check(s.Connections.InUse == 0 && s.Waiters == 0, "nothing leased or waiting at the end")
		check(s.Counters.Created == s.Counters.Destroyed+uint64(s.Connections.Total), "created = destroyed + total")
	}
	if failed > 0 {
		os.Exit(1)
	}
	fmt.Println("go_pgx: all checks passed")
}
