// SPDX-License-Identifier: Apache-2.0

// Command exittest is run by CTest: it opens a pool whose native threads keep calling Go
// (min_idle refill, 10 ms keepalive validation), leaks a lease, and returns from main
// without Close. The process must exit 0 promptly.
package main

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/libconnpool/connpool-go"
)

type conn struct{}

type factory struct{ validated atomic.Int64 }

func (f *factory) Create() (*conn, error) { return &conn{}, nil }
func (f *factory) Destroy(*conn) error    { return nil }
func (f *factory) Validate(*conn) error   { f.validated.Add(1); return nil }

func main() {
	f := &factory{}
	pool, err := connpool.New[*conn](connpool.Config{"max_size": 4, "min_idle": 2,
		"maintenance_interval_ms": 10, "validate_interval_ms": 10}, f)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lease, err := pool.Acquire(10 * time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	end := time.Now().Add(10 * time.Second)
	for f.validated.Load() < 2 {
		if time.Now().After(end) {
			fmt.Fprintln(os.Stderr, "maintenance thread never validated")
			os.Exit(1)
		}
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Println("leaving main with an open pool and lease", lease.ID())
}
