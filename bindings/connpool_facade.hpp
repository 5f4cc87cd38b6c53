// SPDX-License-Identifier: Apache-2.0
// connpool_facade.hpp - the thin, header-only C++ layer SWIG wraps for Java, C# and Go.
//
// Why it exists: SWIG directors need virtual C++ classes to let a factory written in Java, C#
// or Go receive the pool's callbacks. Everything here sits on the C ABI (connpool/connpool.h)
// and nothing else, so the language wrappers link only libconnpool.so.
//
// Object model:
//   Factory      a director base class. The language side subclasses it once (an internal
//                adapter) and maps opaque 64-bit handles to the user's own connection objects:
//                create() hands out a handle, destroy/validate/reset receive it back.
//                The pool owns the Factory: it is deleted (after released()) by the C
//                library's ctx_free, i.e. after the pool's last callback. The language side
//                must therefore give up ownership of its director object before Pool() is
//                called (Java swigReleaseOwnership, C# swigRelease + a GCHandle, Go: never
//                DeleteDirectorFactory).
//   Pool         owns one connpool_pool_t. close() frees it; calls made afterwards return
//                CONNPOOL_ECLOSED instead of touching freed memory, and close() waits for calls
//                already in flight, so close() racing acquire() is safe. release() stays valid
//                after close() for leases that were out (the C ABI keeps the pool alive for
//                them); the language side guarantees each lease is released at most once.
//   Config       a connpool_config_t plus the text of the last error.
//
// Thread safety: Pool is safe from any thread; Config is not synchronised (like the C object).
// No function here throws into the language: every C callback catches everything, and errors
// are status codes from CONNPOOL_STATUS_MAP (the one table; see Status below).
#ifndef CONNPOOL_BINDINGS_FACADE_HPP
#define CONNPOOL_BINDINGS_FACADE_HPP

#include <connpool/connpool.h>

#include "entry_gate.h"  // core/util: the striped enter-unless-closed guard

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

namespace connpool_binding {

// The status codes, generated from the header's X-macro list so the bindings can never drift
// from the C library: SWIG turns this into org.connpool.Status, ConnPool.Status and the Go
// constants the exception/error tables are keyed on. The STATUS_ prefix keeps clear of the
// errno macros (EINVAL, ENOMEM); connpool.i strips it for the languages.
enum Status {
#define CONNPOOL_FACADE_STATUS_(name, value, text) STATUS_##name = value,
  CONNPOOL_STATUS_MAP(CONNPOOL_FACADE_STATUS_)
#undef CONNPOOL_FACADE_STATUS_
  STATUS_END_
};

// Health states (CONNPOOL_STATE_*), for the language enums.
enum State {
  STARTING = CONNPOOL_STATE_STARTING,
  READY = CONNPOOL_STATE_READY,
  DEGRADED = CONNPOOL_STATE_DEGRADED,
  UNAVAILABLE = CONNPOOL_STATE_UNAVAILABLE,
  DRAINING = CONNPOOL_STATE_DRAINING,
  CLOSED = CONNPOOL_STATE_CLOSED
};

#ifndef SWIG
// create() outcomes (CONNPOOL_FACTORY_*); the languages use NativeCreateResult's methods.
enum CreateCode { CREATE_OK = CONNPOOL_FACTORY_OK, CREATE_RETRY = CONNPOOL_FACTORY_RETRY, CREATE_FATAL = CONNPOOL_FACTORY_FATAL };
#endif

inline const char* statusName(int code) { return connpool_errname(code); }
inline const char* statusMessage(int code) { return connpool_strerror(code); }
inline const char* stateName(int state) { return connpool_state_name(state); }
inline std::string versionString() { return connpool_version_string(); }
inline int versionNumber() { return connpool_version_number(); }

// The bindings' columns of the status table, one row per code of the header's
// CONNPOOL_STATUS_MAP, in its order: the HTTP status an application should answer when a
// request failed with the code (503 when the pool cannot serve right now, 502 when the backend's
// factory failed on this call, 500 for misuse and bugs), and the class the Java and C#
// bindings throw for it ("" for the codes that are not errors). The rows cannot be columns of
// CONNPOOL_STATUS_MAP itself: that list's arity is public (programs expand it with their own
// three-argument X), and no adapter macro can pass its names on unexpanded (EINVAL, ENOMEM,
// ESTALE and ECANCELED are also errno macros). The static_asserts below keep the two in step.
#define CONNPOOL_BINDING_STATUS_MAP(X)          \
  X(OK, 200, "")                                \
  X(EINVAL, 500, "PoolConfigException")         \
  X(ETIMEOUT, 503, "PoolTimeoutException")      \
  X(EUNAVAILABLE, 503, "PoolUnavailableException") \
  X(ECLOSED, 503, "PoolClosedException")        \
  X(EOVERLOAD, 503, "PoolOverloadException")    \
  X(ESTALE, 500, "PoolStaleLeaseException")     \
  X(EFACTORY, 502, "PoolFactoryException")      \
  X(ENOMEM, 500, "PoolException")               \
  X(EINTERNAL, 500, "PoolException")            \
  X(ECANCELED, 500, "PoolException")            \
  X(PENDING, 500, "")

#ifndef SWIG
namespace status_table_check {
// Same codes, same order, same names: a row added to one list and not the other fails here.
#define CONNPOOL_FACADE_NAME_(name, ...) #name,
constexpr const char* kCoreNames[] = {CONNPOOL_STATUS_MAP(CONNPOOL_FACADE_NAME_)};
constexpr const char* kBindingNames[] = {CONNPOOL_BINDING_STATUS_MAP(CONNPOOL_FACADE_NAME_)};
#undef CONNPOOL_FACADE_NAME_
#define CONNPOOL_FACADE_CODE_(name, ...) STATUS_##name,
constexpr int kBindingCodes[] = {CONNPOOL_BINDING_STATUS_MAP(CONNPOOL_FACADE_CODE_)};
#undef CONNPOOL_FACADE_CODE_
constexpr bool SameText(const char* a, const char* b) {
  return *a == *b && (*a == '\0' || SameText(a + 1, b + 1));
}
constexpr bool TablesAgree() {
  if (sizeof kCoreNames != sizeof kBindingNames) return false;
  for (size_t i = 0; i < sizeof kCoreNames / sizeof kCoreNames[0]; ++i)
    if (!SameText(kCoreNames[i], kBindingNames[i]) || kBindingCodes[i] != static_cast<int>(i)) return false;
  return true;
}
static_assert(STATUS_END_ == sizeof kBindingCodes / sizeof kBindingCodes[0],
              "CONNPOOL_BINDING_STATUS_MAP needs one row per status code");
static_assert(TablesAgree(), "CONNPOOL_BINDING_STATUS_MAP must list CONNPOOL_STATUS_MAP's codes in its order");
}  // namespace status_table_check
#endif

inline int httpStatusFor(int code) {
  switch (code) {
#define CONNPOOL_FACADE_HTTP_(name, http, exception) \
  case STATUS_##name:                                \
    return http;
    CONNPOOL_BINDING_STATUS_MAP(CONNPOOL_FACADE_HTTP_)
#undef CONNPOOL_FACADE_HTTP_
    default: return 500;
  }
}
// "PoolException" for a code this library does not know.
inline const char* exceptionNameFor(int code) {
  switch (code) {
#define CONNPOOL_FACADE_EXCEPTION_(name, http, exception) \
  case STATUS_##name:                                     \
    return exception;
    CONNPOOL_BINDING_STATUS_MAP(CONNPOOL_FACADE_EXCEPTION_)
#undef CONNPOOL_FACADE_EXCEPTION_
    default: return "PoolException";
  }
}

// What a director's create() reports: exactly one of succeed/retry/fatal.
class CreateResult {
 public:
  CreateResult() = default;
  void succeed(int64_t handle) {
    code_ = CREATE_OK;
    handle_ = handle;
    decided_ = true;
  }
  void retry(const std::string& message) { fail(CREATE_RETRY, message); }
  void fatal(const std::string& message) { fail(CREATE_FATAL, message); }

#ifndef SWIG
  bool decided() const { return decided_; }
  int code() const { return code_; }
  int64_t handle() const { return handle_; }
  const std::string& message() const { return message_; }
#endif

 private:
  void fail(int code, const std::string& message) {
    code_ = code;
    message_ = message;
    decided_ = true;
  }
  int code_ = CREATE_RETRY;
  int64_t handle_ = 0;
  std::string message_;
  bool decided_ = false;
};

// The director base. Handles are the language side's business (never 0 on success is not
// required, but the bindings start at 1 so a zero handle stands out in a debugger).
class Factory {
 public:
  // has_validate/has_reset: whether the language factory implements them. When false the C
  // callback is not installed, so the pool makes no upcall for it at all.
  explicit Factory(bool has_validate = true, bool has_reset = true)
      : has_validate_(has_validate), has_reset_(has_reset) {}
  virtual ~Factory() {}
  virtual void create(CreateResult& result) = 0;
  virtual void destroy(int64_t handle) = 0;
  virtual bool validate(int64_t /*handle*/) { return true; }
  virtual bool reset(int64_t /*handle*/) { return true; }
  // The pool made its last callback: the language side may let go of its director object.
  // Called once, just before this object is deleted.
  virtual void released() {}
  // An acquire that Pool::acquireAsyncTicket queued (it returned CONNPOOL_PENDING) ended:
  // called once per ticket, on the pool's dispatcher thread, with no pool lock held. OK hands
  // over the lease and handle; else they are 0. Every other pending acquire of the pool waits
  // while this runs, so it only hands the outcome on (to a future, a task, a parked thread).
  virtual void acquired(int64_t /*ticket*/, int /*status*/, int64_t /*lease*/, int64_t /*handle*/) {}

#ifndef SWIG
  bool hasValidate() const { return has_validate_; }
  bool hasReset() const { return has_reset_; }
#endif

 private:
  Factory(const Factory&) = delete;
  Factory& operator=(const Factory&) = delete;
  const bool has_validate_;
  const bool has_reset_;
};

class Config {
 public:
  Config() : cfg_(connpool_config_new()) {}
  ~Config() { connpool_config_free(cfg_); }

  // CONNPOOL_OK or CONNPOOL_EINVAL (then error() names the key and the allowed range).
  int set(const std::string& key, const std::string& value) {
    if (cfg_ == nullptr) return fail(CONNPOOL_ENOMEM, "out of memory");
    char err[512] = {0};
    int rc = connpool_config_set(cfg_, key.c_str(), value.c_str(), err, sizeof err);
    return rc == CONNPOOL_OK ? ok() : fail(rc, err);
  }
  // Replaces every setting with those of a JSON object ({"max_size": 4, ...}).
  int setJson(const std::string& json) {
    connpool_config_t* parsed = nullptr;
    char err[512] = {0};
    int rc = connpool_config_from_json(json.c_str(), &parsed, err, sizeof err);
    if (rc != CONNPOOL_OK) return fail(rc, err);
    connpool_config_free(cfg_);
    cfg_ = parsed;
    return ok();
  }
  std::string toJson() const { return TakeString(connpool_config_to_json(cfg_)); }
  std::string error() const { return error_; }

#ifndef SWIG
  const connpool_config_t* get() const { return cfg_; }
  static std::string TakeString(char* s) {
    if (s == nullptr) return std::string();
    std::string out(s);
    connpool_free(s);
    return out;
  }
#endif

 private:
  Config(const Config&) = delete;
  Config& operator=(const Config&) = delete;
  int ok() {
    error_.clear();
    return CONNPOOL_OK;
  }
  int fail(int rc, const std::string& msg) {
    error_ = msg;
    return rc;
  }
  connpool_config_t* cfg_;
  std::string error_;
};

// A connpool_cancel_t (C ABI 1.2): what a Java interrupt, a .NET CancellationToken or a
// future's cancel() triggers to end an acquire's wait with CONNPOOL_ECANCELED. The language side
// deletes it only once no call that uses it is running or pending (connpool_cancel_free).
class CancelToken {
 public:
  CancelToken() : token_(connpool_cancel_new()) {}
  ~CancelToken() { connpool_cancel_free(token_); }
  // False only when out of memory.
  bool valid() const { return token_ != nullptr; }
  // Idempotent, from any thread.
  void trigger() { connpool_cancel_trigger(token_); }
  bool triggered() const { return connpool_cancel_triggered(token_) != 0; }
#ifndef SWIG
  connpool_cancel_t* get() const { return token_; }
#endif

 private:
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;
  connpool_cancel_t* const token_;
};

#ifndef SWIG
// The lease each connection handle currently has, for bindings whose handles are small
// integers (Java's HandleTable) and whose pools give a connection one lease at a time
// (max_leases_per_conn 1): acquire then hands the language one number (the handle, which it
// turns into its object with an array read) instead of writing a lease and a handle into an
// array, and release takes the handle back. Chunks of 1024 entries are made on first use and
// kept until the pool is deleted (a release may come after close()).
//
// Thread safety: Set and Take are lock-free once the handle's chunk exists; making a chunk
// takes mu_. A handle has at most one lease at a time, so Set never overwrites a lease (it
// reports false if it would, and the caller takes the lease the slow way). Each entry has a
// cache line of its own: threads cycling different connections never write the same line.
class LeaseByHandle {
 public:
  static constexpr int64_t kChunk = 1024;   // 64 KiB: made only when a handle reaches it
  static constexpr int64_t kChunks = 128;  // handles below 131072 (max_size is at most 100000)

  LeaseByHandle() {
    for (auto& c : chunks_) c.store(nullptr, std::memory_order_relaxed);
  }
  ~LeaseByHandle() {
    for (auto& c : chunks_) delete[] c.load(std::memory_order_relaxed);
  }

  static bool Fits(int64_t handle) { return handle > 0 && handle < kChunk * kChunks; }

  struct alignas(64) Entry {
    std::atomic<uint64_t> lease{0};
  };

  // False: out of memory, or the handle already holds a lease (a shared connection).
  bool Set(int64_t handle, uint64_t lease) {
    Entry* chunk = Chunk(handle, /*make=*/true);
    if (chunk == nullptr) return false;
    uint64_t expected = 0;
    return chunk[handle % kChunk].lease.compare_exchange_strong(expected, lease, std::memory_order_relaxed);
  }
  // Set() for a pool whose connections carry one lease at a time (max_leases_per_conn 1): a
  // plain load and store instead of a compare-and-swap. Nothing else writes the entry of a
  // handle that is not leased: the previous lease's owner emptied it before connpool_release
  // (Take or TakeIf), and the pool's hand-off of the connection to this acquire
  // orders that store before this load. Still false for an entry that is not empty (a lease
  // that never came back through the table), as Set().
  bool SetExclusive(int64_t handle, uint64_t lease) {
    Entry* chunk = Chunk(handle, /*make=*/true);
    if (chunk == nullptr) return false;
    std::atomic<uint64_t>& e = chunk[handle % kChunk].lease;
    if (e.load(std::memory_order_relaxed) != 0) return false;
    e.store(lease, std::memory_order_relaxed);
    return true;
  }
  // Set() or SetExclusive() that never makes a chunk (so never locks or allocates), for the
  // C# binding's raw path: false also when the handle's chunk does not exist yet.
  bool SetIfChunk(int64_t handle, uint64_t lease, bool exclusive) {
    Entry* chunk = Fits(handle) ? Chunk(handle, /*make=*/false) : nullptr;
    if (chunk == nullptr) return false;
    std::atomic<uint64_t>& e = chunk[handle % kChunk].lease;
    if (exclusive) {
      if (e.load(std::memory_order_relaxed) != 0) return false;
      e.store(lease, std::memory_order_relaxed);
      return true;
    }
    uint64_t expected = 0;
    return e.compare_exchange_strong(expected, lease, std::memory_order_relaxed);
  }
  // The handle's lease, now 0; 0 if it had none (a second release).
  uint64_t Take(int64_t handle) {
    Entry* chunk = Fits(handle) ? Chunk(handle, /*make=*/false) : nullptr;
    return chunk == nullptr ? 0 : chunk[handle % kChunk].lease.exchange(0, std::memory_order_relaxed);
  }
  // Take() only if the handle still holds `lease`: false when that lease was given back
  // already (a copy of a lease value released twice), and then nothing changes.
  bool TakeIf(int64_t handle, uint64_t lease) {
    Entry* chunk = Fits(handle) && lease != 0 ? Chunk(handle, /*make=*/false) : nullptr;
    return chunk != nullptr &&
           chunk[handle % kChunk].lease.compare_exchange_strong(lease, 0, std::memory_order_relaxed);
  }
  uint64_t Peek(int64_t handle) {
    Entry* chunk = Fits(handle) ? Chunk(handle, /*make=*/false) : nullptr;
    return chunk == nullptr ? 0 : chunk[handle % kChunk].lease.load(std::memory_order_relaxed);
  }

 private:
  LeaseByHandle(const LeaseByHandle&) = delete;
  LeaseByHandle& operator=(const LeaseByHandle&) = delete;

  Entry* Chunk(int64_t handle, bool make) {
    std::atomic<Entry*>& c = chunks_[handle / kChunk];
    Entry* chunk = c.load(std::memory_order_acquire);
    if (chunk != nullptr || !make) return chunk;
    std::lock_guard<std::mutex> lk(mu_);
    chunk = c.load(std::memory_order_relaxed);
    if (chunk == nullptr) {
      chunk = new (std::nothrow) Entry[kChunk];  // aligned new (C++17): one line per entry
      if (chunk == nullptr) return nullptr;
      c.store(chunk, std::memory_order_release);
    }
    return chunk;
  }

  std::mutex mu_;  // making a chunk
  std::atomic<Entry*> chunks_[kChunks];
};
#endif  // SWIG

class Group;

class Pool {
 public:
  // Always takes ownership of `factory` (the C library frees it, on failure too). Check
  // status() afterwards: anything but CONNPOOL_OK leaves a closed pool and error() says why.
  Pool(const Config* config, Factory* factory) {
    char err[512] = {0};
    if (factory == nullptr) {
      status_ = CONNPOOL_EINVAL;
      error_ = "factory is null";
      gate_.CloseFinished();
      return;
    }
    connpool_factory_t* f = connpool_factory_new(factory, &FreeCtx, &CreateCb, &DestroyCb);
    if (f == nullptr) {
      FreeCtx(factory);
      status_ = CONNPOOL_ENOMEM;
      error_ = "out of memory";
      gate_.CloseFinished();
      return;
    }
    if (factory->hasValidate()) connpool_factory_set_validate(f, &ValidateCb);
    if (factory->hasReset()) connpool_factory_set_reset(f, &ResetCb);
    factory_ = factory;
    exclusive_ = LeasesPerConnection(config) == 1;
    status_ = connpool_pool_new(config != nullptr ? config->get() : nullptr, f, &pool_, err, sizeof err);
    if (status_ != CONNPOOL_OK) {
      error_ = err;
      pool_ = nullptr;
      gate_.CloseFinished();
    }
  }
  ~Pool() { close(); }

  int status() const { return status_; }
  std::string error() const { return error_; }

  // Returns a status; on CONNPOOL_OK *lease_out and *handle_out name the lease and the
  // language-side connection. timeout_ms < 0: the configured acquire_timeout_ms; 0: no wait.
  int acquire(int64_t timeout_ms, int priority, int64_t* lease_out, int64_t* handle_out) {
    *lease_out = 0;
    *handle_out = 0;
    Call call(*this);
    if (!call.entered()) return CONNPOOL_ECLOSED;
    connpool_lease_t lease = 0;
    void* conn = nullptr;
    int rc = priority == 0 ? connpool_acquire(pool_, timeout_ms, &lease, &conn)
                           : connpool_acquire_priority(pool_, priority, timeout_ms, &lease, &conn);
    if (rc == CONNPOOL_OK) {
      *lease_out = static_cast<int64_t>(lease);
      *handle_out = static_cast<int64_t>(reinterpret_cast<intptr_t>(conn));
    }
    return rc;
  }

  // connpool_acquire_async for runtimes that take the callback themselves (Go: a cgo-exported
  // function). `callback` is a connpool_acquire_cb, `cancel` a connpool_cancel_t* (0: none),
  // both as integers because the language side holds them as such; `ud` comes back to the
  // callback, whose `conn` is the language-side handle. CONNPOOL_OK: served now, the callback
  // is not called; CONNPOOL_PENDING: it will be, once (close() delivers ECLOSED first).
  int acquireAsync(int64_t timeout_ms, int priority, int64_t cancel, int64_t callback, int64_t ud,
                   int64_t* lease_out, int64_t* handle_out) {
    *lease_out = 0;
    *handle_out = 0;
    Call call(*this);
    if (!call.entered()) return CONNPOOL_ECLOSED;
    connpool_lease_t lease = 0;
    void* conn = nullptr;
    int rc = connpool_acquire_async(pool_, priority, timeout_ms,
                                    reinterpret_cast<connpool_cancel_t*>(static_cast<intptr_t>(cancel)),
                                    reinterpret_cast<connpool_acquire_cb>(static_cast<intptr_t>(callback)),
                                    reinterpret_cast<void*>(static_cast<intptr_t>(ud)), &lease, &conn);
    if (rc == CONNPOOL_OK) {
      *lease_out = static_cast<int64_t>(lease);
      *handle_out = static_cast<int64_t>(reinterpret_cast<intptr_t>(conn));
    }
    return rc;
  }

  // connpool_acquire_cancellable: as acquire(), and triggering `cancel` (may be null) ends the
  // wait with CONNPOOL_ECANCELED.
  int acquireCancellable(int64_t timeout_ms, int priority, CancelToken* cancel, int64_t* lease_out,
                         int64_t* handle_out) {
    *lease_out = 0;
    *handle_out = 0;
    Call call(*this);
    if (!call.entered()) return CONNPOOL_ECLOSED;
    connpool_lease_t lease = 0;
    void* conn = nullptr;
    int rc = connpool_acquire_cancellable(pool_, priority, timeout_ms, cancel != nullptr ? cancel->get() : nullptr,
                                          &lease, &conn);
    if (rc == CONNPOOL_OK) {
      *lease_out = static_cast<int64_t>(lease);
      *handle_out = static_cast<int64_t>(reinterpret_cast<intptr_t>(conn));
    }
    return rc;
  }

  // connpool_acquire_async for runtimes whose callbacks are directors (Java, C#): the outcome of
  // a CONNPOOL_PENDING acquire arrives as Factory::acquired(*ticket_out, ...), so the language
  // side needs one director per pool, not one per acquire. CONNPOOL_OK: served now (lease and
  // handle set, no callback); anything else but PENDING: refused, no callback. *ticket_out is
  // set on PENDING only; the callback may run before this returns, so the language side must
  // match the two whichever comes first.
  int acquireAsyncTicket(int64_t timeout_ms, int priority, CancelToken* cancel, int64_t* lease_out,
                         int64_t* handle_out, int64_t* ticket_out) {
    *lease_out = 0;
    *handle_out = 0;
    *ticket_out = 0;
    Call call(*this);
    if (!call.entered()) return CONNPOOL_ECLOSED;
    // One ticket per thread is kept until an acquire goes PENDING and the callback takes it:
    // an acquire served at once (the common case) allocates nothing.
    static thread_local std::unique_ptr<Ticket> spare;
    if (!spare) {
      spare.reset(new (std::nothrow) Ticket{nullptr, nullptr, 0});
      if (!spare) return CONNPOOL_ENOMEM;
      static std::atomic<int64_t> next_ticket{1};
      spare->id = next_ticket.fetch_add(1, std::memory_order_relaxed);
    }
    // Stored only when they change: each thread's spare is a small heap block, which may share
    // a cache line with another thread's, and a store on every acquire would bounce that line
    // between cores.
    if (spare->pool != pool_) spare->pool = pool_;
    if (spare->factory != factory_) spare->factory = factory_;
    const int64_t id = spare->id;
    connpool_lease_t lease = 0;
    void* conn = nullptr;
    int rc = connpool_acquire_async(pool_, priority, timeout_ms, cancel != nullptr ? cancel->get() : nullptr,
                                    &TicketDone, spare.get(), &lease, &conn);
    if (rc == CONNPOOL_PENDING) {
      spare.release();  // TicketDone deletes it
      *ticket_out = id;
    } else if (rc == CONNPOOL_OK) {
      *lease_out = static_cast<int64_t>(lease);
      *handle_out = static_cast<int64_t>(reinterpret_cast<intptr_t>(conn));
    }
    return rc;
  }

  // The handle fast paths: an acquire with the whole outcome in the return value, so the
  // language reads no out-parameters. > 0: served, the value is the connection's handle.
  // <= 0: minus (status | ticket << 8 | spill_handle << 8): the status in the low byte; for
  // CONNPOOL_PENDING (the asynchronous acquire only) the ticket above it (the outcome comes as
  // Factory::acquired); for kSpilled (a handle that cannot hold the lease in the table here:
  // a shared connection, or too large) the handle above it, and takeSpilledLease() gives the
  // lease on this thread.
  static constexpr int kSpilled = 255;
#ifndef SWIG
  // For a language whose lease object keeps the lease value itself (Java's Lease): the
  // asynchronous acquire (acquireAsyncTicket), its lease written to *lease_out and not kept
  // in the table, so the release is release(lease), by value. Never kSpilled: a shared
  // connection's lease comes back like any other. Why by value: the pool's own
  // compare-and-swap then refuses a late second release, where a take from the table by plain
  // load and store needed the language to let only one release through with an atomic of
  // its own on every close.
  int64_t acquireHandleLease(int64_t timeout_ms, int priority, CancelToken* cancel, int64_t* lease_out) {
    int64_t handle = 0, ticket = 0;
    const int rc = acquireAsyncTicket(timeout_ms, priority, cancel, lease_out, &handle, &ticket);
    if (rc == CONNPOOL_PENDING) return -((ticket << 8) | rc);
    if (rc != CONNPOOL_OK) return -static_cast<int64_t>(rc);
    if (handle <= 0) {  // not a handle the language gave out: nothing it could look up
      release(*lease_out, true);
      *lease_out = 0;
      return -static_cast<int64_t>(CONNPOOL_EINTERNAL);
    }
    return handle;
  }
#endif
  // The plain blocking acquire, its lease kept in the table for releaseHandle() (C#'s and
  // Go's Acquire): no PENDING, no ticket.
  int64_t acquireHandleBlocking(int64_t timeout_ms, int priority) {
    int64_t lease = 0, handle = 0;
    int rc = acquire(timeout_ms, priority, &lease, &handle);
    if (rc != CONNPOOL_OK) return -static_cast<int64_t>(rc);
    return KeepLease(lease, handle);
  }
  static int64_t takeSpilledLease() {
    int64_t lease = spilled_lease();
    spilled_lease() = 0;
    return lease;
  }
  // Gives back the lease acquireHandleBlocking() kept for `handle`; CONNPOOL_ESTALE if it has
  // none.
  // Valid after close(), as release().
  int releaseHandle(int64_t handle, bool broken) {
    const uint64_t lease = leases_.Take(handle);
    if (lease == 0) return CONNPOOL_ESTALE;
    return release(static_cast<int64_t>(lease), broken);
  }
  // The lease `handle` holds now (0: none), for logs.
  int64_t leaseOfHandle(int64_t handle) { return static_cast<int64_t>(leases_.Peek(handle)); }
#ifndef SWIG
  // releaseHandle() for a language that keeps the lease value beside the handle (C#'s struct
  // Lease, whose copies may be released twice): gives the lease back only if `handle` still
  // holds exactly `lease`, else CONNPOOL_ESTALE and nothing happens, so a copy released after
  // the handle went to a new lease never takes that lease away.
  int releaseHandleLease(int64_t handle, int64_t lease, bool broken) {
    if (!leases_.TakeIf(handle, static_cast<uint64_t>(lease))) return CONNPOOL_ESTALE;
    return release(lease, broken);
  }
#endif

#ifndef SWIG
  // --- the C# binding's raw path (bindings/csharp/native/raw_path.cpp, which says why)
  // tryAcquireRaw and tryReleaseRaw run inside Mono raw internal calls, in GC-unsafe mode: they
  // never block, lock, allocate or call back, and leave everything else to the ordinary calls.
  static constexpr int kClaimed = 254;  // beside kSpilled in tryAcquireRaw's result
  static constexpr int kTaken = -1;     // tryReleaseRaw: the table gave the lease up; releaseTaken()
  // connpool_try_acquire_fast through the entry gate. > 0: served, the handle (its lease kept
  // here and in *lease_out). 0: declined, nothing held: make the ordinary acquire. -kClaimed:
  // *lease_out is a claim that needs its checks: acquireClaimedHandle(). -(handle << 8 |
  // kSpilled): served, *lease_out not kept here (its table chunk does not exist yet):
  // keepHandleLease(). *leave_out 1: the gate began closing during the call and still counts
  // it: call leaveRaw() (after the rest).
  int64_t tryAcquireRaw(int priority, int64_t* lease_out, int32_t* leave_out) noexcept {
    *lease_out = 0;
    *leave_out = 0;
    int64_t r = 0;
    if (gate_.TryEnter()) {
      connpool_lease_t lease = 0;
      void* conn = nullptr;
      const int rc = connpool_try_acquire_fast(pool_, priority, &lease, &conn);
      if (rc == CONNPOOL_OK) {
        const int64_t handle = static_cast<int64_t>(reinterpret_cast<intptr_t>(conn));
        *lease_out = static_cast<int64_t>(lease);
        r = leases_.SetIfChunk(handle, lease, exclusive_) ? handle : -((handle << 8) | kSpilled);
      } else if (rc == CONNPOOL_PENDING) {
        *lease_out = static_cast<int64_t>(lease);
        r = -kClaimed;
      }
      if (!gate_.TryLeave()) *leave_out = 1;
    } else {
      *leave_out = 1;
    }
    return r;
  }
  // connpool_try_release_fast of a lease tryAcquireRaw or acquireHandle*() kept for `handle`.
  // CONNPOOL_OK: given back. CONNPOOL_ESTALE: `handle` does not hold `lease` (given back
  // already, through a copy): nothing happened, as in releaseHandleLease(). kTaken: the table
  // gave the lease up but the pool declined: releaseTaken(lease).
  int tryReleaseRaw(int64_t handle, int64_t lease) noexcept {
    if (!leases_.TakeIf(handle, static_cast<uint64_t>(lease))) return CONNPOOL_ESTALE;
    return connpool_try_release_fast(pool_, static_cast<connpool_lease_t>(lease)) == CONNPOOL_OK ? CONNPOOL_OK
                                                                                                 : kTaken;
  }
  void leaveRaw() { gate_.Leave(); }
  // Finishes tryAcquireRaw's claim (connpool_acquire_claimed); the result as
  // acquireHandleBlocking(). A pool closed meanwhile gets the claim back (ECLOSED).
  int64_t acquireClaimedHandle(int64_t timeout_ms, int priority, int64_t claim) {
    Call call(*this);
    if (!call.entered()) {
      connpool_release(pool_, static_cast<connpool_lease_t>(claim));  // the pool outlives its leases
      return -static_cast<int64_t>(CONNPOOL_ECLOSED);
    }
    connpool_lease_t lease = 0;
    void* conn = nullptr;
    const int rc = connpool_acquire_claimed(pool_, priority, timeout_ms, static_cast<connpool_lease_t>(claim),
                                            &lease, &conn);
    if (rc != CONNPOOL_OK) return -static_cast<int64_t>(rc);
    return KeepLease(static_cast<int64_t>(lease), static_cast<int64_t>(reinterpret_cast<intptr_t>(conn)));
  }
  // Keeps tryAcquireRaw's spilled lease in the table (making its chunk). False: it cannot be
  // kept there (out of memory): the language adopts it instead.
  bool keepHandleLease(int64_t handle, int64_t lease) {
    return LeaseByHandle::Fits(handle) && (exclusive_ ? leases_.SetExclusive(handle, static_cast<uint64_t>(lease))
                                                      : leases_.Set(handle, static_cast<uint64_t>(lease)));
  }
  // release() of a lease tryReleaseRaw took from the table.
  int releaseTaken(int64_t lease, bool broken) { return release(lease, broken); }
#endif

  // connpool_pool_explain: one redacted line on why an acquire that ended with `status` was not
  // served (pool state, counts, last create error), for the language's exception message.
  std::string explain(int status) {
    Call call(*this);
    if (!call.entered()) return "pool closed";
    char line[1024] = {0};
    return connpool_pool_explain(pool_, status, line, sizeof line) == CONNPOOL_OK ? std::string(line)
                                                                                  : std::string();
  }

  // Valid after close() for a lease that was out then; the caller releases each lease once.
  int release(int64_t lease, bool broken) {
    if (pool_ == nullptr) return CONNPOOL_ECLOSED;
    const connpool_lease_t l = static_cast<connpool_lease_t>(lease);
    return broken ? connpool_release_broken(pool_, l) : connpool_release(pool_, l);
  }

  int waitReady(int64_t timeout_ms) {
    Call call(*this);
    return call.entered() ? connpool_pool_wait_ready(pool_, timeout_ms) : CONNPOOL_ECLOSED;
  }
  int drain(int64_t deadline_ms) {
    Call call(*this);
    return call.entered() ? connpool_pool_drain(pool_, deadline_ms) : CONNPOOL_ECLOSED;
  }
  // connpool_pool_resize: CONNPOOL_OK, EINVAL (a size out of range or min_idle > max_size),
  // ECLOSED (draining or closed).
  int resize(int min_idle, int max_size) {
    Call call(*this);
    return call.entered() ? connpool_pool_resize(pool_, min_idle, max_size) : CONNPOOL_ECLOSED;
  }
  int state() {
    Call call(*this);
    return call.entered() ? connpool_pool_state(pool_) : CONNPOOL_STATE_CLOSED;
  }
  int httpStatus() {
    Call call(*this);
    return call.entered() ? connpool_pool_http_status(pool_) : 503;
  }
  // "" once closed (or out of memory).
  std::string statsJson() {
    Call call(*this);
    return call.entered() ? Config::TakeString(connpool_pool_stats_json(pool_)) : std::string();
  }
  std::string metricsText() {
    Call call(*this);
    return call.entered() ? Config::TakeString(connpool_pool_metrics_text(pool_)) : std::string();
  }
  bool closed() const { return gate_.closed(); }

  // Idempotent. Wakes waiting acquires (ECLOSED), waits for calls in flight, then frees the
  // pool: idle connections are destroyed and background threads joined before it returns.
  void close() {
    if (!gate_.Close()) {
      gate_.WaitFinished();  // close() racing close(): return only once the pool is freed
      return;
    }
    // Draining first wakes acquires parked in the pool, so the wait below is short.
    connpool_pool_drain(pool_, 0);
    gate_.WaitEmpty();
    connpool_pool_free(pool_);
    gate_.Finish();
  }

 private:
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  friend class Group;  // adds its connpool_pool_t, entering a Call like every other use

  // A call in flight (connpool_util::EntryGate): entered() is false once close() began, and
  // close() frees the pool only after every entered call has left.
  class Call {
   public:
    explicit Call(Pool& p) : scope_(p.gate_) {}
    bool entered() const { return scope_.entered(); }

   private:
    connpool_util::EntryGate::Scope scope_;
  };

  // --- C callbacks: ctx is the Factory. Nothing may unwind into the C library.
  static void CopyMessage(const std::string& msg, char* err, size_t errlen) {
    if (err == nullptr || errlen == 0) return;
    size_t n = msg.size() < errlen - 1 ? msg.size() : errlen - 1;
    std::memcpy(err, msg.data(), n);
    err[n] = '\0';
  }
  static int CreateCb(void* ctx, void** conn_out, char* err, size_t errlen) {
    try {
      CreateResult r;
      static_cast<Factory*>(ctx)->create(r);
      if (!r.decided()) {
        CopyMessage("factory create() reported no result", err, errlen);
        return CONNPOOL_FACTORY_RETRY;
      }
      if (r.code() == CREATE_OK) {
        *conn_out = reinterpret_cast<void*>(static_cast<intptr_t>(r.handle()));
        return CONNPOOL_FACTORY_OK;
      }
      CopyMessage(r.message(), err, errlen);
      return r.code();
    } catch (const std::exception& e) {
      CopyMessage(std::string("factory create() failed: ") + e.what(), err, errlen);
    } catch (...) {
      CopyMessage("factory create() failed with an unknown exception", err, errlen);
    }
    return CONNPOOL_FACTORY_RETRY;
  }
  static void DestroyCb(void* ctx, void* conn) {
    try {
      static_cast<Factory*>(ctx)->destroy(static_cast<int64_t>(reinterpret_cast<intptr_t>(conn)));
    } catch (...) {
    }
  }
  static int ValidateCb(void* ctx, void* conn) {
    try {
      return static_cast<Factory*>(ctx)->validate(static_cast<int64_t>(reinterpret_cast<intptr_t>(conn))) ? 0 : 1;
    } catch (...) {
      return 1;
    }
  }
  static int ResetCb(void* ctx, void* conn) {
    try {
      return static_cast<Factory*>(ctx)->reset(static_cast<int64_t>(reinterpret_cast<intptr_t>(conn))) ? 0 : 1;
    } catch (...) {
      return 1;
    }
  }
  // One pending acquireAsyncTicket. The factory outlives it: the pool calls every pending
  // callback before it frees its factory context.
  struct Ticket {
    connpool_pool_t* pool;
    Factory* factory;
    int64_t id;
  };
  static void TicketDone(void* ud, int status, connpool_lease_t lease, void* conn) {
    Ticket* t = static_cast<Ticket*>(ud);
    try {
      t->factory->acquired(t->id, status, static_cast<int64_t>(lease),
                           static_cast<int64_t>(reinterpret_cast<intptr_t>(conn)));
    } catch (...) {
      // The upcall never reached the language side (its handler catches everything), so
      // nobody owns the lease: give it back rather than leak it.
      if (status == CONNPOOL_OK) connpool_release(t->pool, lease);
    }
    delete t;
  }
  static void FreeCtx(void* ctx) {
    Factory* f = static_cast<Factory*>(ctx);
    try {
      f->released();
    } catch (...) {
    }
    try {
      delete f;
    } catch (...) {
    }
  }

  connpool_pool_t* pool_ = nullptr;
  Factory* factory_ = nullptr;  // owned by the C library (FreeCtx)
  int status_ = CONNPOOL_OK;
  std::string error_;
  connpool_util::EntryGate gate_;
  LeaseByHandle leases_;  // acquireHandleBlocking()'s leases, by handle (C#, Go)
  // max_leases_per_conn is 1: a connection has one lease at a time (LeaseByHandle::SetExclusive).
  bool exclusive_ = false;
  // The config's max_leases_per_conn (default 1), read from its JSON (the C ABI has no getter
  // for one key); 0 when it cannot be read, which keeps the compare-and-swap path.
  static long LeasesPerConnection(const Config* config) {
    if (config == nullptr) return 1;
    const std::string json = config->toJson();
    static const char kKey[] = "\"max_leases_per_conn\":";
    const size_t at = json.find(kKey);
    if (at == std::string::npos) return 0;
    char* end = nullptr;
    const long n = std::strtol(json.c_str() + at + sizeof kKey - 1, &end, 10);
    return end != json.c_str() + at + sizeof kKey - 1 ? n : 0;
  }
  // acquireHandleBlocking()'s result for a served acquire: the handle, its lease kept here; or the
  // handle spilled with its lease parked for takeSpilledLease().
  int64_t KeepLease(int64_t lease, int64_t handle) {
    if (LeaseByHandle::Fits(handle) &&
        (exclusive_ ? leases_.SetExclusive(handle, static_cast<uint64_t>(lease))
                    : leases_.Set(handle, static_cast<uint64_t>(lease))))
      return handle;
    spilled_lease() = lease;
    return -((handle << 8) | kSpilled);
  }
  // The lease of a kSpilled outcome, until takeSpilledLease() on this thread.
  static int64_t& spilled_lease() {
    static thread_local int64_t lease = 0;
    return lease;
  }
};


// Roles and intents of pool groups (CONNPOOL_ROLE_*, CONNPOOL_INTENT_*), for the languages.
enum Role { PRIMARY = CONNPOOL_ROLE_PRIMARY, REPLICA = CONNPOOL_ROLE_REPLICA, SHARD = CONNPOOL_ROLE_SHARD };
enum Intent { WRITE = CONNPOOL_INTENT_WRITE, READ = CONNPOOL_INTENT_READ };

// Owns one connpool_group_t (docs/GROUPS.md). The group does not own its pools: the language
// side keeps its Pool objects in add order, and every acquire reports the member by that
// index, so the lease is released through the member's own Pool (connpool_release). Closing a
// member Pool while it is in the group is safe (the C library detaches it). close() frees the
// group after waiting for calls in flight; calls made afterwards return CONNPOOL_ECLOSED.
class Group {
 public:
  explicit Group(const std::string& name) {
    char err[256];
    status_ = connpool_group_new_ex(name.c_str(), &group_, err, sizeof err);
    if (status_ != CONNPOOL_OK) {
      error_ = err;
      group_ = nullptr;
      gate_.CloseFinished();
    }
  }
  ~Group() { close(); }

  int status() const { return status_; }
  // Why the last add/acquire failed with CONNPOOL_EINVAL (the group's last_error).
  std::string error() {
    std::lock_guard<std::mutex> lk(members_mu_);
    return error_;
  }

  // CONNPOOL_OK, CONNPOOL_EINVAL (see error()) or CONNPOOL_ECLOSED (this group or `pool` closed).
  int add(const std::string& member, int role, Pool& pool) {
    Enter group_call(gate_);
    if (!group_call.entered()) return CONNPOOL_ECLOSED;
    Pool::Call pool_call(pool);
    if (!pool_call.entered() || pool.pool_ == nullptr) return CONNPOOL_ECLOSED;
    std::lock_guard<std::mutex> lk(members_mu_);
    char err[256];
    int rc = connpool_group_add_ex(group_, member.c_str(), role, pool.pool_, err, sizeof err);
    if (rc == CONNPOOL_OK)
      members_.push_back(pool.pool_);
    else
      error_ = err;
    return rc;
  }

  // On CONNPOOL_OK: *lease_out and *handle_out as Pool::acquire, *member_out the index (in
  // add order) of the member the lease must be released to.
  int acquire(int intent, int64_t timeout_ms, int64_t* lease_out, int64_t* handle_out, int* member_out) {
    return Run(lease_out, handle_out, member_out,
               [&](connpool_pool_t** m, connpool_lease_t* l, void** c, char* err, size_t errlen) {
                 return connpool_group_acquire_ex(group_, intent, timeout_ms, m, l, c, err, errlen);
               });
  }
  // The key is a 64-bit pattern (signed only because Java has no unsigned long).
  int acquireKey(int64_t key, int64_t timeout_ms, int64_t* lease_out, int64_t* handle_out, int* member_out) {
    return Run(lease_out, handle_out, member_out,
               [&](connpool_pool_t** m, connpool_lease_t* l, void** c, char* err, size_t errlen) {
                 return connpool_group_acquire_key_ex(group_, static_cast<uint64_t>(key), timeout_ms, m, l, c,
                                                      err, errlen);
               });
  }

  // "" once closed.
  std::string statsJson() {
    Enter call(gate_);
    return call.entered() ? Config::TakeString(connpool_group_stats_json(group_)) : std::string();
  }
  bool closed() const { return gate_.closed(); }

  // Idempotent; the member pools stay open. A close() racing close() returns once the group
  // is freed (the caller may destroy this object next).
  void close() {
    if (!gate_.Close()) {
      gate_.WaitFinished();
      return;
    }
    gate_.WaitEmpty();
    connpool_group_free(group_);
    group_ = nullptr;
    gate_.Finish();
  }

 private:
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  using Enter = connpool_util::EntryGate::Scope;  // a call in flight, as Pool::Call

  template <typename F>
  int Run(int64_t* lease_out, int64_t* handle_out, int* member_out, F&& body) {
    *lease_out = 0;
    *handle_out = 0;
    *member_out = -1;
    Enter call(gate_);
    if (!call.entered()) return CONNPOOL_ECLOSED;
    connpool_pool_t* member = nullptr;
    connpool_lease_t lease = 0;
    void* conn = nullptr;
    char err[256];
    int rc = body(&member, &lease, &conn, err, sizeof err);
    if (rc == CONNPOOL_EINVAL) {
      std::lock_guard<std::mutex> lk(members_mu_);
      error_ = err;
    }
    if (rc != CONNPOOL_OK) return rc;
    std::lock_guard<std::mutex> lk(members_mu_);
    // From the end: a freed pool's address may come back for a pool added later.
    for (size_t i = members_.size(); i-- > 0;) {
      if (members_[i] == member) {
        *member_out = static_cast<int>(i);
        break;
      }
    }
    if (*member_out < 0) {  // cannot happen: every member was added through add()
      connpool_release(member, lease);
      return CONNPOOL_EINTERNAL;
    }
    *lease_out = static_cast<int64_t>(lease);
    *handle_out = static_cast<int64_t>(reinterpret_cast<intptr_t>(conn));
    return CONNPOOL_OK;
  }

  connpool_group_t* group_ = nullptr;
  int status_ = CONNPOOL_OK;
  connpool_util::EntryGate gate_;
  std::mutex members_mu_;
  std::vector<connpool_pool_t*> members_;  // guarded by members_mu_; never dereferenced
  std::string error_;                      // guarded by members_mu_
};

}  // namespace connpool_binding

#endif  // CONNPOOL_BINDINGS_FACADE_HPP
