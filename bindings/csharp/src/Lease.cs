// SPDX-License-Identifier: Apache-2.0
using System;
using System.Runtime.CompilerServices;

namespace ConnPool
{
    /// <summary>
    /// One borrowed connection: <c>using (var lease = pool.Acquire(timeout)) { ... }</c> (or
    /// <c>using var lease = ...</c> with C# 8). Dispose gives it back (reset first when
    /// configured); <see cref="Discard"/> reports it broken so the pool destroys it. Either may
    /// be called more than once or after the pool was disposed; only the first counts.
    /// </summary>
    /// <remarks>
    /// A value type, so that an acquire/release cycle allocates nothing. It carries the native
    /// lease value, which names this one lease of the connection (a pool tag, a slot, a
    /// generation): giving back a lease that was given back already, also through a copy of
    /// this struct made before the first Dispose, is detected natively and does nothing, even
    /// when the connection is leased again by then. A copy does not see that another copy was
    /// disposed, so its <see cref="Connection"/> still answers; use the variable you acquired
    /// into. <c>default(Lease&lt;T&gt;)</c> holds nothing: Dispose is a no-op, Connection throws.
    /// </remarks>
    public struct Lease<T> : IDisposable
    {
        private readonly Pool<T> pool;
        // > 0: the native facade holds the lease by this handle (the fast path); 0: the pool
        // tracks the lease itself (shared connections, cancellable, asynchronous, group).
        private readonly long handle;
        private readonly long id;
        private readonly T connection;
        private bool done;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal Lease(Pool<T> pool, long handle, long id, T connection)
        {
            this.pool = pool;
            this.handle = handle;
            this.id = id;
            this.connection = connection;
            done = false;
        }

        /// <summary>Your connection object, as your factory's Create returned it.</summary>
        public T Connection
        {
            get
            {
                if (done || pool == null) throw new ObjectDisposedException("Lease", "lease already returned");
                return connection;
            }
        }

        /// <summary>The native lease value (matches "lease" in the stats' leaks list); 0 for default(Lease).</summary>
        public long Id { get { return id; } }

        /// <summary>Returns the connection to the pool. Idempotent.</summary>
        public void Dispose()
        {
            if (done || pool == null) return;
            done = true;
            pool.GiveBack(handle, id, false);
        }

        /// <summary>Returns the connection as broken: the pool destroys it.</summary>
        public void Discard()
        {
            if (done || pool == null) return;
            done = true;
            pool.GiveBack(handle, id, true);
        }
    }
}
