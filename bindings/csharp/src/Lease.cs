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
        // The native lease. On the fast path the native facade holds it by handle (> 0) and
        // this is 0 until Id asks for it.
        private long id;
        private readonly long handle;
        private readonly T connection;
        private int done;

        internal Lease(Pool<T> pool, long id, long handle, T connection)
        {
            this.pool = pool;
            this.id = id;
            this.handle = handle;
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

        /// <summary>
        /// The native lease value (matches "lease" in the stats' leaks list); ask while the lease
        /// is out (afterwards it is the value asked for then, or 0).
        /// </summary>
        public long Id
        {
            get
            {
                if (id == 0 && handle != 0 && Volatile.Read(ref done) == 0) id = pool.LeaseOfHandle(handle);
                return id;
            }
        }

        /// <summary>Returns the connection to the pool. Idempotent.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref done, 1) == 0) GiveBack(false);
        }

        /// <summary>Returns the connection as broken: the pool destroys it.</summary>
        public void Discard()
        {
            if (Interlocked.Exchange(ref done, 1) == 0) GiveBack(true);
        }

        private void GiveBack(bool broken)
        {
            if (handle != 0) pool.ReleaseHandle(handle, broken); else pool.Release(id, broken);
        }
    }
}
