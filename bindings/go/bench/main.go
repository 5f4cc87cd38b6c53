// SPDX-License-Identifier: Apache-2.0

// Command bench measures the per-call cost of acquire + release through the Go binding
// (one goroutine, uncontended).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/libconnpool/connpool-go"
)

type conn struct{}
type factory struct{}

func (factory) Create() (*conn, error) { return &conn{}, nil }
func (factory) Destroy(*conn) error    { return nil }

func main() {
	n := flag.Int("n", 1000000, "acquire+release pairs per round")
	flag.Parse()
	pool, err := connpool.New[*conn](connpool.Config{"max_size": 4, "validate_on_acquire": "never"}, factory{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer pool.Close()
	for round := 1; round <= 3; round++ {
		start := time.Now()
		for i := 0; i < *n; i++ {
			lease, err := pool.Acquire(5 * time.Second)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			_ = lease.Conn()
			lease.Release()
		}
		el := time.Since(start)
		fmt.Printf("go: %d acquire+release in %.1f ms: %.0f ns per pair (round %d)\n",
			*n, float64(el.Microseconds())/1000, float64(el.Nanoseconds())/float64(*n), round)
	}
}
