// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using NUnit.Framework;

namespace ConnPool.Tests
{
    /// <summary>
    /// PoolStats against the stats JSON and docs/stats.schema.json, both read generically, so
    /// a field added to the library (or the schema) and not to the classes fails here.
    /// </summary>
    [TestFixture]
    [Timeout(120000)]
    public class StatsTest
    {
        static readonly TimeSpan Long = TimeSpan.FromSeconds(10);

        /// <summary>Any JSON as an XML tree (the framework's JSON reader).</summary>
        static XElement Json(string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            using (var reader = JsonReaderWriterFactory.CreateJsonReader(bytes, XmlDictionaryReaderQuotas.Max))
                return XElement.Load(reader);
        }

        /// <summary>A key that is no XML name ("$ref") is an &lt;item item="$ref"&gt; element.</summary>
        static string Key(XElement e)
        {
            var a = e.Attribute("item");
            return a != null ? a.Value : e.Name.LocalName;
        }

        static XElement Child(XElement e, string key)
        {
            return e.Elements().FirstOrDefault(c => Key(c) == key);
        }

        static string JsonType(XElement e)
        {
            var a = e.Attribute("type");
            return a != null ? a.Value : "string";
        }

        /// <summary>The decoded members of a stats class, by JSON field name.</summary>
        static Dictionary<string, PropertyInfo> Members(Type t)
        {
            var members = new Dictionary<string, PropertyInfo>();
            foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var dm = p.GetCustomAttribute<DataMemberAttribute>();
                if (dm != null) members.Add(dm.Name, p);
            }
            Assert.IsNotEmpty(members, t + " has no [DataMember] properties");
            return members;
        }

        /// <summary>Every key of the JSON has a member with its value, and every member has its key.</summary>
        static void Compare(XElement json, object value, string path, ref int fields)
        {
            ++fields;
            switch (JsonType(json))
            {
                case "null":
                    Assert.IsNull(value, path);
                    return;
                case "object":
                    Assert.IsNotNull(value, path + " is an object in the JSON, null in PoolStats");
                    var members = Members(value.GetType());
                    foreach (var child in json.Elements())
                    {
                        string key = Key(child);
                        Assert.IsTrue(members.ContainsKey(key), path + "." + key + " is in the JSON but has no member in " + value.GetType());
                        Compare(child, members[key].GetValue(value), path + "." + key, ref fields);
                    }
                    foreach (var name in members.Keys)
                        Assert.IsNotNull(Child(json, name), path + "." + name + " is a member of " + value.GetType() + " but not in the JSON");
                    return;
                case "array":
                    var items = json.Elements().ToList();
                    var array = value as Array;
                    Assert.IsNotNull(array, path + " is an array in the JSON");
                    Assert.AreEqual(items.Count, array.Length, path + " length");
                    for (int i = 0; i < items.Count; i++) Compare(items[i], array.GetValue(i), path + "[" + i + "]", ref fields);
                    return;
                case "number":
                    Assert.IsNotNull(value, path);
                    Assert.AreEqual(json.Value, Convert.ToString(value, CultureInfo.InvariantCulture), path);
                    return;
                case "boolean":
                    Assert.IsInstanceOf<bool>(value, path);
                    Assert.AreEqual(json.Value, (bool)value ? "true" : "false", path);
                    return;
                default:
                    Assert.IsInstanceOf<string>(value, path);
                    Assert.AreEqual(json.Value, value, path);
                    return;
            }
        }

        [Test]
        public void TypedStatsMatchTheJsonFieldByField()
        {
            // A document with every optional part filled: a create error, a leak, adaptive decisions.
            var f = new FakeFactory { ThrowCreates = 1 };
            using (var pool = new Pool<FakeFactory.Conn>(f, new Dictionary<string, object> {
                { "name", "typed" }, { "max_size", 3 }, { "retry_initial_ms", 10 }, { "retry_max_ms", 50 },
                { "leak_threshold_ms", 1 }, { "maintenance_interval_ms", 10 },
                { "adaptive_sizing", true }, { "adaptive_target_wait_ms", 5 } }))
            using (var held = pool.Acquire(Long))
            {
                Assert.IsTrue(Wait.Until(Long, () =>
                {
                    var s = Json(pool.StatsJson());
                    return Child(s, "leaks").Elements().Any() && JsonType(Child(s, "last_error")) == "object" &&
                           JsonType(Child(Child(s, "adaptive"), "last_decision")) == "object";
                }), "no leak, last_error or adaptive decision: " + pool.StatsJson());
                string json = pool.StatsJson();
                var typed = PoolStats.Parse(json);
                int fields = 0;
                Compare(Json(json), typed, "stats", ref fields);
                Assert.Greater(fields, 90, "fields compared");
                Assert.AreEqual((ulong)held.Id, typed.Leaks[0].Lease);
                Assert.AreEqual("CONNPOOL_EFACTORY", typed.LastError.CodeName);
            }
        }

        [Test]
        public void StatsOfAFreshPool()
        {
            var f = new FakeFactory();
            using (var pool = new Pool<FakeFactory.Conn>(f, new Dictionary<string, object> { { "name", "fresh" }, { "max_size", 2 } }))
            {
                using (var lease = pool.Acquire(Long))
                {
                    string json = pool.StatsJson();
                    var s = PoolStats.Parse(json);
                    Assert.AreEqual("fresh", s.Name);
                    Assert.AreEqual("ready", s.State);
                    Assert.AreEqual(200, s.HttpStatus);
                    Assert.AreEqual(1, s.Connections.InUse);
                    Assert.AreEqual(2, s.Connections.MaxSize);
                    Assert.IsNull(s.LastError);
                    Assert.IsNull(s.HealthReason);
                    Assert.IsNull(s.Retry.NextAttemptInMs);
                    Assert.IsEmpty(s.Leaks);
                    int fields = 0;
                    Compare(Json(json), s, "stats", ref fields);  // nulls and empty arrays too
                    Assert.AreEqual("fresh", pool.Stats().Name);
                }
                Assert.AreEqual(1, pool.Stats().Counters.Acquired);
            }
            Assert.Throws<PoolConfigException>(() => PoolStats.Parse("{\"name\": "));
        }

        /// <summary>A property schema with its $ref followed, and of a oneOf the alternative that is an object.</summary>
        static XElement Resolve(XElement schema, XElement defs)
        {
            var r = Child(schema, "$ref");
            if (r != null)
            {
                StringAssert.StartsWith("#/$defs/", r.Value);
                return Resolve(Child(defs, r.Value.Substring("#/$defs/".Length)), defs);
            }
            var oneOf = Child(schema, "oneOf");
            if (oneOf != null)
            {
                foreach (var alt in oneOf.Elements())
                {
                    var a = Resolve(alt, defs);
                    if (Child(a, "properties") != null || Child(a, "items") != null) return a;
                }
            }
            return schema;
        }

        static void CheckSchema(XElement schema, Type t, string path, XElement defs, ref int properties)
        {
            var members = Members(t);
            var props = Child(schema, "properties");
            Assert.IsNotNull(props, path + " has no properties in the schema");
            foreach (var p in props.Elements())
            {
                string key = Key(p);
                ++properties;
                Assert.IsTrue(members.ContainsKey(key), path + "." + key + " is in stats.schema.json but has no member in " + t);
                Type pt = members[key].PropertyType;
                var sub = Resolve(p, defs);
                var items = Child(sub, "items");
                if (items != null)
                {
                    Assert.IsTrue(pt.IsArray, path + "." + key + " is an array in the schema");
                    sub = Resolve(items, defs);
                    pt = pt.GetElementType();
                }
                if (Child(sub, "properties") != null) CheckSchema(sub, pt, path + "." + key, defs, ref properties);
            }
            foreach (var name in members.Keys)
                Assert.IsNotNull(Child(props, name), path + "." + name + " is a member of " + t + " but not in stats.schema.json");
        }

        [Test]
        public void EverySchemaPropertyHasAMember()
        {
            string file = Environment.GetEnvironmentVariable("CONNPOOL_STATS_SCHEMA");
            Assert.IsFalse(string.IsNullOrEmpty(file), "CONNPOOL_STATS_SCHEMA (the path of docs/stats.schema.json) is not set; CTest sets it");
            var schema = Json(File.ReadAllText(file));
            int properties = 0;
            CheckSchema(schema, typeof(PoolStats), "stats", Child(schema, "$defs"), ref properties);
            Assert.Greater(properties, 90, "schema properties checked");
        }
    }
}
