// SPDX-License-Identifier: Apache-2.0
// A counting allocator for the allocation test and the memory measurement.
//
// counting_alloc.cpp replaces malloc, free, calloc, realloc and the aligned variants for the
// whole process, as glibc allows a program to do ("Replacing malloc" in its manual), forwarding
// each to glibc's own __libc_* entry point; global operator new and delete are replaced too and
// go through malloc. No LD_PRELOAD is needed: a program that links counting_alloc.cpp interposes
// on every allocation in the process, including those made inside libstdc++, Boost and glibc,
// which -Wl,--wrap=malloc would miss (it only rewrites references in objects linked statically).
//
// Counts are kept per thread (allocations on the calling thread, what a hot-path test needs) and
// process-wide (live bytes by malloc_usable_size, what a footprint measurement needs).
#ifndef CONNPOOL_BENCH_COUNTING_ALLOC_H
#define CONNPOOL_BENCH_COUNTING_ALLOC_H

#include <cstdint>

namespace counting_alloc {

struct ThreadCounts {
  uint64_t allocs = 0;      // malloc, calloc, aligned allocations, realloc of NULL or growing
  uint64_t frees = 0;       // free of non-NULL
  uint64_t news = 0;        // of `allocs`, how many came through operator new
  uint64_t bytes = 0;       // requested bytes of `allocs`
};

// This thread's counts since it started.
ThreadCounts ThisThread();
// Bytes currently allocated in the whole process (usable sizes), and calls made so far.
int64_t LiveBytes();
uint64_t TotalAllocs();

}  // namespace counting_alloc

#endif
