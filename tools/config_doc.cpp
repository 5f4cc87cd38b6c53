// SPDX-License-Identifier: Apache-2.0
// Prints the configuration table of docs/CONFIGURATION.md from the key table in core/config/config.cpp,
// so the doc cannot drift from the code (tests/check_config_doc.cmake compares them).
//   config_doc > table.md
#include <cstdio>

#include "config/config.h"

int main() {
  size_t n;
  const connpool::KeySpec* keys = connpool::ConfigKeys(&n);
  connpool::Config defaults;
  std::printf("| key | default | allowed | meaning |\n|---|---|---|---|\n");
  for (size_t i = 0; i < n; ++i) {
    std::printf("| `%s` | `%s` | %s | %s |\n", keys[i].name,
                connpool::ConfigValueText(defaults, keys[i]).c_str(),
                connpool::RangeText(keys[i]).c_str(), keys[i].help);
  }
  return 0;
}
