// SPDX-License-Identifier: Apache-2.0
// The fuzzers' redaction oracle. Redaction (core/util/redact.cpp) replaces the value of an
// assignment to a secret word (password=, passwd=, pwd=, secret=, token=, also with ':' or a
// quote) with ***. When an input holds the canary only as such a value, no message the library
// writes about that input may contain it. (Whether a message is a fixed point of redaction is
// not a usable oracle: "token:***@host" is already clean, yet "token:" makes it redactable.)
#ifndef CONNPOOL_FUZZ_SECRET_CANARY_H
#define CONNPOOL_FUZZ_SECRET_CANARY_H

#include <string>

namespace connpool_fuzz {

inline const std::string kCanary = "hunter2";

// True when `input` contains the canary and every occurrence directly follows an assignment
// to a secret word, so that every one of them must be redacted wherever it is echoed.
inline bool CanaryOnlyAsSecret(const std::string& input) {
  static const char* const kPrefixes[] = {"password=", "passwd=", "pwd=", "secret=", "token=",
                                          "password:", "token:", "password='", "password=\""};
  bool found = false;
  for (size_t at = input.find(kCanary); at != std::string::npos; at = input.find(kCanary, at + 1)) {
    found = true;
    bool secret = false;
    for (const char* p : kPrefixes) {
      std::string pre(p);
      if (at >= pre.size() && input.compare(at - pre.size(), pre.size(), pre) == 0) secret = true;
    }
    if (!secret) return false;
  }
  return found;
}

}  // namespace connpool_fuzz

#endif
