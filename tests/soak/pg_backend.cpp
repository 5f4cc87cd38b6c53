// SPDX-License-Identifier: Apache-2.0
// The soak's PostgreSQL backend: a throwaway cluster from the integration harness
// (tests/integration/pg_cluster.h: own directory, own loopback port, watchdog cleanup) and
// the libpq factory of examples/postgres. Kill is `pg_ctl -m immediate stop`, so sessions die
// without a clean goodbye and the pool has to find out on use or validation.
#include <libpq-fe.h>

#include <atomic>
#include <mutex>

#include "pg_cluster.h"
#include "pg_factory.h"
#include "soak_backend.h"

namespace connpool_soak {
namespace {

class PgBackend final : public SoakBackend {
 public:
  const char* name() const override { return "postgres"; }

  bool Setup(std::string* err) override {
    std::string why = connpool_it::PgCluster::WhyUnsupported();
    if (!why.empty()) {
      *err = why;
      return false;
    }
    if (!pg_.Init(err) || !pg_.Start(err)) return false;
    dsn_ = pg_.Dsn();
    up_ = true;
    return true;
  }

  connpool_factory_t* NewFactory() override { return connpool_pg_factory_new(dsn_.c_str(), 2); }

  bool Kill(std::string* err) override {
    std::lock_guard<std::mutex> lk(mu_);
    up_ = false;
    return pg_.Stop(err);
  }
  bool Restart(std::string* err) override {
    std::lock_guard<std::mutex> lk(mu_);
    up_ = pg_.Start(err);
    return up_;
  }
  bool up() const override { return up_.load(); }

  bool Query(void* conn, int kind) override {
    static const char* const kSql[] = {
        "SELECT 1",
        "SELECT pg_sleep(0.002)",
        "SET application_name = 'connpool-soak'",
        "BEGIN; SELECT 1",  // left open: the pool's reset must roll it back
    };
    PGconn* pg = static_cast<PGconn*>(conn);
    PGresult* r = PQexec(pg, kSql[kind & 3]);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
    PQclear(r);
    return ok && PQstatus(pg) == CONNECTION_OK;
  }

  long ServerSessions() override {
    std::lock_guard<std::mutex> lk(mu_);
    if (!pg_.running()) return -1;
    std::string err;
    return pg_.ClientBackends(&err);
  }

  bool NothingLeft(std::string* why) override {
    std::lock_guard<std::mutex> lk(mu_);
    std::string err;
    if (!pg_.running()) {
      up_ = pg_.Start(&err);
      if (!up_) {
        *why = "cannot restart the server to count sessions: " + err;
        return false;
      }
    }
    long n = pg_.ClientBackends(&err);
    if (n != 0) {
      *why = n < 0 ? "cannot count sessions: " + err : std::to_string(n) + " server sessions left open";
      return false;
    }
    return true;
  }

 private:
  std::mutex mu_;  // the cluster is driven from one thread at a time
  std::atomic<bool> up_{false};
  connpool_it::PgCluster pg_;
  std::string dsn_;
};

}  // namespace

std::unique_ptr<SoakBackend> NewPgBackend() { return std::make_unique<PgBackend>(); }

}  // namespace connpool_soak
