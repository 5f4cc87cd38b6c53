// SPDX-License-Identifier: Apache-2.0
// See counting_alloc.h. Every replacement forwards to glibc's allocator, so memory from before
// and after the replacement took effect is interchangeable and malloc_usable_size stays valid.
#include "counting_alloc.h"

#include <malloc.h>
#include <stdlib.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <new>

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void* __libc_valloc(size_t);
void* __libc_pvalloc(size_t);
void __libc_free(void*);
}

namespace counting_alloc {
namespace {

// In the executable, so the local-exec TLS model applies: reading it never allocates.
thread_local ThreadCounts t_counts;
std::atomic<int64_t> g_live_bytes{0};
std::atomic<uint64_t> g_allocs{0};

void* Note(void* p, size_t requested) {
  if (p != nullptr) {
    ++t_counts.allocs;
    t_counts.bytes += requested;
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    g_live_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  }
  return p;
}

void Forget(void* p) {
  if (p == nullptr) return;
  ++t_counts.frees;
  g_live_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
}

void* NewOrThrow(size_t n, size_t align) {
  if (n == 0) n = 1;
  void* p = align > alignof(std::max_align_t) ? aligned_alloc(align, (n + align - 1) / align * align) : malloc(n);
  if (p == nullptr) throw std::bad_alloc();
  ++t_counts.news;
  return p;
}

}  // namespace

ThreadCounts ThisThread() { return t_counts; }
int64_t LiveBytes() { return g_live_bytes.load(std::memory_order_relaxed); }
uint64_t TotalAllocs() { return g_allocs.load(std::memory_order_relaxed); }

}  // namespace counting_alloc

using counting_alloc::Forget;
using counting_alloc::Note;

extern "C" {

void* malloc(size_t n) { return Note(__libc_malloc(n), n); }
void* calloc(size_t n, size_t size) { return Note(__libc_calloc(n, size), n * size); }
void free(void* p) {
  Forget(p);
  __libc_free(p);
}
void* realloc(void* p, size_t n) {
  // Counted as a free and a fresh allocation: what a hot path must not do either way.
  Forget(p);
  void* q = __libc_realloc(p, n);
  if (q == nullptr && p != nullptr && n != 0) {
    counting_alloc::g_live_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p)));  // p survives
    return nullptr;
  }
  return n == 0 ? q : Note(q, n);
}
void* memalign(size_t align, size_t n) { return Note(__libc_memalign(align, n), n); }
void* aligned_alloc(size_t align, size_t n) { return Note(__libc_memalign(align, n), n); }
int posix_memalign(void** out, size_t align, size_t n) {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  void* p = Note(__libc_memalign(align, n), n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void* valloc(size_t n) { return Note(__libc_valloc(n), n); }
void* pvalloc(size_t n) { return Note(__libc_pvalloc(n), n); }

}  // extern "C"

void* operator new(size_t n) { return counting_alloc::NewOrThrow(n, 0); }
void* operator new[](size_t n) { return counting_alloc::NewOrThrow(n, 0); }
void* operator new(size_t n, std::align_val_t a) { return counting_alloc::NewOrThrow(n, static_cast<size_t>(a)); }
void* operator new[](size_t n, std::align_val_t a) { return counting_alloc::NewOrThrow(n, static_cast<size_t>(a)); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return counting_alloc::NewOrThrow(n, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return counting_alloc::NewOrThrow(n, 0);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }
void operator delete(void* p, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { free(p); }
