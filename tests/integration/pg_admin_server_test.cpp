// SPDX-License-Identifier: Apache-2.0
// examples/admin_server on a real PostgreSQL (--pg): what a load balancer and Prometheus see
// while the server restarts and while the process drains after SIGTERM. The admin server runs
// as its own process, as in production; the test talks to it over HTTP only.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "pg_test_util.h"
#include "prom_parser.h"

namespace connpool_it {
namespace {

// One admin_server child: started with `args`, its stdout read until it says where it
// listens; killed in the destructor if still running.
class AdminProcess {
 public:
  bool Start(const std::vector<std::string>& args, std::string* err) {
    int out[2];
    if (pipe(out) != 0) return Fail(err, "pipe");
    stderr_path_ = ::testing::TempDir() + "admin_server_" + std::to_string(getpid()) + ".err";
    pid_ = fork();
    if (pid_ < 0) return Fail(err, "fork");
    if (pid_ == 0) {
      dup2(out[1], 1);
      int e = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (e >= 0) dup2(e, 2);
      close(out[0]);
      std::vector<char*> argv;
      std::string bin = CONNPOOL_ADMIN_SERVER;
      argv.push_back(&bin[0]);
      std::vector<std::string> copy = args;
      for (std::string& a : copy) argv.push_back(&a[0]);
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    // Blocking read of the first line: the server prints it once it accepts connections (or
    // exits, closing the pipe).
    FILE* f = fdopen(out[0], "r");
    char line[256] = {0};
    bool got = f != nullptr && fgets(line, sizeof line, f) != nullptr;
    if (f != nullptr) fclose(f);
    if (!got || sscanf(line, "listening on http://127.0.0.1:%d", &port_) != 1)
      return Fail(err, std::string("no listening line: '") + line + "'\n" + Stderr());
    return true;
  }

  void Signal(int sig) { kill(pid_, sig); }

  // Sends `sig` and waits for the exit; returns the exit status (-1: not a normal exit).
  int SignalAndWait(int sig) {
    Signal(sig);
    return Wait();
  }

  int Wait() {
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  bool Running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

  std::string Stderr() const {
    std::string s;
    FILE* f = fopen(stderr_path_.c_str(), "r");
    if (f == nullptr) return s;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    fclose(f);
    return s.size() > 6000 ? s.substr(s.size() - 6000) : s;
  }

  int port() const { return port_; }

  ~AdminProcess() {
    if (pid_ > 0) SignalAndWait(SIGKILL);
    if (!stderr_path_.empty()) unlink(stderr_path_.c_str());
  }

 private:
  static bool Fail(std::string* err, const std::string& what) {
    *err = what;
    return false;
  }
  pid_t pid_ = -1;
  int port_ = 0;
  std::string stderr_path_;
};

struct Answer {
  int status = 0;  // 0: no answer
  std::string body;
};

Answer Get(int port, const char* path) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2, 0);
  c.set_read_timeout(5, 0);
  auto r = c.Get(path);
  if (!r) return {};
  return {r->status, r->body};
}

// /metrics must parse strictly and be semantically sound every time it is read.
void ExpectValidMetrics(int port, const char* when) {
  Answer m = Get(port, "/metrics");
  ASSERT_EQ(m.status, 200) << when;
  prom::Exposition e;
  std::string err;
  ASSERT_TRUE(prom::Parse(m.body, &e, &err)) << when << ": " << err << "\n" << m.body;
  ASSERT_TRUE(prom::CheckSemantics(e, &err)) << when << ": " << err << "\n" << m.body;
  ASSERT_NE(e.Find("connpool_up"), nullptr) << when;
}

class PgAdminServerTest : public PgTest {};

TEST_F(PgAdminServerTest, ReadyzFollowsAServerRestartAndMetricsStayValid) {
  StartServer();
  AdminProcess admin;
  std::string err;
  ASSERT_TRUE(admin.Start({"--port", "0", "--pool", "app", "--pg", pg_.Dsn(), "--traffic", "--config", "min_idle=2",
                           "--config", "retry_initial_ms=50", "--config", "retry_max_ms=200", "--config",
                           "unavailable_after_ms=500", "--config", "validate_interval_ms=100"},
                          &err))
      << err;
  const int port = admin.port();
  auto ready_is = [&](int want) { return Get(port, "/readyz").status == want; };

  ASSERT_TRUE(WaitUntil([&] { return ready_is(200); }, 15000, 20)) << Get(port, "/readyz").body << admin.Stderr();
  EXPECT_EQ(Get(port, "/healthz").status, 200);
  ExpectValidMetrics(port, "ready");

  StopServer();
  // Every poll also reads /metrics: the text must stay valid through the outage.
  bool metrics_ok = true;
  ASSERT_TRUE(WaitUntil(
      [&] {
        ExpectValidMetrics(port, "during the outage");
        metrics_ok = metrics_ok && !::testing::Test::HasFatalFailure();
        return ready_is(503);
      },
      15000, 20))
      << Get(port, "/readyz").body << admin.Stderr();
  EXPECT_NE(Get(port, "/readyz").body.find("\"state\":\"unavailable\""), std::string::npos)
      << Get(port, "/readyz").body;
  EXPECT_EQ(Get(port, "/healthz").status, 200) << "liveness must not depend on the database";
  ExpectValidMetrics(port, "unavailable");

  StartServer();
  ASSERT_TRUE(WaitUntil(
      [&] {
        ExpectValidMetrics(port, "during the recovery");
        return ready_is(200);
      },
      15000, 20))
      << Get(port, "/readyz").body << admin.Stderr();
  EXPECT_TRUE(metrics_ok);
  Answer stats = Get(port, "/stats");
  EXPECT_EQ(stats.status, 200);
  EXPECT_NE(stats.body.find("\"app\":{"), std::string::npos) << stats.body;

  EXPECT_EQ(admin.SignalAndWait(SIGTERM), 0) << admin.Stderr();
}

// SIGTERM: /readyz answers 503 with "draining":true while /stats and /metrics keep answering,
// and HTTP stops only after the drain (the grace period makes the window observable; without
// it the drain of an idle pool is over in microseconds).
TEST_F(PgAdminServerTest, SigtermKeepsServingReadyz503UntilTheDrainEnds) {
  StartServer();
  AdminProcess admin;
  std::string err;
  ASSERT_TRUE(admin.Start({"--port", "0", "--pg", pg_.Dsn(), "--traffic", "--drain-grace-ms", "1500"}, &err)) << err;
  const int port = admin.port();
  ASSERT_TRUE(WaitUntil([&] { return Get(port, "/readyz").status == 200; }, 15000, 20)) << admin.Stderr();

  admin.Signal(SIGTERM);
  ASSERT_TRUE(WaitUntil([&] { return Get(port, "/readyz").status == 503; }, 1000, 5)) << admin.Stderr();
  Answer ready = Get(port, "/readyz");
  EXPECT_NE(ready.body.find("\"draining\":true"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find("\"ready\":false"), std::string::npos) << ready.body;
  EXPECT_EQ(Get(port, "/stats").status, 200);
  ExpectValidMetrics(port, "draining");
  EXPECT_EQ(admin.Wait(), 0) << admin.Stderr();
  std::string log = admin.Stderr();
  EXPECT_NE(log.find("drain done, stopping HTTP"), std::string::npos) << log;
  EXPECT_NE(log.find("-> draining"), std::string::npos) << "the pool itself drained\n" << log;
}

}  // namespace
}  // namespace connpool_it
