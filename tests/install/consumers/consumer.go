// SPDX-License-Identifier: Apache-2.0

// A Go program built against the installed module alone (tests/install/check_packages.sh): a
// factory, a pool, leases by timeout and by context, the stats proving what happened.
package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/libconnpool/connpool-go"
)

type conn struct{ id int64 }

type factory struct{ made atomic.Int64 }

func (f *factory) Create() (*conn, error) { return &conn{id: f.made.Add(1)}, nil }
func (f *factory) Destroy(*conn) error    { return nil }

func check(ok bool, what string) {
	if !ok {
		fmt.Fprintln(os.Stderr, "failed:", what)
		os.Exit(1)
	}
}

func main() {
	f := &factory{}
	pool, err := connpool.New[*conn](connpool.Config{"name": "consumer", "max_size": 2}, f)
	check(err == nil, fmt.Sprint("New: ", err))
	defer pool.Close()
	check(pool.WaitReady(5*time.Second) == nil, "WaitReady")
	a, err := pool.Acquire(2 * time.Second)
	check(err == nil, fmt.Sprint("Acquire: ", err))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, err := pool.AcquireContext(ctx)
	check(err == nil, fmt.Sprint("AcquireContext: ", err))
	check(a.Conn() != b.Conn(), "two leases, two connections")
	check(a.Release() == nil && b.Release() == nil, "Release")
	st, err := pool.Stats()
	check(err == nil, fmt.Sprint("Stats: ", err))
	check(st.State == "ready", "state ready: "+st.State)
	check(pool.HTTPStatus() == 200, "readiness 200")
	check(f.made.Load() == 2, fmt.Sprint("2 creates, got ", f.made.Load()))
	fmt.Println("go consumer: ok")
}
