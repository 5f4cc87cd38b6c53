// admin_server: an HTTP admin endpoint over one or more connection pools (cpp-httplib).
//
//   GET /healthz  200 while the process is fine (liveness: never depends on the backend)
//   GET /readyz   200 when every pool is ready or degraded, else 503 (readiness); the JSON body
//                 names each pool's state and HTTP status
//   GET /stats    {"<pool name>": <connpool_pool_stats_json>, ...}
//   GET /metrics  Prometheus text 0.0.4 of every pool, families merged
//
// The pools talk to a demo backend (demo_backend.h) that stands in for a real database: it is
// up while a flag file exists, so `rm` and `touch` simulate an outage and a recovery.
//
// Usage: admin_server [--bind ADDR] [--port N] [--pool NAME]... [--backend-flag PATH]
//                     [--backend-flag-for NAME=PATH]... [--config KEY=VALUE]... [--traffic]
//   --bind ADDR        listen address (default 127.0.0.1: loopback only)
//   --port N           port; 0 picks a free one (default 8080). The server prints
//                      "listening on http://ADDR:PORT" on stdout once it accepts connections.
//   --pool NAME        a pool (repeatable; default one pool named "default")
//   --backend-flag P   the demo backend of every pool is up while file P exists (default: always)
//   --backend-flag-for NAME=P   the same, for one pool
//   --config K=V       a connpool setting for every pool (docs/CONFIGURATION.md), e.g.
//                      --config unavailable_after_ms=1000
//   --traffic          one thread per pool borrows a connection every 10 ms (to watch metrics move)
// SIGINT or SIGTERM stops the server, drains the pools (up to 5 s) and exits 0.
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "connpool/connpool.h"
#include "demo_backend.h"
#include "exposition.h"

namespace {

struct Options {
  std::string bind = "127.0.0.1";
  int port = 8080;
  std::vector<std::string> pools;
  std::string backend_flag;
  std::map<std::string, std::string> backend_flag_for;
  std::vector<std::pair<std::string, std::string>> config;
  bool traffic = false;
};

struct NamedPool {
  std::string name;
  connpool_pool_t* pool;
};

void Usage(const char* argv0) {
  fprintf(stderr,
          "usage: %s [--bind ADDR] [--port N] [--pool NAME]... [--backend-flag PATH]\n"
          "          [--backend-flag-for NAME=PATH]... [--config KEY=VALUE]... [--traffic]\n",
          argv0);
}

bool SplitKeyValue(const std::string& s, std::string* k, std::string* v) {
  size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  *k = s.substr(0, eq);
  *v = s.substr(eq + 1);
  return true;
}

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v, k, kv;
    if (a == "--bind" && value(&o->bind)) continue;
    if (a == "--port" && value(&v)) {
      char* end = nullptr;
      long p = strtol(v.c_str(), &end, 10);
      if (*end != '\0' || p < 0 || p > 65535) return false;
      o->port = static_cast<int>(p);
      continue;
    }
    if (a == "--pool" && value(&v)) {
      o->pools.push_back(v);
      continue;
    }
    if (a == "--backend-flag" && value(&o->backend_flag)) continue;
    if (a == "--backend-flag-for" && value(&kv) && SplitKeyValue(kv, &k, &v)) {
      o->backend_flag_for[k] = v;
      continue;
    }
    if (a == "--config" && value(&kv) && SplitKeyValue(kv, &k, &v)) {
      o->config.emplace_back(k, v);
      continue;
    }
    if (a == "--traffic") {
      o->traffic = true;
      continue;
    }
    return false;
  }
  if (o->pools.empty()) o->pools.push_back("default");
  return true;
}

// JSON string literal for text we put into bodies ourselves (pool names from the command line).
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Well-formed UTF-8 (pool names become JSON keys; the library sanitises its own output, but
// the names we print ourselves must be valid too).
bool IsUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

const char* LevelName(int level) {
  switch (level) {
    case CONNPOOL_LOG_ERROR: return "ERROR";
    case CONNPOOL_LOG_WARN: return "WARN";
    case CONNPOOL_LOG_INFO: return "INFO";
    default: return "DEBUG";
  }
}

void LogToStderr(void*, int level, const char* msg) { fprintf(stderr, "[%s] %s\n", LevelName(level), msg); }

connpool_pool_t* MakePool(const Options& o, const std::string& name) {
  connpool_config_t* cfg = connpool_config_new();
  if (cfg == nullptr) return nullptr;
  char err[512];
  bool ok = connpool_config_set(cfg, "name", name.c_str(), err, sizeof err) == CONNPOOL_OK;
  for (size_t i = 0; ok && i < o.config.size(); ++i)
    ok = connpool_config_set(cfg, o.config[i].first.c_str(), o.config[i].second.c_str(), err, sizeof err) ==
         CONNPOOL_OK;
  connpool_pool_t* pool = nullptr;
  if (ok) {
    auto it = o.backend_flag_for.find(name);
    std::string flag = it != o.backend_flag_for.end() ? it->second : o.backend_flag;
    int rc = connpool_pool_new(cfg, demo::NewFactory(flag), &pool, err, sizeof err);
    ok = rc == CONNPOOL_OK;
  }
  if (!ok) fprintf(stderr, "admin_server: pool %s: %s\n", name.c_str(), err);
  connpool_config_free(cfg);
  return pool;
}

std::string TakeText(char* p) {
  std::string s = p != nullptr ? p : "";
  connpool_free(p);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!ParseOptions(argc, argv, &opt)) {
    Usage(argv[0]);
    return 2;
  }
  for (size_t i = 0; i < opt.pools.size(); ++i) {
    if (!IsUtf8(opt.pools[i])) {
      fprintf(stderr, "admin_server: pool name %zu is not valid UTF-8\n", i + 1);
      return 2;
    }
    for (size_t j = 0; j < i; ++j)
      if (opt.pools[i] == opt.pools[j]) {
        fprintf(stderr, "admin_server: pool %s given twice\n", opt.pools[i].c_str());
        return 2;
      }
  }

  // SIGINT/SIGTERM are taken by a dedicated thread (sigwait), not a handler: stopping the
  // server is not async-signal-safe. Block them before any thread starts so all inherit it.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  connpool_set_log_callback(LogToStderr, nullptr);
  std::vector<NamedPool> pools;
  for (const std::string& name : opt.pools) {
    connpool_pool_t* p = MakePool(opt, name);
    if (p == nullptr) {
      for (NamedPool& np : pools) connpool_pool_free(np.pool);
      return 1;
    }
    pools.push_back({name, p});
  }

  httplib::Server svr;
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  svr.Get("/readyz", [&pools](const httplib::Request&, httplib::Response& res) {
    bool all = true;
    std::string body = "{\"pools\":[";
    for (size_t i = 0; i < pools.size(); ++i) {
      int status = connpool_pool_http_status(pools[i].pool);
      all = all && status == 200;
      body += std::string(i ? "," : "") + "{\"name\":" + JsonString(pools[i].name) + ",\"state\":\"" +
              connpool_state_name(connpool_pool_state(pools[i].pool)) + "\",\"http_status\":" +
              std::to_string(status) + "}";
    }
    body += std::string("],\"ready\":") + (all ? "true" : "false") + "}\n";
    res.status = all ? 200 : 503;
    res.set_content(body, "application/json");
  });
  svr.Get("/stats", [&pools](const httplib::Request&, httplib::Response& res) {
    std::string body = "{";
    for (size_t i = 0; i < pools.size(); ++i) {
      std::string stats = TakeText(connpool_pool_stats_json(pools[i].pool));
      if (stats.empty()) {
        res.status = 500;
        res.set_content("stats unavailable (out of memory)\n", "text/plain");
        return;
      }
      body += (i ? "," : "") + JsonString(pools[i].name) + ":" + stats;
    }
    res.set_content(body + "}\n", "application/json");
  });
  svr.Get("/metrics", [&pools](const httplib::Request&, httplib::Response& res) {
    demo::ExpositionMerger merged;
    for (const NamedPool& p : pools) merged.Add(TakeText(connpool_pool_metrics_text(p.pool)));
    res.set_content(merged.Text(), "text/plain; version=0.0.4; charset=utf-8");
  });

  int port = opt.port;
  if (port == 0) {
    port = svr.bind_to_any_port(opt.bind);
  } else if (!svr.bind_to_port(opt.bind, port)) {
    port = -1;
  }
  if (port <= 0) {
    fprintf(stderr, "admin_server: cannot listen on %s:%d\n", opt.bind.c_str(), opt.port);
    for (NamedPool& np : pools) connpool_pool_free(np.pool);
    return 1;
  }

  std::thread stopper([&svr, &stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    svr.stop();
  });

  std::atomic<bool> stopping{false};
  std::vector<std::thread> traffic;
  if (opt.traffic) {
    for (NamedPool& np : pools)
      traffic.emplace_back([&stopping, pool = np.pool] {
        while (!stopping.load()) {
          connpool_lease_t lease;
          if (connpool_acquire(pool, 100, &lease, nullptr) == CONNPOOL_OK) connpool_release(pool, lease);
          std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a request every 10 ms
        }
      });
  }

  printf("listening on http://%s:%d\n", opt.bind.c_str(), port);
  fflush(stdout);
  bool listened = svr.listen_after_bind();  // returns after svr.stop()

  stopping = true;
  for (std::thread& t : traffic) t.join();
  if (!listened) pthread_kill(stopper.native_handle(), SIGTERM);  // wake the stopper
  stopper.join();
  int rc = listened ? 0 : 1;
  for (NamedPool& np : pools) {
    if (connpool_pool_drain(np.pool, 5000) != CONNPOOL_OK) rc = 1;
    connpool_pool_free(np.pool);
  }
  connpool_set_log_callback(nullptr, nullptr);
  fprintf(stderr, "admin_server: stopped\n");
  return rc;
}
