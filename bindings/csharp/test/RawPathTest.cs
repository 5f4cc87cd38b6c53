// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using NUnit.Framework;

namespace ConnPool.Tests
{
    /// <summary>
    /// The raw internal call path (RawPath): used when this Mono has it, and everything a caller
    /// can see (results, exceptions, stats, factory calls) the same with it switched off.
    /// </summary>
    [TestFixture]
    [Timeout(120000)]
    public class RawPathTest
    {
        static readonly TimeSpan Long = TimeSpan.FromSeconds(10);

        /// <summary>A FakeFactory that also resets, and can fail its validations.</summary>
        sealed class ResettingFactory : FakeFactory
        {
            public long Resets;
            public volatile bool Broken;
            public override bool Reset(Conn c)
            {
                Interlocked.Increment(ref Resets);
                return true;
            }
            public override bool Validate(Conn c)
            {
                return base.Validate(c) && !Broken;
            }
        }

        static Pool<FakeFactory.Conn> MakePool(FakeFactory f, int maxSize, params object[] extra)
        {
            var cfg = new Dictionary<string, object> {
                { "name", "raw" }, { "max_size", maxSize }, { "min_idle", maxSize }, { "validate_on_acquire", "never" },
                { "retry_initial_ms", 10 }, { "retry_max_ms", 50 } };
            for (int i = 0; i + 1 < extra.Length; i += 2) cfg[(string)extra[i]] = extra[i + 1];
            var pool = new Pool<FakeFactory.Conn>(f, cfg);
            pool.AwaitReady(Long);
            Assert.IsTrue(Wait.Until(Long, () => pool.Stats().Connections.Idle == maxSize));
            return pool;
        }

        [Test]
        public void RawPathIsUsedWhenThisMonoHasIt()
        {
            if (Environment.GetEnvironmentVariable("CONNPOOL_CS_NO_RAW") == "1")
            {
                Assert.IsFalse(RawPath.Registered, "CONNPOOL_CS_NO_RAW=1 switches it off");
                Assert.IsFalse(RawPath.Enabled);
                return;
            }
            Assert.IsTrue(RawPath.Registered, "Mono 6.8 has mono_dangerous_add_raw_internal_call");
            Assert.IsTrue(RawPath.Enabled);
            var f = new FakeFactory();
            using (var pool = MakePool(f, 1))
            {
                // The first lease of a handle range makes the native table's room for it, which a
                // raw call may not (it allocates): Pool does that on the P/Invoke path.
                using (pool.Acquire(Long)) { }
                // The raw call itself, as Pool's hot path makes it: it serves an idle connection.
                IntPtr native = NativePool.getCPtr(pool.Native).Handle;
                long lease;
                int leave;
                long handle = RawPath.TryAcquire(native, 0, out lease, out leave);
                Assert.Greater(handle, 0);
                Assert.AreNotEqual(0, lease);
                Assert.AreEqual(0, leave);
                Assert.AreEqual(1, pool.Stats().Connections.InUse);
                int rc = RawPath.TryRelease(native, handle, lease);
                // A thread's first leases per clock tick are timed: their release is declined.
                if (rc == RawPath.Taken) rc = FastPath.ReleaseTaken(NativePool.getCPtr(pool.Native), lease, 0);
                Assert.AreEqual(0, rc);
                Assert.AreEqual((int)Status.ESTALE, RawPath.TryRelease(native, handle, lease), "given back already");
                // Nothing idle: declined, nothing held, nothing counted.
                var held = pool.Acquire(Long);
                Assert.AreEqual(0, RawPath.TryAcquire(native, 0, out lease, out leave));
                Assert.AreEqual(0, leave);
                held.Dispose();
                var s = pool.Stats();
                Assert.AreEqual(0, s.Connections.InUse);
                Assert.AreEqual(3, s.Counters.Acquired);
                Assert.AreEqual(0, s.Counters.Timeouts);
                Assert.AreEqual(0, s.Counters.StaleReleases);
            }
        }

        /// <summary>What one run of the scenario showed, as text to compare.</summary>
        static string Scenario()
        {
            var seen = new StringBuilder();
            var f = new ResettingFactory();
            using (var pool = MakePool(f, 2))
            {
                for (int i = 0; i < 200; i++)
                    using (var l = pool.Acquire(Long)) if (!l.Connection.Open) seen.Append("closed conn;");
                var a = pool.Acquire(Long);
                var copy = a;
                a.Dispose();
                copy.Dispose();  // a copy given back twice: once only
                var b = pool.Acquire(Long);
                var c = pool.Acquire(Long);
                try
                {
                    pool.Acquire(TimeSpan.Zero);
                }
                catch (PoolException e)
                {
                    seen.Append(e.GetType().Name).Append(';');
                }
                b.Discard();
                c.Dispose();
                var s = pool.Stats();
                seen.AppendFormat("acquired={0} timeouts={1} stale={2} broken={3} destroyed={4} resets={5};",
                    s.Counters.Acquired, s.Counters.Timeouts, s.Counters.StaleReleases, s.Counters.ClosedBroken,
                    s.Counters.Destroyed, Interlocked.Read(ref f.Resets));
                var outlived = pool.Acquire(Long);
                pool.Dispose();
                try
                {
                    pool.Acquire(Long);
                }
                catch (PoolException e)
                {
                    seen.Append(e.GetType().Name).Append(';');
                }
                outlived.Dispose();  // after the pool closed: its connection is destroyed
            }
            // How many were made depends on whether min_idle's refill after the Discard ran before
            // the Dispose; that every one made was destroyed does not.
            seen.AppendFormat("all destroyed={0};", Interlocked.Read(ref f.Created) == Interlocked.Read(ref f.Destroyed));
            // A pool that validates every acquire: each raw claim is finished on the ordinary path.
            var v = new ResettingFactory();
            using (var pool = MakePool(v, 1, "validate_on_acquire", "always", "reset_on_release", false))
            {
                for (int i = 0; i < 50; i++)
                    using (pool.Acquire(Long)) { }
                v.Broken = true;
                try
                {
                    pool.Acquire(Long).Dispose();  // a replacement is made for it
                }
                catch (PoolException e)
                {
                    seen.Append(e.GetType().Name).Append(';');
                }
                v.Broken = false;
                using (pool.Acquire(Long)) { }
                var s = pool.Stats();
                seen.AppendFormat("validated>=51={0} failures>0={1} acquired={2} resets={3};",
                    Interlocked.Read(ref v.Validated) >= 51, s.Counters.ValidationFailures > 0, s.Counters.Acquired,
                    Interlocked.Read(ref v.Resets));
            }
            return seen.ToString();
        }

        [Test]
        public void BehaviourIsTheSameWithTheRawPathOff()
        {
            bool was = RawPath.Enabled;
            try
            {
                RawPath.Enabled = false;
                string pinvoke = Scenario();
                RawPath.Enabled = RawPath.Registered;
                string raw = Scenario();
                Assert.AreEqual(pinvoke, raw);
                StringAssert.Contains("acquired=203 timeouts=1 stale=0 broken=1", raw);
                StringAssert.Contains("resets=202;", raw);
            }
            finally
            {
                RawPath.Enabled = was;
            }
        }

        [Test]
        public void ThreadsSharingFewConnectionsLoseAndDoubleNone()
        {
            var f = new FakeFactory();
            const int threads = 4, cycles = 20000;
            using (var pool = MakePool(f, 2))
            {
                long failures = 0, doubled = 0;
                var inUse = new System.Collections.Concurrent.ConcurrentDictionary<FakeFactory.Conn, bool>();
                var workers = new List<Thread>();
                for (int t = 0; t < threads; t++)
                {
                    var th = new Thread(() =>
                    {
                        try
                        {
                            for (int i = 0; i < cycles; i++)
                            {
                                using (var l = pool.Acquire(TimeSpan.FromSeconds(20)))
                                {
                                    if (!inUse.TryAdd(l.Connection, true)) Interlocked.Increment(ref doubled);
                                    if (i % 5 == 0) Thread.Yield();
                                    bool ignored;
                                    inUse.TryRemove(l.Connection, out ignored);
                                }
                            }
                        }
                        catch (Exception)
                        {
                            Interlocked.Increment(ref failures);
                        }
                    });
                    th.Start();
                    workers.Add(th);
                }
                foreach (var th in workers) th.Join();
                Assert.AreEqual(0, failures);
                Assert.AreEqual(0, doubled);
                var s = pool.Stats();
                Assert.AreEqual(threads * cycles, s.Counters.Acquired);
                Assert.AreEqual(0, s.Connections.InUse);
                Assert.AreEqual(0, s.Waiters);
            }
        }
    }
}
