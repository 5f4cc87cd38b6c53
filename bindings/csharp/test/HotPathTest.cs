// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Threading;
using NUnit.Framework;

namespace ConnPool.Tests
{
    /// <summary>The acquire/release fast path: no allocation, and a struct Lease's copies release once.</summary>
    [TestFixture]
    [Timeout(120000)]
    public class HotPathTest
    {
        static readonly TimeSpan Long = TimeSpan.FromSeconds(10);

        static Pool<FakeFactory.Conn> MakePool(FakeFactory f, int maxSize)
        {
            return new Pool<FakeFactory.Conn>(f, new Dictionary<string, object> {
                { "name", "hot" }, { "max_size", maxSize }, { "validate_on_acquire", "never" } });
        }

        static long Cycles(Pool<FakeFactory.Conn> pool, int n)
        {
            long open = 0;
            for (int i = 0; i < n; i++)
            {
                using (var lease = pool.Acquire(Long))
                    if (lease.Connection.Open) open++;
            }
            return open;
        }

        [Test]
        public void AcquireReleaseCycleAllocatesNothing()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 2))
            {
                Cycles(pool, 1000);  // JIT, the connection's creation, first use of thread-locals
                long before = GC.GetAllocatedBytesForCurrentThread();
                long open = Cycles(pool, 20000);
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.AreEqual(20000, open);
                Assert.AreEqual(0, allocated, "bytes allocated by 20,000 acquire/release cycles");
            }
        }

        [Test]
        public void ACopyReleasedAfterTheConnectionWasLeasedAgainDoesNothing()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 1))
            {
                var first = pool.Acquire(Long);
                var copy = first;
                first.Dispose();
                var second = pool.Acquire(Long);
                Assert.AreSame(copy.Connection, second.Connection, "the same connection, leased again");
                Assert.AreNotEqual(copy.Id, second.Id, "under a new lease");
                copy.Dispose();  // stale: must not give back the second lease
                copy.Discard();
                Assert.AreEqual(1, pool.Stats().Connections.InUse);
                Assert.Throws<PoolTimeoutException>(() => pool.Acquire(TimeSpan.Zero));
                Assert.IsTrue(second.Connection.Open);
                second.Dispose();
                var s = pool.Stats();
                Assert.AreEqual(0, s.Connections.InUse);
                Assert.AreEqual(0, s.Counters.StaleReleases, "caught by the binding, never sent to the pool");
                Assert.AreEqual(0, s.Counters.ClosedBroken);
            }
        }

        [Test]
        public void CopiesOfLeasesOffTheFastPathReleaseOnce()
        {
            var f = new FakeFactory();
            using (var pool = MakePool(f, 2))
            using (var cts = new CancellationTokenSource())
            {
                var a = pool.Acquire(Long, cts.Token);           // cancellable: the lease path
                var b = pool.AcquireAsync(Long, cts.Token).Result;
                var copies = new[] { a, b };
                a.Dispose();
                b.Discard();
                foreach (var c in copies) c.Dispose();
                var s = pool.Stats();
                Assert.AreEqual(0, s.Connections.InUse);
                Assert.AreEqual(1, s.Counters.ClosedBroken);
                Assert.AreEqual(0, s.Counters.StaleReleases);
            }
        }

        [Test]
        public void DefaultLeaseHoldsNothing()
        {
            var none = default(Lease<FakeFactory.Conn>);
            none.Dispose();
            none.Discard();
            Assert.AreEqual(0, none.Id);
            Assert.Throws<ObjectDisposedException>(() => { var c = none.Connection; });
        }
    }
}
