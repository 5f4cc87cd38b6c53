// SPDX-License-Identifier: Apache-2.0
// The one redaction step every text the library produces passes through: log lines, error
// buffers, last_error, stats and metrics. Secrets never leave the library.
#ifndef CONNPOOL_CORE_REDACT_H
#define CONNPOOL_CORE_REDACT_H

#include <string>
#include <string_view>

namespace connpool {

// Replaces the value after password=, pwd=, passwd=, secret=, token= (and the same with ':'
// or a JSON-style '": "'), case-insensitively, and the password of a URI's user:pass@, with
// "***". Quoted values are redacted up to their closing quote.
std::string Redact(std::string_view text);

}  // namespace connpool

#endif
