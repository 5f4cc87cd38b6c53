// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The typed stats (PoolStats, GroupStats) against the documents they decode: live documents
 * field by field (the typed tree written back to JSON equals the document, and a strict
 * decode finds a component for every key), and the JSON Schemas in docs/ component by
 * component, so a field added to the library without a record component fails here.
 */
@Timeout(120)
class StatsTypedTest {
  static final Duration LONG = Duration.ofSeconds(10);
  static final ObjectMapper STRICT = StatsCodec.strictMapper();

  // --- typed against live JSON -------------------------------------------------------------

  /** Every difference between two JSON trees, by path; numbers compare by value. */
  static void diff(String path, JsonNode json, JsonNode typed, List<String> out) {
    if (json.isNumber() && typed.isNumber()) {
      if (json.decimalValue().compareTo(typed.decimalValue()) != 0) out.add(path + ": JSON " + json + ", typed " + typed);
    } else if (json.isObject() && typed.isObject()) {
      Set<String> keys = new TreeSet<>();
      json.fieldNames().forEachRemaining(keys::add);
      typed.fieldNames().forEachRemaining(keys::add);
      for (String k : keys) {
        if (!json.has(k)) out.add(path + "." + k + ": only in the typed tree");
        else if (!typed.has(k)) out.add(path + "." + k + ": no component for this field");
        else diff(path + "." + k, json.get(k), typed.get(k), out);
      }
    } else if (json.isArray() && typed.isArray()) {
      if (json.size() != typed.size()) out.add(path + ": " + json.size() + " entries, typed " + typed.size());
      for (int i = 0; i < Math.min(json.size(), typed.size()); i++) diff(path + "[" + i + "]", json.get(i), typed.get(i), out);
    } else if (!json.equals(typed)) {
      out.add(path + ": JSON " + json + ", typed " + typed);
    }
  }

  /** Decodes {@code json} strictly as {@code type}, writes it back, compares with the JSON. */
  static <R> R assertSameTree(String json, Class<R> type) throws IOException {
    R typed = STRICT.readValue(json, type);  // an unknown or missing field throws
    List<String> diffs = new ArrayList<>();
    diff("$", STRICT.readTree(json), STRICT.valueToTree(typed), diffs);
    assertTrue(diffs.isEmpty(), "typed " + type.getSimpleName() + " differs from the JSON: " + diffs + "\n" + json);
    return typed;
  }

  @Test
  void liveStatsMatchTheJsonFieldByField() throws Exception {
    FakeFactory f = new FakeFactory();
    f.throwCreates.set(1);  // a create failure: last_error and create_failures
    try (Pool<FakeFactory.Conn> pool = Pool.builder(f).name("typed").maxSize(2)
        .set("retry_initial_ms", 10).set("retry_max_ms", 50).set("leak_threshold_ms", 1)
        .set("maintenance_interval_ms", 10).set("adaptive_sizing", true).build()) {
      Lease<FakeFactory.Conn> a = pool.acquire(LONG), b = pool.acquire(LONG);
      assertThrows(PoolTimeoutException.class, () -> pool.acquire(Duration.ofMillis(20)));
      assertTrue(Wait.until(LONG, () -> !pool.stats().leaks().isEmpty()
          && pool.stats().adaptive().lastDecision() != null), pool.statsJson());
      String json = pool.statsJson();
      PoolStats s = assertSameTree(json, PoolStats.class);
      assertEquals(s, StatsCodec.pool(json), "the lenient decode agrees");
      // The activity shows, so the comparison covered non-zero counters and non-null objects.
      assertEquals("typed", s.name());
      assertEquals(2, s.counters().acquired());
      assertEquals(1, s.counters().timeouts());
      assertTrue(s.counters().createFailures() >= 1);
      assertEquals(2, s.connections().inUse());
      assertEquals(2, s.connections().maxSize());
      assertNotNull(s.lastError());
      assertEquals("CONNPOOL_EFACTORY", s.lastError().codeName());
      assertTrue(s.lastError().message().contains("boom from create"), s.lastError().message());
      assertNotNull(s.adaptive().lastDecision());
      assertNotNull(s.retry().createLimit());
      assertEquals(1, s.leakThresholdMs());
      assertFalse(s.leaks().isEmpty());
      Set<Long> held = Set.of(a.id(), b.id());
      for (PoolStats.Leak l : s.leaks()) assertTrue(held.contains(l.lease()), "leak " + l + " is one of " + held);
      assertTrue(s.acquireWaitUs().count() >= 2);
      assertTrue(s.createUs().count() >= 3);
      a.close();
      b.close();
      PoolStats after = assertSameTree(pool.statsJson(), PoolStats.class);
      assertEquals(2, after.leaseHoldUs().count());
      assertTrue(after.leaks().isEmpty());
    }
  }

  @Test
  void liveGroupStatsMatchTheJsonFieldByField() throws Exception {
    FakeFactory fp = new FakeFactory(), fr = new FakeFactory();
    try (Pool<FakeFactory.Conn> primary = GroupTest.ready(fp, "p");
        Pool<FakeFactory.Conn> replica = GroupTest.ready(fr, "r");
        Group<FakeFactory.Conn> g = new Group<FakeFactory.Conn>("typed-group")) {
      g.add("main", Role.PRIMARY, primary).add("r1", Role.REPLICA, replica);
      g.acquire(Intent.WRITE, LONG).close();
      try (Lease<FakeFactory.Conn> r = g.acquire(Intent.READ, LONG)) {
        GroupStats s = assertSameTree(g.statsJson(), GroupStats.class);
        assertEquals(2, s.counters().acquired());
        assertEquals(1, s.totals().connections().inUse());
        assertEquals(2, s.members().size());
        assertEquals("r", s.members().get(1).stats().name());
        assertEquals(1, s.members().get(1).stats().connections().inUse());
      }
      replica.close();  // detached: its member entry has no stats
      String json = g.statsJson();
      GroupStats s = assertSameTree(json, GroupStats.class);
      assertFalse(s.members().get(1).attached());
      assertNull(s.members().get(1).stats());
      assertEquals(s, StatsCodec.group(json), "the lenient decode agrees");
    }
  }

  /** Leases are unsigned 64-bit: above 2^63 they keep their bits, as Lease.id() does. */
  @Test
  void leasesAboveTwoToTheSixtyThreeRoundTrip() throws Exception {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = PoolTest.pool(f, 1)) {
      ObjectNode doc = (ObjectNode) STRICT.readTree(pool.statsJson());
      ObjectNode leak = doc.putArray("leaks").addObject();
      leak.put("lease", new BigInteger("18446744073709551615"));
      leak.put("held_ms", 5);
      leak.put("thread", "11265739685301090629");
      leak.put("priority", 0);
      PoolStats s = assertSameTree(STRICT.writeValueAsString(doc), PoolStats.class);
      assertEquals(-1L, s.leaks().get(0).lease());
      assertEquals("18446744073709551615", Long.toUnsignedString(s.leaks().get(0).lease()));
      leak.put("lease", new BigInteger("18446744073709551616"));
      assertThrows(IOException.class, () -> STRICT.readValue(STRICT.writeValueAsString(doc), PoolStats.class));
    }
  }

  /** Production ignores fields it does not know (a newer library); the tests' mapper fails. */
  @Test
  void unknownFieldsAreIgnoredInProductionAndFailStrictly() throws Exception {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = PoolTest.pool(f, 1)) {
      ObjectNode doc = (ObjectNode) STRICT.readTree(pool.statsJson());
      doc.put("added_later", 1);
      ((ObjectNode) doc.get("counters")).put("added_later_too", 2);
      String newer = STRICT.writeValueAsString(doc);
      PoolStats s = StatsCodec.pool(newer);
      assertEquals("java-test", s.name());
      assertThrows(UnrecognizedPropertyException.class, () -> STRICT.readValue(newer, PoolStats.class));

      ObjectNode older = (ObjectNode) STRICT.readTree(pool.statsJson());
      older.remove("hangs");
      ((ObjectNode) older.get("counters")).remove("stalls");
      String old = STRICT.writeValueAsString(older);
      PoolStats o = StatsCodec.pool(old);
      assertNull(o.hangs(), "an object an older library lacks is null");
      assertEquals(0, o.counters().stalls(), "a count it lacks is 0");
      assertThrows(MismatchedInputException.class, () -> STRICT.readValue(old, PoolStats.class));
    }
  }

  // --- typed against the JSON Schemas ------------------------------------------------------

  /** A schema node and the document its local $refs resolve in. */
  record Node(JsonNode schema, JsonNode root) {}

  final Map<String, JsonNode> schemas = new LinkedHashMap<>();

  JsonNode schema(String property) throws IOException {
    String path = System.getProperty(property);
    assertNotNull(path, "-D" + property + " (set by CMake) names the schema file");
    JsonNode s = STRICT.readTree(new File(path));
    schemas.put(s.get("$id").asText(), s);
    return s;
  }

  Node resolve(Node n) {
    while (n.schema().has("$ref")) {
      String ref = n.schema().get("$ref").asText();
      if (ref.startsWith("#")) {
        n = new Node(n.root().at(ref.substring(1)), n.root());
      } else {
        JsonNode other = schemas.get(ref);
        assertNotNull(other, "schema " + ref + " not loaded");
        n = new Node(other, other);
      }
      assertFalse(n.schema().isMissingNode(), "dangling $ref " + ref);
    }
    return n;
  }

  /** The alternatives a schema allows: itself, or each branch of its oneOf. */
  List<Node> alternatives(Node n) {
    n = resolve(n);
    List<Node> out = new ArrayList<>();
    if (n.schema().has("oneOf")) {
      for (JsonNode alt : n.schema().get("oneOf")) out.addAll(alternatives(new Node(alt, n.root())));
    } else {
      out.add(n);
    }
    return out;
  }

  static String kind(Node n) {
    JsonNode s = n.schema();
    if (s.has("properties")) return "object";
    if (s.has("type")) return s.get("type").asText();
    JsonNode values = s.has("enum") ? s.get("enum") : s.has("const") ? STRICT.createArrayNode().add(s.get("const")) : null;
    assertNotNull(values, "no type in " + s);
    Set<String> kinds = new TreeSet<>();
    for (JsonNode v : values) kinds.add(v.isTextual() ? "string" : v.isIntegralNumber() ? "integer" : v.isBoolean() ? "boolean" : "?");
    assertEquals(1, kinds.size(), "mixed enum " + s);
    return kinds.iterator().next();
  }

  static Map<String, Method> components(Class<?> record) {
    assertTrue(record.isRecord(), record + " is a record");
    Map<String, Method> out = new LinkedHashMap<>();
    for (RecordComponent c : record.getRecordComponents()) {
      JsonProperty p = c.getAccessor().getAnnotation(JsonProperty.class);
      assertNotNull(p, record.getSimpleName() + "." + c.getName() + " has no @JsonProperty");
      out.put(p.value(), c.getAccessor());
    }
    return out;
  }

  /** Checks that {@code record} has exactly the schema's properties, each of a fitting type. */
  void walk(Node object, Class<?> record, String path, List<String> problems) {
    Map<String, Method> comps = components(record);
    JsonNode props = object.schema().get("properties");
    Set<String> names = new TreeSet<>();
    props.fieldNames().forEachRemaining(names::add);
    for (String k : comps.keySet()) if (!names.contains(k)) problems.add(path + "." + k + ": component not in the schema");
    for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> e = it.next();
      String p = path + "." + e.getKey();
      Method m = comps.get(e.getKey());
      if (m == null) {
        problems.add(p + ": no component in " + record.getSimpleName());
        continue;
      }
      check(new Node(e.getValue(), object.root()), m.getGenericReturnType(), p, problems);
    }
  }

  void check(Node property, Type type, String path, List<String> problems) {
    List<Node> alts = alternatives(property);
    boolean nullable = false;
    Node value = null;
    for (Node a : alts) {
      if ("null".equals(kind(a))) nullable = true;
      else if (value == null) value = a;
      else problems.add(path + ": more than one non-null alternative");
    }
    Class<?> raw = type instanceof ParameterizedType pt ? (Class<?>) pt.getRawType() : (Class<?>) type;
    if (nullable && raw.isPrimitive()) problems.add(path + ": may be null, but " + raw + " cannot");
    if (value == null) return;
    String kind = kind(value);
    switch (kind) {
      case "integer" -> {
        if (!List.of(long.class, int.class, Long.class, Integer.class).contains(raw)) problems.add(path + ": integer as " + raw);
      }
      case "boolean" -> {
        if (raw != boolean.class && raw != Boolean.class) problems.add(path + ": boolean as " + raw);
      }
      case "string" -> {
        if (raw != String.class) problems.add(path + ": string as " + raw);
      }
      case "object" -> {
        if (!raw.isRecord()) problems.add(path + ": object as " + raw);
        else walk(value, raw, path, problems);
      }
      case "array" -> {
        if (raw != List.class) {
          problems.add(path + ": array as " + raw);
        } else {
          Type item = ((ParameterizedType) type).getActualTypeArguments()[0];
          check(new Node(value.schema().get("items"), value.root()), item, path + "[]", problems);
        }
      }
      default -> problems.add(path + ": unexpected schema type " + kind);
    }
  }

  @Test
  void everySchemaPropertyHasARecordComponent() throws IOException {
    JsonNode pool = schema("connpool.stats.schema");
    List<String> problems = new ArrayList<>();
    walk(new Node(pool, pool), PoolStats.class, "$", problems);
    assertTrue(problems.isEmpty(), "PoolStats vs docs/stats.schema.json: " + problems);
  }

  @Test
  void everyGroupSchemaPropertyHasARecordComponent() throws IOException {
    schema("connpool.stats.schema");  // members' documents are $refs to it
    JsonNode group = schema("connpool.group_stats.schema");
    List<String> problems = new ArrayList<>();
    walk(new Node(group, group), GroupStats.class, "$", problems);
    assertTrue(problems.isEmpty(), "GroupStats vs docs/group_stats.schema.json: " + problems);
  }
}
