// SPDX-License-Identifier: Apache-2.0
// A small, strict parser for the Prometheus text exposition format 0.0.4, as the tests need
// it: every line must be a `# HELP`, a `# TYPE` or a sample; anything else is an error.
//
// Checked per https://prometheus.io/docs/instrumenting/exposition_formats/ :
//   * metric and label names match [a-zA-Z_:][a-zA-Z0-9_:]* / [a-zA-Z_][a-zA-Z0-9_]*;
//   * label values are double-quoted and escape only \\, \" and \n; HELP text only \\ and \n;
//   * values parse as Go's ParseFloat would (including +Inf, -Inf, NaN); an optional
//     timestamp is an integer;
//   * each family has at most one HELP and one TYPE, both before its first sample, and all of
//     its samples are contiguous; a sample belongs to the family whose TYPE declared it
//     (histogram: _bucket/_sum/_count, summary: the name, _sum, _count);
//   * within a family no two samples have the same name and label set;
//   * the text is valid UTF-8, has no blank lines and ends with a line feed.
// Semantic checks of histograms (cumulative buckets, +Inf == _count) live in CheckHistograms.
#ifndef CONNPOOL_TESTS_STATS_PROM_PARSER_H
#define CONNPOOL_TESTS_STATS_PROM_PARSER_H

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace prom {

struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // unescaped values, in order
  double value = 0;
  std::string value_text;
  int line = 0;

  const std::string* Label(const std::string& key) const {
    for (const auto& kv : labels)
      if (kv.first == key) return &kv.second;
    return nullptr;
  }
};

struct Family {
  std::string name;
  std::string help;  // unescaped
  std::string type;  // counter, gauge, histogram, summary, untyped
  bool has_help = false, has_type = false;
  std::vector<Sample> samples;
};

struct Exposition {
  std::vector<Family> families;  // in order of appearance
  const Family* Find(const std::string& name) const {
    for (const Family& f : families)
      if (f.name == name) return &f;
    return nullptr;
  }
};

namespace detail {

inline bool IsMetricStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
inline bool IsMetricChar(char c) { return IsMetricStart(c) || (c >= '0' && c <= '9'); }
inline bool IsLabelStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
inline bool IsLabelChar(char c) { return IsLabelStart(c) || (c >= '0' && c <= '9'); }

inline bool ValidMetricName(const std::string& s) {
  if (s.empty() || !IsMetricStart(s[0])) return false;
  for (char c : s)
    if (!IsMetricChar(c)) return false;
  return true;
}

inline bool ValidUtf8(const std::string& s) {
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    unsigned char c = p[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// Go strconv.ParseFloat-compatible enough for exposition values.
inline bool ParseValue(const std::string& t, double* out) {
  if (t == "+Inf" || t == "Inf") return *out = INFINITY, true;
  if (t == "-Inf") return *out = -INFINITY, true;
  if (t == "NaN") return *out = NAN, true;
  if (t.empty()) return false;
  for (char c : t)
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
      return false;  // no hex, no "inf"/"nan" spellings, no blanks
  errno = 0;
  char* end = nullptr;
  *out = std::strtod(t.c_str(), &end);
  return errno == 0 && end == t.c_str() + t.size();
}

}  // namespace detail

// Parses `text`; on failure returns false and sets *error to "line N: why".
inline bool Parse(const std::string& text, Exposition* out, std::string* error) {
  using namespace detail;
  auto fail = [&](int line, const std::string& why) {
    *error = "line " + std::to_string(line) + ": " + why;
    return false;
  };
  if (!ValidUtf8(text)) return fail(0, "not valid UTF-8");
  if (text.empty()) return fail(0, "empty exposition");
  if (text.back() != '\n') return fail(0, "does not end with a line feed");

  std::map<std::string, size_t> index;  // family name -> position in out->families
  std::set<std::string> closed;         // families whose samples ended (another family began)
  std::map<std::string, std::set<std::string>> seen_series;
  std::string current;  // family of the previous line
  auto family_for = [&](const std::string& name) -> Family& {
    auto it = index.find(name);
    if (it == index.end()) {
      index[name] = out->families.size();
      out->families.push_back(Family{});
      out->families.back().name = name;
      return out->families.back();
    }
    return out->families[it->second];
  };
  auto enter = [&](int line, const std::string& fam) -> bool {
    if (fam != current) {
      if (closed.count(fam)) return fail(line, "family " + fam + " is not contiguous");
      if (!current.empty()) closed.insert(current);
      current = fam;
    }
    return true;
  };

  int lineno = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    if (line.empty()) return fail(lineno, "blank line");
    if (line[0] == '#') {
      bool help = line.rfind("# HELP ", 0) == 0;
      bool type = line.rfind("# TYPE ", 0) == 0;
      if (!help && !type) return fail(lineno, "comment other than # HELP / # TYPE: " + line);
      std::string rest = line.substr(7);
      size_t sp = rest.find(' ');
      std::string name = rest.substr(0, sp);
      if (!ValidMetricName(name)) return fail(lineno, "bad metric name '" + name + "'");
      if (sp == std::string::npos) return fail(lineno, "missing text after the name");
      std::string arg = rest.substr(sp + 1);
      if (!enter(lineno, name)) return false;
      Family& f = family_for(name);
      if (help) {
        if (f.has_help) return fail(lineno, "second HELP for " + name);
        if (!f.samples.empty()) return fail(lineno, "HELP after samples of " + name);
        std::string h;
        for (size_t i = 0; i < arg.size(); ++i) {
          if (arg[i] != '\\') {
            h += arg[i];
            continue;
          }
          if (i + 1 >= arg.size()) return fail(lineno, "dangling backslash in HELP");
          char e = arg[++i];
          if (e == '\\') h += '\\';
          else if (e == 'n') h += '\n';
          else return fail(lineno, std::string("bad escape \\") + e + " in HELP");
        }
        if (h.empty()) return fail(lineno, "empty HELP text");
        f.help = h;
        f.has_help = true;
      } else {
        if (f.has_type) return fail(lineno, "second TYPE for " + name);
        if (!f.samples.empty()) return fail(lineno, "TYPE after samples of " + name);
        if (arg != "counter" && arg != "gauge" && arg != "histogram" && arg != "summary" && arg != "untyped")
          return fail(lineno, "unknown TYPE '" + arg + "'");
        f.type = arg;
        f.has_type = true;
      }
      continue;
    }

    // A sample: name [ '{' labels '}' ] ' ' value [ ' ' timestamp ]
    Sample s;
    s.line = lineno;
    size_t i = 0;
    while (i < line.size() && IsMetricChar(line[i])) ++i;
    s.name = line.substr(0, i);
    if (!ValidMetricName(s.name)) return fail(lineno, "bad metric name in sample: " + line);
    if (i < line.size() && line[i] == '{') {
      ++i;
      std::set<std::string> keys;
      while (true) {
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        size_t k0 = i;
        if (i >= line.size() || !IsLabelStart(line[i])) return fail(lineno, "bad label name");
        while (i < line.size() && IsLabelChar(line[i])) ++i;
        std::string key = line.substr(k0, i - k0);
        if (key.rfind("__", 0) == 0) return fail(lineno, "reserved label name " + key);
        if (!keys.insert(key).second) return fail(lineno, "duplicate label " + key);
        if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
          return fail(lineno, "label " + key + " not followed by =\"");
        i += 2;
        std::string v;
        bool closed_quote = false;
        while (i < line.size()) {
          char c = line[i++];
          if (c == '"') {
            closed_quote = true;
            break;
          }
          if (c != '\\') {
            v += c;
            continue;
          }
          if (i >= line.size()) return fail(lineno, "dangling backslash in label value");
          char e = line[i++];
          if (e == '\\') v += '\\';
          else if (e == '"') v += '"';
          else if (e == 'n') v += '\n';
          else return fail(lineno, std::string("bad escape \\") + e + " in label value");
        }
        if (!closed_quote) return fail(lineno, "unterminated label value");
        s.labels.emplace_back(key, v);
        if (i < line.size() && line[i] == ',') {
          ++i;
          continue;  // a trailing comma before '}' is allowed by the format
        }
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        return fail(lineno, "expected , or } after label value");
      }
    }
    if (i >= line.size() || line[i] != ' ') return fail(lineno, "expected one blank before the value");
    ++i;
    std::string rest = line.substr(i);
    size_t sp = rest.find(' ');
    s.value_text = rest.substr(0, sp);
    if (!ParseValue(s.value_text, &s.value)) return fail(lineno, "bad value '" + s.value_text + "'");
    if (sp != std::string::npos) {
      std::string ts = rest.substr(sp + 1);
      if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string::npos)
        return fail(lineno, "bad timestamp '" + ts + "'");
    }

    // Which family does it belong to?
    std::string fam = s.name;
    if (!index.count(fam)) {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        std::string sfx = suffix;
        if (s.name.size() > sfx.size() && s.name.compare(s.name.size() - sfx.size(), sfx.size(), sfx) == 0) {
          std::string base = s.name.substr(0, s.name.size() - sfx.size());
          if (index.count(base)) {
            const std::string& t = out->families[index[base]].type;
            if ((t == "histogram") || (t == "summary" && sfx != "_bucket")) fam = base;
          }
        }
      }
    }
    if (!index.count(fam)) return fail(lineno, "sample " + s.name + " before its # TYPE");
    Family& f = out->families[index[fam]];
    if (!f.has_type) return fail(lineno, "sample " + s.name + " before its # TYPE");
    if (f.type == "histogram" && fam == s.name) return fail(lineno, "histogram sample without suffix");
    if (f.type == "histogram" && s.name == fam + "_bucket" && s.Label("le") == nullptr)
      return fail(lineno, "histogram bucket without le");
    if (f.type == "summary" && s.name == fam && s.Label("quantile") == nullptr)
      return fail(lineno, "summary sample without quantile");
    if (!enter(lineno, fam)) return false;
    std::string series = s.name + "{";
    auto sorted = s.labels;
    std::sort(sorted.begin(), sorted.end());
    for (const auto& kv : sorted) series += kv.first + "=" + kv.second + "\x1f";
    if (!seen_series[fam].insert(series).second) return fail(lineno, "duplicate series " + line);
    f.samples.push_back(std::move(s));
  }
  return true;
}

// For each histogram family: per label set (without le), buckets in increasing le order with
// cumulative (non-decreasing) counts, the last bucket le="+Inf", and +Inf == _count, and a
// _sum present. For counters: values are finite and >= 0.
inline bool CheckSemantics(const Exposition& e, std::string* error) {
  for (const Family& f : e.families) {
    if (!f.has_help || !f.has_type) {
      *error = f.name + ": missing HELP or TYPE";
      return false;
    }
    if (f.type == "counter") {
      for (const Sample& s : f.samples)
        if (!(s.value >= 0) || std::isinf(s.value)) {
          *error = f.name + ": counter value " + s.value_text;
          return false;
        }
    }
    if (f.type != "histogram") continue;
    std::map<std::string, std::vector<const Sample*>> buckets;
    std::map<std::string, const Sample*> counts, sums;
    for (const Sample& s : f.samples) {
      std::string key;
      for (const auto& kv : s.labels)
        if (kv.first != "le") key += kv.first + "=" + kv.second + "\x1f";
      if (s.name == f.name + "_bucket") buckets[key].push_back(&s);
      else if (s.name == f.name + "_count") counts[key] = &s;
      else if (s.name == f.name + "_sum") sums[key] = &s;
    }
    if (buckets.empty()) {
      *error = f.name + ": histogram without buckets";
      return false;
    }
    for (const auto& kv : buckets) {
      double prev_le = -INFINITY, prev_count = 0;
      for (const Sample* b : kv.second) {
        double le;
        if (!detail::ParseValue(*b->Label("le"), &le)) {
          *error = f.name + ": bad le '" + *b->Label("le") + "'";
          return false;
        }
        if (!(le > prev_le)) {
          *error = f.name + ": le not increasing at line " + std::to_string(b->line);
          return false;
        }
        if (b->value < prev_count) {
          *error = f.name + ": buckets not cumulative at line " + std::to_string(b->line);
          return false;
        }
        prev_le = le;
        prev_count = b->value;
      }
      if (!std::isinf(prev_le)) {
        *error = f.name + ": last bucket is not le=\"+Inf\"";
        return false;
      }
      if (!counts.count(kv.first) || !sums.count(kv.first)) {
        *error = f.name + ": missing _count or _sum";
        return false;
      }
      if (counts[kv.first]->value != prev_count) {
        *error = f.name + ": +Inf bucket " + std::to_string(prev_count) + " != _count " +
                 counts[kv.first]->value_text;
        return false;
      }
    }
  }
  return true;
}

}  // namespace prom

#endif
