// SPDX-License-Identifier: Apache-2.0
// The admin endpoints (admin_http.h): readiness, stats and metrics bodies over borrowed pools.
#include "admin_http.h"

#include <cstdio>

#include "exposition.h"

namespace connpool_admin {
namespace {

std::string TakeText(char* p) {
  std::string s = p != nullptr ? p : "";
  connpool_free(p);
  return s;
}

}  // namespace

std::string AdminEndpoints::JsonString(const std::string& s) {
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

std::string AdminEndpoints::ReadyBody(int* status) const {
  // Read the flag once: a body saying "draining":false with a 503 caused by it would confuse
  // whoever reads the log of a rolling deploy.
  const bool draining = draining_.load();
  bool all = !draining;
  std::string body = "{\"pools\":[";
  for (size_t i = 0; i < pools_.size(); ++i) {
    int s = connpool_pool_http_status(pools_[i].pool);
    all = all && s == 200;
    body += std::string(i ? "," : "") + "{\"name\":" + JsonString(pools_[i].name) + ",\"state\":\"" +
            connpool_state_name(connpool_pool_state(pools_[i].pool)) + "\",\"http_status\":" +
            std::to_string(s) + "}";
  }
  body += std::string("],\"draining\":") + (draining ? "true" : "false") + ",\"ready\":" + (all ? "true" : "false") +
          "}\n";
  *status = all ? 200 : 503;
  return body;
}

std::string AdminEndpoints::StatsBody(int* status) const {
  std::string body = "{";
  for (size_t i = 0; i < pools_.size(); ++i) {
    std::string stats = TakeText(connpool_pool_stats_json(pools_[i].pool));
    if (stats.empty()) {
      *status = 500;
      return "stats unavailable (out of memory)\n";
    }
    body += (i ? "," : "") + JsonString(pools_[i].name) + ":" + stats;
  }
  *status = 200;
  return body + "}\n";
}

std::string AdminEndpoints::MetricsBody() const {
  demo::ExpositionMerger merged;
  for (const NamedPool& p : pools_) merged.Add(TakeText(connpool_pool_metrics_text(p.pool)));
  return merged.Text();
}

void AdminEndpoints::Mount(httplib::Server* svr, const std::string& prefix) {
  svr->Get(prefix + "/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  svr->Get(prefix + "/readyz", [this](const httplib::Request&, httplib::Response& res) {
    int status = 0;
    std::string body = ReadyBody(&status);
    res.status = status;
    res.set_content(body, "application/json");
  });
  svr->Get(prefix + "/stats", [this](const httplib::Request&, httplib::Response& res) {
    int status = 0;
    std::string body = StatsBody(&status);
    res.status = status;
    res.set_content(body, status == 200 ? "application/json" : "text/plain");
  });
  svr->Get(prefix + "/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(MetricsBody(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace connpool_admin
