// SPDX-License-Identifier: Apache-2.0
// An in-process backend for the soak: a "server" with an up/down switch and an epoch that a
// restart bumps. Connections remember the epoch they were opened in, so after an outage they
// fail their next use, as sessions to a killed PostgreSQL do. Creates while down fail with
// CONNPOOL_FACTORY_RETRY. Every connection is tracked, so a leak or a double destroy shows.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#include "soak_backend.h"

namespace connpool_soak {
namespace {

struct Conn {
  long epoch;
  bool in_transaction = false;
};

class FakeBackend final : public SoakBackend {
 public:
  const char* name() const override { return "fake"; }
  bool Setup(std::string*) override { return true; }

  connpool_factory_t* NewFactory() override {
    connpool_factory_t* f = connpool_factory_new(this, nullptr, &FakeBackend::Create, &FakeBackend::Destroy);
    connpool_factory_set_validate(f, &FakeBackend::Validate);
    connpool_factory_set_reset(f, &FakeBackend::Reset);
    return f;
  }

  bool Kill(std::string*) override {
    up_ = false;
    epoch_++;
    return true;
  }
  bool Restart(std::string*) override {
    up_ = true;
    return true;
  }
  bool up() const override { return up_.load(); }

  bool Query(void* conn, int kind) override {
    Conn* c = static_cast<Conn*>(conn);
    if (!Usable(c)) return false;
    if (kind == 1) std::this_thread::yield();  // a "slow" statement
    if (kind == 3) c->in_transaction = true;
    return Usable(c);
  }

  long ServerSessions() override {
    if (!up_) return -1;
    std::lock_guard<std::mutex> lk(mu_);
    long n = 0;
    for (Conn* c : live_) n += c->epoch == epoch_.load();
    return n;
  }

  bool NothingLeft(std::string* why) override {
    std::lock_guard<std::mutex> lk(mu_);
    if (!live_.empty()) {
      *why = std::to_string(live_.size()) + " fake connections never destroyed";
      return false;
    }
    return true;
  }

 private:
  bool Usable(const Conn* c) const { return up_.load() && c->epoch == epoch_.load(); }

  static int Create(void* ctx, void** out, char* err, size_t errlen) {
    auto* b = static_cast<FakeBackend*>(ctx);
    if (!b->up_) {
      snprintf(err, errlen, "connection refused (fake server down)");
      return CONNPOOL_FACTORY_RETRY;
    }
    Conn* c = new Conn{b->epoch_.load()};
    std::lock_guard<std::mutex> lk(b->mu_);
    b->live_.insert(c);
    *out = c;
    return CONNPOOL_FACTORY_OK;
  }
  static void Destroy(void* ctx, void* conn) {
    auto* b = static_cast<FakeBackend*>(ctx);
    Conn* c = static_cast<Conn*>(conn);
    {
      std::lock_guard<std::mutex> lk(b->mu_);
      if (b->live_.erase(c) != 1) {
        fprintf(stderr, "soak: fake connection destroyed twice\n");
        abort();
      }
    }
    delete c;
  }
  static int Validate(void* ctx, void* conn) {
    return static_cast<FakeBackend*>(ctx)->Usable(static_cast<Conn*>(conn)) ? 0 : 1;
  }
  static int Reset(void* ctx, void* conn) {
    Conn* c = static_cast<Conn*>(conn);
    c->in_transaction = false;
    return static_cast<FakeBackend*>(ctx)->Usable(c) ? 0 : 1;
  }

  std::atomic<bool> up_{true};
  std::atomic<long> epoch_{0};
  std::mutex mu_;
  std::set<Conn*> live_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<SoakBackend> NewFakeBackend() { return std::make_unique<FakeBackend>(); }

}  // namespace connpool_soak
