// SPDX-License-Identifier: Apache-2.0
using System;
using System.Threading;

namespace ConnPool
{
    /// <summary>
    /// One borrowed connection: <c>using (var lease = pool.Acquire(timeout)) { ... }</c> (or
    /// <c>using var lease = ...</c> with C# 8). Dispose gives it back (reset first when
    /// configured); <see cref="Discard"/> reports it broken so the pool destroys it. Either may
    /// be called more than once or after the pool was disposed; only the first counts.
    /// </summary>
    public sealed class Lease<T> : IDisposable
    {
        private readonly Pool<T> pool;
        private readonly long id;
        private readonly T connection;
        private int done;

        internal Lease(Pool<T> pool, long id, T connection)
        {
            this.pool = pool;
            this.id = id;
            this.connection = connection;
        }

        /// <summary>Your connection object, as your factory's Create returned it.</summary>
        public T Connection
        {
            get
            {
                if (Volatile.Read(ref done) != 0) throw new ObjectDisposedException("Lease", "lease already returned");
                return connection;
            }
        }

        /// <summary>The native lease value (matches "lease" in the stats' leaks list).</summary>
        public long Id { get { return id; } }

        /// <summary>Returns the connection to the pool. Idempotent.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref done, 1) == 0) pool.Release(id, false);
        }

        /// <summary>Returns the connection as broken: the pool destroys it.</summary>
        public void Discard()
        {
            if (Interlocked.Exchange(ref done, 1) == 0) pool.Release(id, true);
        }
    }
}
