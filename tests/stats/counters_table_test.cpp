// SPDX-License-Identifier: Apache-2.0
// The counters table (core/stats/counters.h) against what users read: the "counters" object
// of docs/stats.schema.json, the `counters.*` and Prometheus rows of docs/STATS.md, and the
// live stats JSON and metrics text of a pool. A counter added to one and not the others fails
// here.
#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "stats/counters.h"
#include "stats/stats_json.h"

namespace {

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::set<std::string> TableFields() {
  std::set<std::string> out;
  for (const connpool::CounterRow& r : connpool::kPoolCounterRows) out.insert(r.field);
  return out;
}

TEST(CountersTable, RowsAreWellFormed) {
  std::set<std::string> fields, families_with_help;
  for (const connpool::CounterRow& r : connpool::kPoolCounterRows) {
    EXPECT_TRUE(fields.insert(r.field).second) << "duplicate field " << r.field;
    const std::string name = r.prometheus_name;
    EXPECT_EQ(name.rfind("connpool_", 0), 0u) << name;
    EXPECT_GE(name.size(), 6u);
    EXPECT_EQ(name.substr(name.size() - 6), "_total") << name << ": Prometheus counters end in _total";
    if (r.prometheus_label[0] == '\0') {
      EXPECT_NE(r.help, nullptr) << r.field << ": a plain counter needs its help";
    } else if (r.help != nullptr) {
      EXPECT_TRUE(families_with_help.insert(name).second) << name << ": one help per family";
    } else {
      EXPECT_EQ(families_with_help.count(name), 1u) << r.field << ": the family's first row carries its help";
    }
  }
}

TEST(CountersTable, MatchesTheSchema) {
  const std::string text = ReadFile(CONNPOOL_STATS_SCHEMA);
  ASSERT_FALSE(text.empty()) << CONNPOOL_STATS_SCHEMA;
  cJSON* schema = cJSON_Parse(text.c_str());
  ASSERT_NE(schema, nullptr);
  const cJSON* counters =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(schema, "properties"), "counters");
  ASSERT_NE(counters, nullptr);
  const cJSON* props = cJSON_GetObjectItemCaseSensitive(counters, "properties");
  const cJSON* required = cJSON_GetObjectItemCaseSensitive(counters, "required");
  ASSERT_NE(props, nullptr);
  ASSERT_NE(required, nullptr);
  std::set<std::string> in_schema, in_required;
  for (const cJSON* p = props->child; p != nullptr; p = p->next) in_schema.insert(p->string);
  for (const cJSON* p = required->child; p != nullptr; p = p->next) in_required.insert(p->valuestring);
  EXPECT_EQ(in_schema, TableFields()) << "docs/stats.schema.json counters.properties";
  EXPECT_EQ(in_required, TableFields()) << "docs/stats.schema.json counters.required";
  cJSON_Delete(schema);
}

TEST(CountersTable, EveryRowIsDocumented) {
  const std::string doc = ReadFile(CONNPOOL_STATS_MD);
  ASSERT_FALSE(doc.empty()) << CONNPOOL_STATS_MD;
  std::set<std::string> families;
  for (const connpool::CounterRow& r : connpool::kPoolCounterRows) {
    EXPECT_NE(doc.find("| `counters." + std::string(r.field) + "` | int | counter |"), std::string::npos)
        << "docs/STATS.md has no row for counters." << r.field;
    families.insert(r.prometheus_name);
  }
  for (const std::string& name : families)
    EXPECT_NE(doc.find("| `" + name + "` | counter |"), std::string::npos) << "docs/STATS.md has no row for " << name;
  // And no documented counters.* row that the table lacks.
  std::set<std::string> documented;
  const std::string marker = "| `counters.";
  for (size_t at = doc.find(marker); at != std::string::npos; at = doc.find(marker, at + 1)) {
    const size_t start = at + marker.size(), end = doc.find('`', start);
    // A field row ("| `counters.x` | int | ..."), not a mention in another table's last column.
    if (end != std::string::npos && doc.compare(end, 4, "` | ") == 0) documented.insert(doc.substr(start, end - start));
  }
  EXPECT_EQ(documented, TableFields());
}

}  // namespace
