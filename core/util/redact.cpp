// SPDX-License-Identifier: Apache-2.0
#include "util/redact.h"

#include <cctype>
#include <cstring>

namespace connpool {

namespace {

const char* const kSecretWords[] = {"password", "passwd", "pwd", "secret", "token"};

bool MatchWordAt(std::string_view s, size_t i, const char* word) {
  size_t n = strlen(word);
  if (i + n > s.size()) return false;
  for (size_t j = 0; j < n; ++j)
    if (std::tolower(static_cast<unsigned char>(s[i + j])) != word[j]) return false;
  return true;
}

// After a secret word at [i, i+n): skips an optional closing quote, blanks, and a '=' or ':'
// separator; returns the index where the value starts, or npos if this is not an assignment.
size_t ValueStart(std::string_view s, size_t after_word) {
  size_t p = after_word;
  if (p < s.size() && (s[p] == '"' || s[p] == '\'')) ++p;
  while (p < s.size() && s[p] == ' ') ++p;
  if (p >= s.size() || (s[p] != '=' && s[p] != ':')) return std::string_view::npos;
  ++p;
  while (p < s.size() && s[p] == ' ') ++p;
  return p;
}

bool IsDelimiter(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || c == '&' || c == ';' || c == ',' || c == '}' ||
         c == ')';
}

// End of a value starting at p: up to the matching quote if quoted, else to a delimiter.
size_t ValueEnd(std::string_view s, size_t p, bool* quoted, char* quote) {
  *quoted = p < s.size() && (s[p] == '"' || s[p] == '\'');
  if (*quoted) {
    *quote = s[p];
    size_t q = p + 1;
    while (q < s.size() && s[q] != *quote) q += (s[q] == '\\' && q + 1 < s.size()) ? 2 : 1;
    return q;  // index of the closing quote (or end)
  }
  size_t q = p;
  while (q < s.size() && !IsDelimiter(s[q])) ++q;
  return q;
}

std::string RedactAssignments(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    bool done = false;
    for (const char* w : kSecretWords) {
      if (!MatchWordAt(s, i, w)) continue;
      size_t start = ValueStart(s, i + strlen(w));
      if (start == std::string_view::npos) continue;
      bool quoted;
      char quote = 0;
      size_t end = ValueEnd(s, start, &quoted, &quote);
      out.append(s.substr(i, start - i));
      if (quoted) {
        out += quote;
        out += "***";
        if (end < s.size()) out += quote;
        i = end < s.size() ? end + 1 : end;
        // A closing quote not followed by a delimiter was not the end of the value
        // (secret='a password='x', pwd=''xpassword='x'): redact on to the next delimiter,
        // quotes included, rather than leak the rest.
        while (i < s.size() && !IsDelimiter(s[i])) ++i;
      } else {
        out += "***";
        i = end;
      }
      done = true;
      break;
    }
    if (!done) out += s[i++];
  }
  return out;
}

// scheme://user:pass@host -> scheme://user:***@host
std::string RedactUriPasswords(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (true) {
    size_t scheme = s.find("://", i);
    if (scheme == std::string::npos) break;
    size_t auth = scheme + 3;
    size_t end = auth;
    while (end < s.size() && s[end] != '/' && s[end] != '@' && !std::isspace(static_cast<unsigned char>(s[end])))
      ++end;
    size_t at = s.find('@', auth);
    size_t stop = auth;
    while (stop < s.size() && s[stop] != '/' && !std::isspace(static_cast<unsigned char>(s[stop]))) ++stop;
    if (at != std::string::npos && at < stop) {
      size_t colon = s.find(':', auth);
      if (colon != std::string::npos && colon < at) {
        out.append(s, i, colon + 1 - i);
        out += "***";
        i = at;
        continue;
      }
    }
    out.append(s, i, auth - i);
    i = auth;
  }
  out.append(s, i, std::string::npos);
  return out;
}

}  // namespace

std::string Redact(std::string_view text) { return RedactUriPasswords(RedactAssignments(text)); }

}  // namespace connpool
