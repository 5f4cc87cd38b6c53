// SPDX-License-Identifier: Apache-2.0
// A throwaway PostgreSQL cluster for integration tests: its own temp directory, its own free
// loopback port, its own Unix socket directory, so any number of tests can run in parallel
// with each other and with the rest of the suite.
//
// Requirements: PostgreSQL server binaries (initdb, pg_ctl, postgres); CONNPOOL_PG_BINDIR
// names their directory, else /usr/lib/postgresql/<newest>/bin or `pg_config --bindir`.
// initdb refuses to run as root, so when the test runs as root every server command runs as
// the `postgres` user through runuser, on a directory that user owns.
//
// Guarantees:
//   * Init() makes the cluster (initdb -A trust -U app) but does not start it, so a test can
//     create a pool against a server that is down. The port is chosen by binding port 0 on
//     127.0.0.1; if another process takes it before the first Start(), Start() picks another,
//     unless a DSN was already handed out (then the port is fixed and Start() fails).
//   * Start() is `pg_ctl -w start` and Stop() is `pg_ctl -w -m immediate stop` (an outage:
//     backends die without closing their sockets cleanly). Both return once done.
//   * A role `secure_user` with a random password must authenticate with scram-sha-256
//     (pg_hba.conf), for the bad-password cases; `app` is trusted.
//   * Destroy() (also run by the destructor) stops the server and removes the directory. A
//     watchdog process does the same if the test process dies first (crash, abort, ctest
//     timeout kill), so no server or directory outlives the test.
// Not thread-safe: drive a cluster from one thread (the pools under test use their own).
#ifndef CONNPOOL_TESTS_INTEGRATION_PG_CLUSTER_H
#define CONNPOOL_TESTS_INTEGRATION_PG_CLUSTER_H

#include <libpq-fe.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace connpool_it {

class PgCluster {
 public:
  static constexpr const char* kAppUser = "app";
  static constexpr const char* kSecureUser = "secure_user";

  PgCluster() = default;
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // Why clusters cannot be made here ("" when they can): no server binaries, or root
  // without a `postgres` user.
  static std::string WhyUnsupported();

  bool Init(std::string* err);
  bool Start(std::string* err);
  bool Stop(std::string* err);
  void Destroy();

  // Extra server settings for every later Start(), e.g. "-c max_connections=5" (appended to
  // pg_ctl's -o after the harness's own listen/port/socket options).
  void set_server_options(const std::string& opts) { server_options_ = opts; }

  bool running() const { return running_; }
  int port() const { return port_; }
  // The data directory (holds postmaster.pid while the server runs).
  std::string data_dir() const { return dir_ + "/data"; }
  const std::string& secure_password() const { return secure_password_; }
  // A libpq connection string for 127.0.0.1:port, database postgres. Fixes the port.
  std::string Dsn(const std::string& user = kAppUser, const std::string& password = "");

  // Runs SQL on the harness's own admin session (user app), reconnecting after restarts.
  bool Exec(const std::string& sql, std::string* err);
  // Client backends on the server other than the admin session itself; -1 on error.
  long ClientBackends(std::string* err);
  // The last `bytes` of the server log, for failure messages.
  std::string LogTail(size_t bytes = 4000) const;

 private:
  // Runs a server binary (as postgres when root) with output appended to cmd.log.
  bool RunPg(const std::string& tool, const std::vector<std::string>& args, std::string* err);
  bool StartWatchdog(std::string* err);
  bool StartOnce(std::string* err);
  PGconn* Admin(std::string* err);
  void CloseAdmin();

  std::string bindir_;
  std::string dir_;      // the temp root: data/, sock/, server.log, cmd.log
  int port_ = 0;
  bool port_fixed_ = false;
  bool running_ = false;
  bool role_created_ = false;
  bool as_postgres_ = false;
  uid_t pg_uid_ = 0;
  gid_t pg_gid_ = 0;
  std::string secure_password_;
  std::string server_options_;
  int watchdog_fd_ = -1;  // write end of the watchdog's stdin
  pid_t watchdog_pid_ = -1;
  PGconn* admin_ = nullptr;
};

}  // namespace connpool_it

#endif
