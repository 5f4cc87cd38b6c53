// SPDX-License-Identifier: Apache-2.0

// A Go service's view of libconnpool: a factory for your connections, a pool, leases
// released with defer, and the HTTP status to answer when the pool cannot serve.
//
// Run: go run .   (go.mod points at the installed module; see docs/BINDINGS.md)
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/libconnpool/connpool-go"
)

// backend stands in for a real client connection (database/sql, Redis, an RPC channel...).
type backend struct {
	id   int64
	open atomic.Bool
}

func (b *backend) query(q string) string { return fmt.Sprintf("conn %d answered %s", b.id, q) }

type backendFactory struct {
	url    string
	nextID atomic.Int64
}

// Create returns an error to report a failure, wrapped in connpool.Fatal when permanent.
func (f *backendFactory) Create() (*backend, error) {
	if strings.Contains(f.url, "password=wrong") {
		return nil, connpool.Fatal(errors.New("authentication failed"))
	}
	b := &backend{id: f.nextID.Add(1)}
	b.open.Store(true)
	return b, nil
}

func (f *backendFactory) Destroy(b *backend) error { b.open.Store(false); return nil }

// Validate is optional (connpool.Validator): e.g. SELECT 1.
func (f *backendFactory) Validate(b *backend) error {
	if !b.open.Load() {
		return errors.New("closed")
	}
	return nil
}

func handle(pool *connpool.Pool[*backend], request int) {
	lease, err := pool.Acquire(500 * time.Millisecond)
	if err != nil {
		// ErrTimeout, ErrUnavailable, ErrOverload, ErrClosed: tell the client to come back later.
		var pe *connpool.Error
		if errors.As(err, &pe) {
			fmt.Printf("HTTP %d: %v\n", pe.HTTPStatus(), err)
		}
		return
	}
	defer lease.Release()
	fmt.Println(lease.Conn().query(fmt.Sprint("request ", request)))
}

func main() {
	pool, err := connpool.New[*backend](connpool.Config{
		"name": "orders", "max_size": 4, "min_idle": 1, "acquire_timeout_ms": 2 * time.Second,
	}, &backendFactory{url: "backend://db?user=app"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer pool.Close()
	for request := 1; request <= 3; request++ {
		handle(pool, request)
	}
	stats, err := pool.Stats()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("state=%s acquired=%d created=%d\n", stats.State, stats.Counters.Acquired, stats.Counters.Created)
	fmt.Println("readiness: HTTP", pool.HTTPStatus())

	// A permanent failure makes the pool unavailable at once: acquires fail fast with 503.
	bad, err := connpool.New[*backend](nil, &backendFactory{url: "backend://db?password=wrong"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer bad.Close()
	if _, err := bad.Acquire(2 * time.Second); errors.Is(err, connpool.ErrUnavailable) {
		fmt.Println("HTTP", err.(*connpool.Error).HTTPStatus(), "(unavailable)")
	} else {
		fmt.Fprintln(os.Stderr, "expected ErrUnavailable, got", err)
		os.Exit(1)
	}
}
