// SPDX-License-Identifier: Apache-2.0
// connpool_admin_http: the admin endpoints of examples/admin_server as a small library, to
// mount on your own cpp-httplib server next to your application's routes.
//
//   GET <prefix>/healthz  200 while the process is fine (liveness: never depends on the backend)
//   GET <prefix>/readyz   200 when every pool is ready or degraded and no drain has begun,
//                         else 503 (readiness); the JSON body names each pool's state
//   GET <prefix>/stats    {"<pool name>": <connpool_pool_stats_json>, ...}
//   GET <prefix>/metrics  Prometheus text 0.0.4 of every pool, families merged
//
//   httplib::Server svr;
//   connpool_admin::AdminEndpoints admin({{"orders", orders_pool}, {"billing", billing_pool}});
//   admin.Mount(&svr);                 // or admin.Mount(&svr, "/admin")
//   ... on SIGTERM: admin.BeginDrain(); drain the pools; svr.stop();
//
// BeginDrain exists because a load balancer must see the instance leave before its pools stop
// serving: /readyz answers 503 from that moment (also for pools whose own drain has not begun
// yet), while /stats and /metrics keep answering, so stop the HTTP server only after the drain.
//
// The pools are borrowed: they must outlive the server's handlers (stop the server before
// connpool_pool_free). The handlers only call the library's thread-safe read functions, so
// any number of HTTP threads may run them at once.
#ifndef CONNPOOL_EXAMPLES_ADMIN_SERVER_ADMIN_HTTP_H
#define CONNPOOL_EXAMPLES_ADMIN_SERVER_ADMIN_HTTP_H

#include <httplib.h>

#include <atomic>
#include <string>
#include <vector>

#include "connpool/connpool.h"

namespace connpool_admin {

struct NamedPool {
  std::string name;  // valid UTF-8 (it becomes a JSON key); unique
  connpool_pool_t* pool;
};

class AdminEndpoints {
 public:
  explicit AdminEndpoints(std::vector<NamedPool> pools) : pools_(std::move(pools)) {}

  // Registers the four GET routes under `prefix` ("" or e.g. "/admin"). `this` must outlive
  // the server.
  void Mount(httplib::Server* svr, const std::string& prefix = "");

  // From now on /readyz answers 503 with "draining":true. Idempotent; thread-safe.
  void BeginDrain() { draining_.store(true); }
  bool draining() const { return draining_.load(); }

  // The bodies the routes serve, for servers that are not cpp-httplib. `status` gets the
  // HTTP status to answer with.
  std::string ReadyBody(int* status) const;
  std::string StatsBody(int* status) const;
  std::string MetricsBody() const;

  // JSON string literal of `s` (which must be valid UTF-8).
  static std::string JsonString(const std::string& s);

 private:
  const std::vector<NamedPool> pools_;
  std::atomic<bool> draining_{false};
};

}  // namespace connpool_admin

#endif
