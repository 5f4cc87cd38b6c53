// SPDX-License-Identifier: Apache-2.0
// Merges the Prometheus texts of several pools into one exposition. Each pool's text has the
// same families (with its own pool="..." label); the format allows each family's # HELP and
// # TYPE only once and its samples only in one contiguous block, so a plain concatenation
// would be invalid. Families keep the order in which they first appear.
#ifndef CONNPOOL_EXAMPLES_ADMIN_SERVER_EXPOSITION_H
#define CONNPOOL_EXAMPLES_ADMIN_SERVER_EXPOSITION_H

#include <map>
#include <string>
#include <vector>

namespace demo {

class ExpositionMerger {
 public:
  // Adds one text as connpool_pool_metrics_text writes it: each family starts with its
  // "# HELP name ..." line, followed by "# TYPE" and its samples.
  void Add(const std::string& text) {
    size_t current = kNone;  // index, not a pointer: families_ may grow
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      std::string line = text.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.empty()) continue;
      if (line.rfind("# HELP ", 0) == 0) {
        std::string name = line.substr(7, line.find(' ', 7) - 7);
        auto it = index_.find(name);
        if (it == index_.end()) {
          current = families_.size();
          index_[name] = current;
          families_.push_back(Family{line, "", ""});
        } else {
          current = it->second;
        }
      } else if (current == kNone) {
        continue;  // nothing comes before the first family in the library's output
      } else if (line.rfind("# TYPE ", 0) == 0) {
        if (families_[current].type.empty()) families_[current].type = line;
      } else {
        families_[current].samples += line;
        families_[current].samples += '\n';
      }
    }
  }

  std::string Text() const {
    std::string out;
    for (const Family& f : families_) {
      out += f.help + "\n";
      if (!f.type.empty()) out += f.type + "\n";
      out += f.samples;
    }
    return out;
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  struct Family {
    std::string help;
    std::string type;
    std::string samples;
  };
  std::vector<Family> families_;
  std::map<std::string, size_t> index_;
};

}  // namespace demo

#endif
