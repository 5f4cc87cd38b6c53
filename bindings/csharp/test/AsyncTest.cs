// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace ConnPool.Tests
{
    /// <summary>CancellationToken and Task acquires (DESIGN.md section 6, C ABI 1.2).</summary>
    [TestFixture]
    [Timeout(120000)]
    public class AsyncTest
    {
        static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

        static Pool<FakeFactory.Conn> MakePool(FakeFactory f, int maxSize, params object[] extra)
        {
            var cfg = new Dictionary<string, object> {
                { "name", "csharp-async" }, { "max_size", maxSize }, { "retry_initial_ms", 10 }, { "retry_max_ms", 50 } };
            for (int i = 0; i + 1 < extra.Length; i += 2) cfg[(string)extra[i]] = extra[i + 1];
            return new Pool<FakeFactory.Conn>(f, cfg);
        }

        static long Stat(Pool<FakeFactory.Conn> pool, string section, string field)
        {
            var doc = System.Xml.Linq.XElement.Load(System.Runtime.Serialization.Json.JsonReaderWriterFactory.CreateJsonReader(
                System.Text.Encoding.UTF8.GetBytes(pool.StatsJson()), System.Xml.XmlDictionaryReaderQuotas.Max));
            var e = section == null ? doc.Element(field) : doc.Element(section).Element(field);
            return long.Parse(e.Value);
        }

        static long Waiters(Pool<FakeFactory.Conn> pool) { return Stat(pool, null, "waiters"); }

        /// <summary>Every connection created is idle, leased or destroyed, and none is leased.</summary>
        static void AssertBooksBalanced(Pool<FakeFactory.Conn> pool, FakeFactory f)
        {
            Assert.IsTrue(Wait.Until(Long, () => Stat(pool, "connections", "in_use") == 0), "a lease was lost: " + pool.StatsJson());
            long idle = Stat(pool, "connections", "idle");
            Assert.AreEqual(Interlocked.Read(ref f.Created), idle + Interlocked.Read(ref f.Destroyed), pool.StatsJson());
            Assert.AreEqual(idle, f.OpenConns.Count);
        }

        static Exception Inner(AggregateException e) { return e.Flatten().InnerExceptions[0]; }

        [Test]
        public void CancellingTheTokenEndsABlockingWaitWithOperationCanceledException()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 1))
            using (var cts = new CancellationTokenSource())
            {
                var held = pool.Acquire(Long);
                Exception thrown = null;
                var t = new Thread(() =>
                {
                    try { pool.Acquire(Long, cts.Token).Dispose(); }
                    catch (Exception e) { thrown = e; }
                });
                t.Start();
                Assert.IsTrue(Wait.Until(Long, () => Waiters(pool) == 1));
                cts.Cancel();
                Assert.IsTrue(t.Join(Long));
                Assert.IsInstanceOf<OperationCanceledException>(thrown);
                Assert.AreEqual(cts.Token, ((OperationCanceledException)thrown).CancellationToken);
                StringAssert.Contains("pool 'csharp-async'", thrown.Message, "the explain line");
                Assert.AreEqual(1, Stat(pool, "counters", "canceled"));
                // A token cancelled already throws before anything else, free connection or not.
                held.Dispose();
                Assert.Throws<OperationCanceledException>(() => pool.Acquire(Long, cts.Token));
                using (var again = pool.Acquire(Long, CancellationToken.None))
                    Assert.IsTrue(again.Connection.Open);
                AssertBooksBalanced(pool, f);
            }
        }

        [Test]
        public void AcquireAsyncIsServedAtOnceWhenFreeAndOnReleaseOtherwise()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 1))
            {
                pool.AwaitReady(Long);
                var first = pool.AcquireAsync(Long);
                Assert.IsTrue(first.IsCompleted, "a free connection completes the task at once");
                var held = first.Result;
                long heldId = held.Connection.Id;
                var second = pool.AcquireAsync(Long, CancellationToken.None);
                Assert.IsFalse(second.IsCompleted);
                Assert.IsTrue(Wait.Until(Long, () => Waiters(pool) == 1));
                string continuationThread = null;
                var id = second.ContinueWith(t =>
                {
                    continuationThread = Thread.CurrentThread.Name;
                    using (var l = t.Result) return l.Connection.Id;
                });
                held.Dispose();
                Assert.IsTrue(id.Wait(Long));
                Assert.AreEqual(heldId, id.Result, "the one connection, handed on");
                Assert.AreNotEqual("connpool-async", continuationThread, "continuations must not run on the pool's dispatcher");
                AssertBooksBalanced(pool, f);
            }
        }

        [Test]
        public void CancellingTheTokenCancelsAPendingTask()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 1))
            using (var cts = new CancellationTokenSource())
            {
                var held = pool.Acquire(Long);
                var task = pool.AcquireAsync(Long, cts.Token);
                Assert.IsTrue(Wait.Until(Long, () => Waiters(pool) == 1));
                cts.Cancel();
                var e = Assert.Throws<AggregateException>(() => task.Wait(Long));
                Assert.IsInstanceOf<TaskCanceledException>(Inner(e));
                Assert.IsTrue(task.IsCanceled);
                Assert.AreEqual(0, Waiters(pool));
                Assert.AreEqual(1, Stat(pool, "counters", "canceled"));
                Assert.IsTrue(pool.AcquireAsync(Long, cts.Token).IsCanceled, "a cancelled token: canceled at once");
                held.Dispose();
                AssertBooksBalanced(pool, f);
            }
        }

        /// <summary>A cancel racing a hand-off: the task gets the lease or is canceled, never both, none lost.</summary>
        [Test]
        public void CancelRacingAHandOffNeverLosesALease()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 1))
            {
                int served = 0, canceled = 0;
                for (int round = 0; round < 300; round++)
                {
                    var held = pool.Acquire(Long);
                    using (var cts = new CancellationTokenSource())
                    {
                        var task = pool.AcquireAsync(Long, cts.Token);
                        var go = new ManualResetEventSlim();
                        var releaser = new Thread(() => { go.Wait(); held.Dispose(); });
                        releaser.Start();
                        go.Set();
                        cts.Cancel();
                        Assert.IsTrue(releaser.Join(Long));
                        try
                        {
                            Assert.IsTrue(task.Wait(Long));
                            task.Result.Dispose();
                            served++;
                        }
                        catch (AggregateException e)
                        {
                            Assert.IsInstanceOf<TaskCanceledException>(Inner(e));
                            canceled++;
                        }
                    }
                    Assert.IsTrue(Wait.Until(Long, () => Stat(pool, "connections", "in_use") == 0), "round " + round);
                }
                Assert.AreEqual(300, served + canceled);
                AssertBooksBalanced(pool, f);
                Assert.AreEqual(1, Interlocked.Read(ref f.Created), "the one connection was never lost or replaced");
            }
        }

        [Test]
        public void ATimedOutTaskFailsWithTheExplanation()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 1))
            {
                using (pool.Acquire(Long))
                {
                    var e = Assert.Throws<AggregateException>(() => pool.AcquireAsync(TimeSpan.FromMilliseconds(30)).Wait(Long));
                    var inner = Inner(e);
                    Assert.IsInstanceOf<PoolTimeoutException>(inner);
                    StringAssert.Contains("pool 'csharp-async'", inner.Message);
                    StringAssert.Contains("max 1", inner.Message);
                    var b = Assert.Throws<PoolTimeoutException>(() => pool.Acquire(TimeSpan.FromMilliseconds(20)));
                    StringAssert.Contains("pool 'csharp-async'", b.Message);
                }
                Assert.AreEqual(2, Stat(pool, "counters", "timeouts"));
            }
        }

        [Test]
        public void DisposeFailsPendingTasksAndLaterCalls()
        {
            var f = new FakeFactory();
            var pool = MakePool(f, 1);
            var held = pool.Acquire(Long);
            var pending = Enumerable.Range(0, 5).Select(_ => pool.AcquireAsync(Long)).ToList();
            Assert.IsTrue(Wait.Until(Long, () => Waiters(pool) == 5));
            pool.Dispose();
            foreach (var t in pending)
            {
                var e = Assert.Throws<AggregateException>(() => t.Wait(Long));
                Assert.IsInstanceOf<PoolClosedException>(Inner(e));
            }
            Assert.IsInstanceOf<PoolClosedException>(Inner(Assert.Throws<AggregateException>(() => pool.AcquireAsync(Long).Wait())));
            held.Dispose();
            Assert.AreEqual(Interlocked.Read(ref f.Created), Interlocked.Read(ref f.Destroyed));
        }

        [Test]
        public void TenThousandPendingTasksAreAllServed()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 2))
            {
                var held = new[] { pool.Acquire(Long), pool.Acquire(Long) };
                int before = System.Diagnostics.Process.GetCurrentProcess().Threads.Count;
                var all = new List<Task<long>>();
                for (int i = 0; i < 10000; i++)
                    all.Add(pool.AcquireAsync(TimeSpan.FromSeconds(60)).ContinueWith(t =>
                    {
                        using (var l = t.Result) return l.Connection.Id;
                    }));
                Assert.IsTrue(Wait.Until(Long, () => Waiters(pool) == 10000));
                int during = System.Diagnostics.Process.GetCurrentProcess().Threads.Count;
                Assert.LessOrEqual(during, before + 4, "threads grew from " + before + " to " + during);
                foreach (var l in held) l.Dispose();
                Assert.IsTrue(Task.WaitAll(all.ToArray(), TimeSpan.FromSeconds(60)));
                Assert.IsTrue(all.All(t => t.Result >= 1));
                AssertBooksBalanced(pool, f);
                Assert.AreEqual(2, Interlocked.Read(ref f.Created));
            }
        }

        [Test]
        public void SharedConnectionPoolsShareAndCancelToo()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 1, "max_leases_per_conn", 2))
            using (var cts = new CancellationTokenSource())
            {
                var a = pool.AcquireAsync(Long).Result;
                var b = pool.Acquire(Long);
                Assert.AreSame(a.Connection, b.Connection, "two shares of the one connection");
                var third = pool.AcquireAsync(Long, cts.Token);
                Exception thrown = null;
                var t = new Thread(() =>
                {
                    try { pool.Acquire(Long, cts.Token).Dispose(); }
                    catch (Exception x) { thrown = x; }
                });
                t.Start();
                Assert.IsTrue(Wait.Until(Long, () => Waiters(pool) == 2));
                cts.Cancel();
                Assert.IsTrue(t.Join(Long));
                Assert.IsInstanceOf<OperationCanceledException>(thrown);
                Assert.IsInstanceOf<TaskCanceledException>(Inner(Assert.Throws<AggregateException>(() => third.Wait(Long))));
                var fourth = pool.AcquireAsync(Long);
                a.Dispose();
                using (var c = fourth.Result) Assert.AreSame(b.Connection, c.Connection);
                b.Dispose();
                AssertBooksBalanced(pool, f);
                Assert.AreEqual(1, Interlocked.Read(ref f.Created));
            }
        }
    }
}
