// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Serialization.Json;
using System.Text;
using System.Threading;
using System.Xml;
using System.Xml.Linq;
using NUnit.Framework;

namespace ConnPool.Tests
{
    [TestFixture]
    [Timeout(120000)]
    public class PoolTest
    {
        static readonly TimeSpan Long = TimeSpan.FromSeconds(10);

        /// <summary>Stats JSON through the framework's own JSON reader (JSON as an XML tree).</summary>
        static XElement Stats(Pool<FakeFactory.Conn> pool)
        {
            var bytes = Encoding.UTF8.GetBytes(pool.StatsJson());
            using (var reader = JsonReaderWriterFactory.CreateJsonReader(bytes, XmlDictionaryReaderQuotas.Max))
                return XElement.Load(reader);
        }

        static long Num(XElement stats, string section, string field)
        {
            return long.Parse(stats.Element(section).Element(field).Value);
        }

        static Pool<FakeFactory.Conn> MakePool(FakeFactory f, int maxSize, params object[] extra)
        {
            var cfg = new Dictionary<string, object> {
                { "name", "csharp-test" }, { "max_size", maxSize }, { "retry_initial_ms", 10 }, { "retry_max_ms", 50 } };
            for (int i = 0; i + 1 < extra.Length; i += 2) cfg[(string)extra[i]] = extra[i + 1];
            return new Pool<FakeFactory.Conn>(f, cfg);
        }

        [Test]
        public void AcquireAndReleaseThroughUsing()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 4))
            {
                FakeFactory.Conn first;
                using (var lease = pool.Acquire(Long))
                {
                    first = lease.Connection;
                    Assert.IsTrue(first.Open);
                    Assert.AreEqual(1, Num(Stats(pool), "connections", "in_use"));
                }
                Assert.AreEqual(0, Num(Stats(pool), "connections", "in_use"));
                using (var lease = pool.Acquire(Long))
                    Assert.AreSame(first, lease.Connection, "the released connection is reused");
                Assert.AreEqual(State.READY, pool.State);
                Assert.AreEqual(200, pool.HttpStatus);
                Assert.AreEqual(2, Num(Stats(pool), "counters", "acquired"));
            }
            Assert.AreEqual(f.Created, f.Destroyed);
            Assert.AreEqual(0, f.OpenConns.Count);
        }

        [Test]
        public void DiscardDestroysAndLeaseIsSingleUse()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 2))
            {
                var lease = pool.Acquire(Long);
                var c = lease.Connection;
                lease.Discard();
                lease.Dispose();  // ignored: already returned
                Assert.Throws<ObjectDisposedException>(() => { var x = lease.Connection; });
                Assert.IsFalse(c.Open);
                Assert.AreEqual(1, Num(Stats(pool), "counters", "closed_broken"));
                Assert.AreEqual(0, Num(Stats(pool), "counters", "stale_releases"));
            }
        }

        [Test]
        public void TimeoutIsPoolTimeoutException()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 1))
            using (var held = pool.Acquire(Long))
            {
                var e = Assert.Throws<PoolTimeoutException>(() => pool.Acquire(TimeSpan.FromMilliseconds(30)));
                Assert.AreEqual(2, e.Code);
                Assert.AreEqual(Status.ETIMEOUT, e.Status);
                Assert.AreEqual("CONNPOOL_ETIMEOUT", e.CodeName);
                Assert.AreEqual(503, e.HttpStatus);
                Assert.IsInstanceOf<PoolException>(e);
                Assert.AreEqual(1, Num(Stats(pool), "counters", "timeouts"));
                Assert.IsNotNull(held.Connection);
            }
        }

        [Test]
        public void FatalCreateMakesThePoolUnavailable()
        {
            var f = new FakeFactory { FatalCreate = true };
            using (var pool = MakePool(f, 2))
            {
                var e = Assert.Throws<PoolUnavailableException>(() => pool.Acquire(Long));
                Assert.AreEqual(3, e.Code);
                Assert.AreEqual(503, e.HttpStatus);
                Assert.AreEqual(State.UNAVAILABLE, pool.State);
                Assert.AreEqual(503, pool.HttpStatus);
                var s = Stats(pool);
                Assert.AreEqual("unavailable", s.Element("state").Value);
                StringAssert.Contains("authentication failed", s.Element("last_error").Element("message").Value);
                Assert.GreaterOrEqual(Num(s, "counters", "create_failures"), 1);
            }
        }

        [Test]
        public void ThrowingCreateIsAFailedCreateNotACrash()
        {
            var f = new FakeFactory { ThrowCreates = 3 };
            using (var pool = MakePool(f, 2))
            {
                using (var lease = pool.Acquire(Long))
                    Assert.IsTrue(lease.Connection.Open);
                var s = Stats(pool);
                Assert.AreEqual(3, Num(s, "counters", "create_failures"));
                Assert.AreEqual(1, Num(s, "counters", "created"));
                var msg = s.Element("last_error").Element("message").Value;
                StringAssert.Contains("boom from create", msg);
                StringAssert.Contains("InvalidOperationException", msg);
            }
        }

        [Test]
        public void NoWaitAcquireWithFailingCreate()
        {
            var f = new FakeFactory { ThrowCreates = int.MaxValue };
            using (var pool = MakePool(f, 2))
            {
                var e = Assert.Catch<PoolException>(() => pool.Acquire(TimeSpan.Zero));
                // EFACTORY when this call ran the create; ETIMEOUT if a connector thread was
                // already creating (the pool starts connecting at once).
                Assert.IsTrue(e is PoolFactoryException || e is PoolTimeoutException, e.ToString());
                if (e is PoolFactoryException)
                {
                    Assert.AreEqual(7, e.Code);
                    Assert.AreEqual(502, e.HttpStatus);
                }
            }
            Assert.AreEqual(0, f.Created);
        }

        [Test]
        public void ThrowingValidateDestroysTheConnection()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 1, "validate_on_acquire", "always"))
            {
                FakeFactory.Conn first;
                using (var lease = pool.Acquire(Long)) first = lease.Connection;
                f.ThrowValidates = 1;
                using (var lease = pool.Acquire(Long)) Assert.AreNotSame(first, lease.Connection);
                Assert.IsFalse(first.Open);
                Assert.AreEqual(1, Num(Stats(pool), "counters", "validation_failures"));
            }
        }

        [Test]
        public void BackgroundThreadsCallTheCSharpFactory()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 4, "min_idle", 2, "maintenance_interval_ms", 10, "validate_interval_ms", 10))
            {
                // No acquire at all: the connectors fill min_idle, the maintenance thread validates.
                Assert.IsTrue(Wait.Until(Long, () => Num(Stats(pool), "connections", "idle") == 2));
                Assert.IsTrue(Wait.Until(Long, () => Interlocked.Read(ref f.Validated) >= 2), "keepalive validation ran");
                Assert.AreEqual(2, Interlocked.Read(ref f.Created));
                Assert.IsNotEmpty(f.CallbackThreads.Keys.ToList());
                pool.AwaitReady(Long);
            }
            Assert.AreEqual(2, f.Destroyed);
        }

        [Test]
        public void EightThreadsHammerOnePool()
        {
            var f = new FakeFactory();
            const int threads = 8, iterations = 3000;
            Exception failure = null;
            using (var pool = MakePool(f, 4, "validate_on_acquire", "never"))
            {
                var start = new ManualResetEventSlim(false);
                var workers = new List<Thread>();
                for (int t = 0; t < threads; t++)
                {
                    int seed = t;
                    var w = new Thread(() =>
                    {
                        try
                        {
                            start.Wait();
                            for (int i = 0; i < iterations; i++)
                            {
                                using (var lease = pool.Acquire(Long))
                                {
                                    if (!lease.Connection.Open) throw new Exception("leased a destroyed connection");
                                    if ((i + seed) % 97 == 0) lease.Discard();
                                }
                            }
                        }
                        catch (Exception e)
                        {
                            Interlocked.CompareExchange(ref failure, e, null);
                        }
                    });
                    workers.Add(w);
                    w.Start();
                    f.Callers[w.ManagedThreadId] = true;
                }
                start.Set();
                foreach (var w in workers) w.Join();
                Assert.IsNull(failure, failure == null ? "" : failure.ToString());
                Assert.IsTrue(Wait.Until(Long, () => Num(Stats(pool), "connections", "creating") == 0));
                var s = Stats(pool);
                Assert.AreEqual((long)threads * iterations, Num(s, "counters", "acquired"));
                Assert.AreEqual(Num(s, "counters", "created"), Num(s, "counters", "destroyed") + Num(s, "connections", "total"), s.ToString());
                Assert.LessOrEqual(Num(s, "connections", "total"), 4);
                Assert.AreEqual(Interlocked.Read(ref f.Created), Num(s, "counters", "created"));
                Assert.IsTrue(pool.Drain(Long));
                var after = Stats(pool);
                Assert.AreEqual(Num(after, "counters", "created"), Num(after, "counters", "destroyed"));
            }
            Assert.AreEqual(f.Created, f.Destroyed);
            Assert.AreEqual(0, f.OpenConns.Count);
        }

        [Test]
        public void StatsJsonParses()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 3, "name", "orders", "min_idle", 1))
            using (var lease = pool.Acquire(Long))
            {
                var s = Stats(pool);
                Assert.AreEqual("orders", s.Element("name").Value);
                Assert.AreEqual("ready", s.Element("state").Value);
                Assert.AreEqual(200, long.Parse(s.Element("http_status").Value));
                Assert.AreEqual(3, Num(s, "connections", "max_size"));
                Assert.AreEqual(1, Num(s, "connections", "min_idle"));
                Assert.AreEqual(1, Num(s, "connections", "in_use"));
                Assert.AreEqual("array", s.Element("leaks").Attribute("type").Value);
                Assert.IsNotNull(s.Element("acquire_wait_us").Element("p99"));
                StringAssert.Contains("pool=\"orders\"", pool.MetricsText());
            }
        }

        [Test]
        public void ConfigErrorsArePoolConfigException()
        {
            var f = new FakeFactory();
            var e = Assert.Throws<PoolConfigException>(() => new Pool<FakeFactory.Conn>(f, new Dictionary<string, object> { { "max_sizes", 3 } }));
            Assert.AreEqual(1, e.Code);
            Assert.AreEqual(500, e.HttpStatus);
            StringAssert.Contains("max_sizes", e.Message);
            e = Assert.Throws<PoolConfigException>(() => new Pool<FakeFactory.Conn>(f, new Dictionary<string, object> { { "max_size", 0 } }));
            StringAssert.Contains("max_size", e.Message);
            Assert.Throws<PoolConfigException>(() => Pool<FakeFactory.Conn>.FromJson(f, "{\"max_size\": "));
            using (var pool = Pool<FakeFactory.Conn>.FromJson(f, "{\"max_size\": 2, \"acquire_timeout_ms\": 20, \"reset_on_release\": false}"))
            // Creates run on connector threads, so the first two wait generously; the third, with
            // the pool full, must give up after the configured 20 ms.
            using (var a = pool.Acquire(Long))
            using (var b = pool.Acquire(Long))
            {
                Assert.AreNotSame(a.Connection, b.Connection);
                Assert.Throws<PoolTimeoutException>(() => pool.Acquire());
            }
            using (var pool = new Pool<FakeFactory.Conn>(f, new Dictionary<string, object> {
                { "acquire_timeout_ms", TimeSpan.FromMilliseconds(20) }, { "reset_on_release", false }, { "retry_multiplier", 1.5 } }))
            using (var a = pool.Acquire(Long))
                Assert.IsNotNull(a.Connection);
        }

        [Test]
        public void EveryStatusCodeHasItsException()
        {
            foreach (Status s in Enum.GetValues(typeof(Status)))
            {
                var e = PoolException.From((int)s, "detail");
                Assert.AreEqual((int)s, e.Code);
                Assert.AreEqual("CONNPOOL_" + s, e.CodeName);
                StringAssert.EndsWith(": detail", e.Message);
            }
            Assert.IsInstanceOf<PoolConfigException>(PoolException.From(1, null));
            Assert.IsInstanceOf<PoolTimeoutException>(PoolException.From(2, null));
            Assert.IsInstanceOf<PoolUnavailableException>(PoolException.From(3, null));
            Assert.IsInstanceOf<PoolClosedException>(PoolException.From(4, null));
            Assert.IsInstanceOf<PoolOverloadException>(PoolException.From(5, null));
            Assert.IsInstanceOf<PoolStaleLeaseException>(PoolException.From(6, null));
            Assert.IsInstanceOf<PoolFactoryException>(PoolException.From(7, null));
            Assert.AreEqual(503, PoolException.From(5, null).HttpStatus);
            Assert.AreEqual(Status.EINTERNAL, PoolException.From(999, null).Status);
            // The HTTP column of the status table, code by code (1 EINVAL ... 11 PENDING).
            int[] http = { 500, 503, 503, 503, 503, 500, 502, 500, 500, 500, 500 };
            for (int code = 1; code <= 11; code++)
                Assert.AreEqual(http[code - 1], PoolException.From(code, null).HttpStatus, "code " + code);
            foreach (int code in new[] { 8, 9, 10 })
                Assert.AreEqual(typeof(PoolException), PoolException.From(code, null).GetType(), "code " + code);
        }

        [Test]
        public void OverloadIsPoolOverloadException()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 1, "max_waiters", 1))
            {
                var held = pool.Acquire(Long);
                Exception waited = null;
                var waiter = new Thread(() =>
                {
                    try { pool.Acquire(Long).Dispose(); }
                    catch (Exception e) { waited = e; }
                });
                waiter.Start();
                Assert.IsTrue(Wait.Until(Long, () => long.Parse(Stats(pool).Element("waiters").Value) == 1));
                var e2 = Assert.Throws<PoolOverloadException>(() => pool.Acquire(Long));
                Assert.AreEqual(5, e2.Code);
                Assert.AreEqual(503, e2.HttpStatus);
                held.Dispose();  // hands the connection to the queued waiter
                waiter.Join();
                Assert.IsNull(waited);
                Assert.AreEqual(1, Num(Stats(pool), "counters", "overload"));
            }
        }

        [Test]
        public void DisposeWakesWaitersAndLeasesOutliveIt()
        {
            var f = new FakeFactory();
            var pool = MakePool(f, 1);
            var held = pool.Acquire(Long);
            Exception waited = null;
            var waiter = new Thread(() =>
            {
                try { pool.Acquire(TimeSpan.FromSeconds(60)).Dispose(); }
                catch (Exception e) { waited = e; }
            });
            waiter.Start();
            Assert.IsTrue(Wait.Until(Long, () => long.Parse(Stats(pool).Element("waiters").Value) == 1));
            pool.Dispose();
            waiter.Join();
            Assert.IsInstanceOf<PoolClosedException>(waited);
            Assert.IsTrue(pool.IsClosed);
            Assert.Throws<PoolClosedException>(() => pool.Acquire(Long));
            Assert.Throws<PoolClosedException>(() => pool.StatsJson());
            Assert.AreEqual(State.CLOSED, pool.State);
            pool.Dispose();  // idempotent
            var c = held.Connection;
            Assert.IsTrue(c.Open, "a leased connection survives Dispose");
            held.Dispose();  // the native pool stays alive for this release
            Assert.IsFalse(c.Open, "released after Dispose: destroyed");
            Assert.AreEqual(f.Created, f.Destroyed);
        }

        static void MakeAndDrop(FakeFactory f, int count)
        {
            for (int i = 0; i < count; i++)
            {
                var pool = MakePool(f, 2, "min_idle", 1, "maintenance_interval_ms", 10);
                pool.Acquire(Long).Dispose();
            }
        }

        [Test]
        public void DroppedPoolsAreCollectedWithoutDispose()
        {
            long before = Interlocked.Read(ref FactoryAdapter<FakeFactory.Conn>.Released);
            var f = new FakeFactory();
            const int pools = 20;
            MakeAndDrop(f, pools);
            // Each dropped pool is closed by the finalizer: connections destroyed, the director
            // released by the native side after the last callback.
            Assert.IsTrue(Wait.Until(TimeSpan.FromSeconds(60), () =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return Interlocked.Read(ref FactoryAdapter<FakeFactory.Conn>.Released) - before >= pools;
            }), "released " + (Interlocked.Read(ref FactoryAdapter<FakeFactory.Conn>.Released) - before) + " of " + pools);
            Assert.IsTrue(Wait.Until(Long, () => Interlocked.Read(ref f.Created) == Interlocked.Read(ref f.Destroyed)));
            Assert.AreEqual(0, f.OpenConns.Count);
        }
    

        [Test]
        public void ResizeGrowsShrinksAndRefusesBadSizes()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 1))
            {
                var held = pool.Acquire(Long);
                Assert.Throws<PoolTimeoutException>(() => pool.Acquire(TimeSpan.Zero));
                pool.Resize(0, 2);
                var second = pool.Acquire(Long);
                Assert.AreEqual(2, Num(Stats(pool), "connections", "max_size"));
                pool.Resize(0, 1);
                held.Dispose();
                second.Dispose();
                Assert.AreEqual(1, Num(Stats(pool), "connections", "total"));
                Assert.AreEqual(1, Num(Stats(pool), "counters", "closed_shrink"));
                foreach (var bad in new[] { new[] { 0, 0 }, new[] { -1, 2 }, new[] { 3, 2 }, new[] { 0, 100001 } })
                {
                    var e = Assert.Throws<PoolConfigException>(() => pool.Resize(bad[0], bad[1]));
                    StringAssert.Contains("max_size 1..100000", e.Message);
                }
                Assert.IsTrue(pool.Drain(Long));
                Assert.Throws<PoolClosedException>(() => pool.Resize(0, 3));
            }
            Assert.AreEqual(f.Created, f.Destroyed);
        }

        [Test]
        public void SharedLeasesAndAdaptiveStats()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 1, "max_leases_per_conn", 3, "adaptive_sizing", true, "adaptive_target_wait_ms", 5))
            {
                var leases = new List<Lease<FakeFactory.Conn>>();
                for (int i = 0; i < 3; i++) leases.Add(pool.Acquire(Long));
                Assert.AreSame(leases[0].Connection, leases[2].Connection, "one connection carries all three");
                var stats = Stats(pool);
                Assert.AreEqual(3, Num(stats, "connections", "in_use"));
                Assert.AreEqual(1, Num(stats, "connections", "busy"));
                Assert.AreEqual("true", stats.Element("adaptive").Element("enabled").Value);
                Assert.AreEqual(5, Num(stats, "adaptive", "target_wait_ms"));
                // The first share is on the handle fast path, the others spill to the lease
                // path: each names its own native lease and every one comes back.
                var ids = new HashSet<long>();
                foreach (var l in leases) ids.Add(l.Id);
                Assert.AreEqual(3, ids.Count, "three distinct native leases");
                Assert.IsFalse(ids.Contains(0));
                var conn = leases[0].Connection;
                foreach (var l in leases) l.Dispose();
                Assert.AreEqual(0, Num(Stats(pool), "connections", "in_use"));
                using (var again = pool.Acquire(Long))
                    Assert.AreSame(conn, again.Connection, "the connection serves again");
            }
        }
    }
}
