// SPDX-License-Identifier: Apache-2.0
// The pool's view of the user's factory: the only code that talks to a backend.
// The pool calls these with no lock held and turns any exception into a failure.
#ifndef CONNPOOL_CORE_FACTORY_H
#define CONNPOOL_CORE_FACTORY_H

#include <string>

namespace connpool {

enum class CreateResult { kOk = 0, kRetry = 1, kFatal = 2 };

class Factory {
 public:
  virtual ~Factory() = default;  // releases the user's context (ctx_free) exactly once
  // Opens a connection into *conn. On failure, `err` says why (it will be redacted).
  virtual CreateResult Create(void** conn, std::string* err) = 0;
  virtual void Destroy(void* conn) = 0;
  virtual bool HasValidate() const { return false; }
  // True when `conn` is usable.
  virtual bool Validate(void* /*conn*/) { return true; }
  virtual bool HasReset() const { return false; }
  // True when `conn` is usable after its session state was reset.
  virtual bool Reset(void* /*conn*/) { return true; }
};

}  // namespace connpool

#endif
