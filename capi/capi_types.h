// SPDX-License-Identifier: Apache-2.0
// Definitions of the opaque C types. Each is the C++ object itself, so handles need no
// extra indirection.
#ifndef CONNPOOL_CAPI_TYPES_H
#define CONNPOOL_CAPI_TYPES_H

#include "config/config.h"
#include "connpool/connpool.h"
#include "pool/cancel_token.h"
#include "pool/factory.h"

struct connpool_config_s {
  connpool::Config cfg;
};

// A connpool_cancel_t is the core's token itself.
struct connpool_cancel_s final : public connpool::CancelToken {};

// Adapts the C callbacks to connpool::Factory. The destructor calls ctx_free once.
struct connpool_factory_s final : public connpool::Factory {
  void* ctx = nullptr;
  void (*ctx_free)(void*) = nullptr;
  int (*create)(void*, void**, char*, size_t) = nullptr;
  void (*destroy)(void*, void*) = nullptr;
  int (*validate)(void*, void*) = nullptr;
  int (*reset)(void*, void*) = nullptr;

  ~connpool_factory_s() override;
  connpool::CreateResult Create(void** conn, std::string* err) override;
  void Destroy(void* conn) override { destroy(ctx, conn); }
  bool HasValidate() const override { return validate != nullptr; }
  bool Validate(void* conn) override { return validate(ctx, conn) == 0; }
  bool HasReset() const override { return reset != nullptr; }
  bool Reset(void* conn) override { return reset(ctx, conn) == 0; }
};

#endif
