// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Serialization.Json;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using NUnit.Framework;

namespace ConnPool.Tests
{
    [TestFixture]
    [Timeout(120000)]
    public class GroupTest
    {
        static readonly TimeSpan Long = TimeSpan.FromSeconds(10);

        static Pool<FakeFactory.Conn> MakePool(FakeFactory f, string name)
        {
            return new Pool<FakeFactory.Conn>(f, new Dictionary<string, object> {
                { "name", name }, { "max_size", 2 }, { "retry_initial_ms", 10 }, { "retry_max_ms", 50 } });
        }

        /// <summary>A pool that has connected (a starting replica is not yet healthy: reads would skip it).</summary>
        static Pool<FakeFactory.Conn> Ready(FakeFactory f, string name)
        {
            var p = MakePool(f, name);
            p.AwaitReady(Long);
            return p;
        }

        static XElement Stats(Group<FakeFactory.Conn> g)
        {
            var bytes = Encoding.UTF8.GetBytes(g.StatsJson());
            using (var reader = JsonReaderWriterFactory.CreateJsonReader(bytes, XmlDictionaryReaderQuotas.Max))
                return XElement.Load(reader);
        }

        [Test]
        public void RoutesByRoleAndLeasesReturnToTheirMember()
        {
            var fp = new FakeFactory();
            var fr = new FakeFactory();
            using (var primary = Ready(fp, "p"))
            using (var replica = Ready(fr, "r"))
            using (var g = new Group<FakeFactory.Conn>("orders").Add("main", Role.PRIMARY, primary).Add("r1", Role.REPLICA, replica))
            {
                using (var w = g.Acquire(Intent.WRITE, Long))
                    Assert.IsTrue(fp.OpenConns.ContainsKey(w.Connection), "a write is served by the primary");
                using (var r = g.Acquire(Intent.READ, Long))
                    Assert.IsTrue(fr.OpenConns.ContainsKey(r.Connection), "a read is served by the replica");
                var stats = Stats(g);
                Assert.AreEqual("orders", stats.Element("name").Value);
                Assert.AreEqual("2", stats.Element("counters").Element("acquired").Value);
                var members = stats.Element("members").Elements().ToList();
                Assert.AreEqual("primary", members[0].Element("role").Value);
                Assert.AreEqual("replica", members[1].Element("role").Value);
                Assert.AreEqual("0", members[1].Element("stats").Element("connections").Element("in_use").Value);
            }
            Assert.AreEqual(fp.Created, fp.Destroyed);
            Assert.AreEqual(fr.Created, fr.Destroyed);
        }

        [Test]
        public void ReadsFallBackToThePrimaryAndWritesFailFast()
        {
            var fp = new FakeFactory();
            var fr = new FakeFactory { FatalCreate = true };
            var dead = new FakeFactory { FatalCreate = true };
            using (var primary = Ready(fp, "p"))
            using (var replica = MakePool(fr, "r"))
            using (var deadPrimary = MakePool(dead, "dead"))
            using (var g = new Group<FakeFactory.Conn>("reads"))
            using (var w = new Group<FakeFactory.Conn>("writes"))
            {
                Assert.IsTrue(Wait.Until(Long, () => replica.State == State.UNAVAILABLE));
                Assert.IsTrue(Wait.Until(Long, () => deadPrimary.State == State.UNAVAILABLE));
                g.Add("main", Role.PRIMARY, primary).Add("r1", Role.REPLICA, replica);
                using (var r = g.Acquire(Intent.READ, Long))
                    Assert.IsTrue(fp.OpenConns.ContainsKey(r.Connection), "the unavailable replica is skipped");
                Assert.AreEqual("1", Stats(g).Element("counters").Element("read_fallbacks").Value);
                w.Add("main", Role.PRIMARY, deadPrimary);
                var t0 = DateTime.UtcNow;
                var e = Assert.Throws<PoolUnavailableException>(() => w.Acquire(Intent.WRITE, Long));
                Assert.Less((DateTime.UtcNow - t0).TotalSeconds, 5, "failed fast, not after the timeout");
                Assert.AreEqual(503, e.HttpStatus);
            }
        }

        [Test]
        public void BadInputIsAConfigExceptionWithTheReason()
        {
            var f = new FakeFactory();
            using (var p = MakePool(f, "p"))
            using (var q = MakePool(f, "q"))
            using (var g = new Group<FakeFactory.Conn>("g"))
            using (var other = new Group<FakeFactory.Conn>("other"))
            {
                g.Add("main", Role.PRIMARY, p);
                var dup = Assert.Throws<PoolConfigException>(() => g.Add("main", Role.REPLICA, q));
                StringAssert.Contains("already used", dup.Message);
                var twice = Assert.Throws<PoolConfigException>(() => other.Add("x", Role.REPLICA, p));
                StringAssert.Contains("already belongs", twice.Message);
                var noShard = Assert.Throws<PoolConfigException>(() => g.AcquireKey(1, Long));
                StringAssert.Contains("no shard", noShard.Message);
                Assert.Throws<PoolConfigException>(() => new Group<FakeFactory.Conn>(""));
                g.Dispose();
                Assert.Throws<PoolClosedException>(() => g.Acquire(Intent.READ, Long));
                g.Dispose();  // idempotent
            }
        }

        [Test]
        public void KeysStickToTheirShardAndAClosedShardsKeysFail()
        {
            var fs = new[] { new FakeFactory(), new FakeFactory(), new FakeFactory() };
            var shards = fs.Select((f, i) => Ready(f, "s" + i)).ToArray();
            try
            {
                using (var g = new Group<FakeFactory.Conn>("users"))
                {
                    for (int i = 0; i < 3; i++) g.Add("shard-" + i, Role.SHARD, shards[i]);
                    var owner = new int[60];
                    for (int k = 0; k < owner.Length; k++)
                    {
                        using (var l = g.AcquireKey(k, Long))
                            owner[k] = Array.FindIndex(fs, f => f.OpenConns.ContainsKey(l.Connection));
                        Assert.GreaterOrEqual(owner[k], 0);
                        using (var again = g.AcquireKey(k, Long))
                            Assert.IsTrue(fs[owner[k]].OpenConns.ContainsKey(again.Connection), "same key, same shard");
                    }
                    shards[1].Dispose();  // while still in the group: detached, its keys fail
                    for (int k = 0; k < owner.Length; k++)
                    {
                        long key = k;
                        if (owner[k] == 1)
                            Assert.Throws<PoolClosedException>(() => g.AcquireKey(key, Long));
                        else
                            g.AcquireKey(key, Long).Dispose();
                    }
                }
            }
            finally
            {
                foreach (var p in shards) p.Dispose();
            }
            foreach (var f in fs) Assert.AreEqual(f.Created, f.Destroyed);
        }
    }
}
