// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: connpool_config_from_json on arbitrary bytes, through libconnpool.so.
//
// Checked for every input:
//   * the status is OK or EINVAL; on EINVAL *out is NULL and the message is non-empty;
//   * the message is NUL-terminated inside errlen and nothing past errlen is written
//     (a full buffer, a 1-byte buffer and no buffer at all);
//   * a secret in the document (the canary as the value of password=, token=, ...) is never
//     echoed in the message (secret_canary.h);
//   * on OK, connpool_config_to_json gives a document that from_json accepts again and that
//     is a fixed point: to_json(from_json(to_json(c))) == to_json(c).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "connpool/connpool.h"
#include "secret_canary.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  fprintf(stderr, "fuzz_config_json: %s: %s\n", what, detail.c_str());
  abort();
}

constexpr size_t kErrLen = 256;
constexpr size_t kCanary = 16;

// Calls from_json with an `errlen`-byte buffer followed by canary bytes.
int FromJson(const char* json, connpool_config_t** out, size_t errlen, std::string* msg) {
  char buf[kErrLen + kCanary];
  memset(buf, 0x5A, sizeof buf);
  *out = reinterpret_cast<connpool_config_t*>(&buf);  // must be overwritten
  int rc = connpool_config_from_json(json, out, buf, errlen);
  for (size_t i = errlen; i < sizeof buf; ++i)
    if (buf[i] != 0x5A) Fail("wrote past errlen", std::to_string(errlen));
  if (memchr(buf, '\0', errlen) == nullptr) Fail("message not NUL-terminated within errlen", std::to_string(errlen));
  if (rc != CONNPOOL_OK && *out != nullptr) Fail("out not NULL on failure", buf);
  *msg = buf;
  return rc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string json(reinterpret_cast<const char*>(data), size);  // c_str() adds the NUL
  connpool_config_t* cfg = nullptr;
  std::string msg;
  int rc = FromJson(json.c_str(), &cfg, kErrLen, &msg);
  if (rc != CONNPOOL_OK && rc != CONNPOOL_EINVAL) Fail("undocumented status", std::to_string(rc));

  // The same document with a 1-byte buffer and with none must give the same status.
  connpool_config_t* other = nullptr;
  std::string tiny;
  if (FromJson(json.c_str(), &other, 1, &tiny) != rc || !tiny.empty()) Fail("1-byte buffer", tiny);
  connpool_config_free(other);
  other = nullptr;
  if (connpool_config_from_json(json.c_str(), &other, nullptr, 0) != rc) Fail("NULL buffer", json);
  connpool_config_free(other);

  if (rc != CONNPOOL_OK) {
    if (msg.empty()) Fail("empty message on failure", json);
    // JSON escapes change the text the library sees ("\\token=" decodes to TAB + "oken="), so
    // the canary oracle, which reads the raw document, only judges documents without them.
    // The library reads the document only up to its first NUL, so that is all the oracle reads.
    const std::string seen = json.c_str();
    if (seen.find('\\') == std::string::npos && connpool_fuzz::CanaryOnlyAsSecret(seen) &&
        msg.find(connpool_fuzz::kCanary) != std::string::npos)
      Fail("secret echoed in the message", msg);
    return 0;
  }
  if (!msg.empty()) Fail("message on success", msg);
  char* text = connpool_config_to_json(cfg);
  if (text == nullptr) Fail("to_json returned NULL", json);
  connpool_config_t* again = nullptr;
  if (FromJson(text, &again, kErrLen, &msg) != CONNPOOL_OK) Fail("to_json output refused", msg + " <- " + text);
  char* text2 = connpool_config_to_json(again);
  if (text2 == nullptr || strcmp(text, text2) != 0) Fail("to_json is not a fixed point", std::string(text) + " vs " + (text2 ? text2 : "NULL"));
  connpool_free(text2);
  connpool_free(text);
  connpool_config_free(again);
  connpool_config_free(cfg);
  return 0;
}
