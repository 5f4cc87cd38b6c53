// SPDX-License-Identifier: Apache-2.0
// prom_lint: checks Prometheus text (format 0.0.4) on stdin with the strict parser of
// prom_parser.h. Used by the admin server's test on /metrics. Usage:
//   prom_lint [--label NAME=VALUE]...   every sample must carry each NAME; with =VALUE, the
//                                       union of its values must include VALUE
// Exits 0 when valid, 1 with a message otherwise.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include "prom_parser.h"

int main(int argc, char** argv) {
  std::multimap<std::string, std::string> wanted;  // label -> value ("" = only present)
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--label" && i + 1 < argc) {
      std::string kv = argv[++i];
      size_t eq = kv.find('=');
      wanted.emplace(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
    } else {
      fprintf(stderr, "usage: prom_lint [--label NAME[=VALUE]]... < metrics.txt\n");
      return 2;
    }
  }
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  prom::Exposition e;
  std::string err;
  if (!prom::Parse(text, &e, &err) || !prom::CheckSemantics(e, &err)) {
    fprintf(stderr, "prom_lint: %s\n", err.c_str());
    return 1;
  }
  std::map<std::string, std::set<std::string>> values;
  size_t samples = 0;
  for (const prom::Family& f : e.families) {
    for (const prom::Sample& s : f.samples) {
      ++samples;
      for (const auto& w : wanted) {
        const std::string* v = s.Label(w.first);
        if (v == nullptr) {
          fprintf(stderr, "prom_lint: line %d (%s) has no label %s\n", s.line, s.name.c_str(), w.first.c_str());
          return 1;
        }
        values[w.first].insert(*v);
      }
    }
  }
  for (const auto& w : wanted) {
    if (!w.second.empty() && !values[w.first].count(w.second)) {
      fprintf(stderr, "prom_lint: no sample with %s=\"%s\"\n", w.first.c_str(), w.second.c_str());
      return 1;
    }
  }
  printf("prom_lint: %zu families, %zu samples, valid\n", e.families.size(), samples);
  return 0;
}
