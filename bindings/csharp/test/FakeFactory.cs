// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Concurrent;
using System.Threading;

namespace ConnPool.Tests
{
    /// <summary>A factory written in C# for the tests: counts everything and can be told to fail.</summary>
    public class FakeFactory : ConnectionFactory<FakeFactory.Conn>
    {
        public sealed class Conn
        {
            public readonly long Id;
            public volatile bool Open = true;
            public Conn(long id) { Id = id; }
        }

        public long Created, Destroyed, Validated;
        public readonly ConcurrentDictionary<Conn, bool> OpenConns = new ConcurrentDictionary<Conn, bool>();
        /// <summary>Managed thread ids that ran a callback, other than the registered callers.</summary>
        public readonly ConcurrentDictionary<int, bool> CallbackThreads = new ConcurrentDictionary<int, bool>();
        public readonly ConcurrentDictionary<int, bool> Callers = new ConcurrentDictionary<int, bool>();
        public int ThrowCreates, ThrowValidates;
        public volatile bool FatalCreate;

        public FakeFactory()
        {
            Callers[Thread.CurrentThread.ManagedThreadId] = true;
        }

        private void Note()
        {
            int id = Thread.CurrentThread.ManagedThreadId;
            if (!Callers.ContainsKey(id)) CallbackThreads[id] = true;
        }

        private static bool TakeOne(ref int counter)
        {
            while (true)
            {
                int n = Volatile.Read(ref counter);
                if (n <= 0) return false;
                if (Interlocked.CompareExchange(ref counter, n - 1, n) == n) return true;
            }
        }

        public override Conn Create()
        {
            Note();
            if (FatalCreate) throw new CreateException("authentication failed for user app", fatal: true);
            if (TakeOne(ref ThrowCreates)) throw new InvalidOperationException("boom from create");
            var c = new Conn(Interlocked.Increment(ref Created));
            OpenConns[c] = true;
            return c;
        }

        public override void Destroy(Conn c)
        {
            Note();
            if (!c.Open) throw new InvalidOperationException("destroyed twice");
            c.Open = false;
            bool ignored;
            OpenConns.TryRemove(c, out ignored);
            Interlocked.Increment(ref Destroyed);
        }

        public override bool Validate(Conn c)
        {
            Note();
            Interlocked.Increment(ref Validated);
            if (TakeOne(ref ThrowValidates)) throw new InvalidOperationException("boom from validate");
            return c.Open;
        }
    }

    internal static class Wait
    {
        /// <summary>Polls a condition until a deadline (never a fixed sleep used as synchronisation).</summary>
        public static bool Until(TimeSpan deadline, Func<bool> cond)
        {
            var end = DateTime.UtcNow + deadline;
            while (!cond())
            {
                if (DateTime.UtcNow > end) return false;
                Thread.Sleep(5);
            }
            return true;
        }
    }
}
