// SPDX-License-Identifier: Apache-2.0
using System;
using System.Runtime.CompilerServices;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading;

namespace ConnPool
{
    /// <summary>
    /// The director the native pool calls: maps the pool's opaque handles to the user's
    /// connection objects and catches every exception, so none unwinds into native code.
    /// </summary>
    /// <remarks>
    /// Ownership: the native pool owns the C++ director (swigRelease), and a GCHandle keeps
    /// this object and its callback delegates alive until the pool's last callback, when
    /// released() frees it. It must not reference the Pool, or a dropped pool could never be
    /// collected.
    /// </remarks>
    internal sealed class FactoryAdapter<T> : NativeFactory
    {
        private readonly ConnectionFactory<T> factory;
        private readonly HandleTable<T> connections = new HandleTable<T>();
        private GCHandle self;

        /// <summary>Adapters whose native pool made its last callback (tests watch dropped pools).</summary>
        internal static long Released;

        internal FactoryAdapter(ConnectionFactory<T> factory)
            : base(Overrides(factory, "Validate"), Overrides(factory, "Reset"))
        {
            this.factory = factory;
            self = GCHandle.Alloc(this);
        }

        private static bool Overrides(ConnectionFactory<T> factory, string name)
        {
            try
            {
                var m = factory.GetType().GetMethod(name, new[] { typeof(T) });
                return m == null || m.DeclaringType != typeof(ConnectionFactory<T>);
            }
            catch (Exception)
            {
                return true;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal bool TryGet(long handle, out T connection)
        {
            return connections.TryGet(handle, out connection);
        }

        public override void create(NativeCreateResult result)
        {
            try
            {
                T conn = factory.Create();
                if (conn == null)
                {
                    result.retry("ConnectionFactory.Create returned null");
                    return;
                }
                result.succeed(connections.Add(conn));
            }
            catch (CreateException e)
            {
                try
                {
                    if (e.Fatal) result.fatal(e.Message); else result.retry(e.Message);
                }
                catch (Exception)
                {
                }
            }
            catch (Exception e)
            {
                try
                {
                    result.retry("ConnectionFactory.Create threw " + e.GetType().FullName + ": " + e.Message);
                }
                catch (Exception)
                {
                }
            }
        }

        public override void destroy(long handle)
        {
            try
            {
                T conn;
                if (connections.TryRemove(handle, out conn)) factory.Destroy(conn);
            }
            catch (Exception)
            {
                // The connection is gone from the pool either way; no one to report to.
            }
        }

        public override bool validate(long handle)
        {
            try
            {
                T conn;
                return connections.TryGet(handle, out conn) && factory.Validate(conn);
            }
            catch (Exception)
            {
                return false;
            }
        }

        public override bool reset(long handle)
        {
            try
            {
                T conn;
                return connections.TryGet(handle, out conn) && factory.Reset(conn);
            }
            catch (Exception)
            {
                return false;
            }
        }

        /// <summary>
        /// Pending acquires by ticket: the outcome's target, or an early outcome that came
        /// before its target was registered (the dispatcher may call acquired() before
        /// acquireAsyncTicket returns). Whoever finds the other's entry removes it and delivers.
        /// </summary>
        private readonly ConcurrentDictionary<long, object> pending = new ConcurrentDictionary<long, object>();

        private sealed class Early
        {
            internal int Status;
            internal long Lease;
            internal long Handle;
        }

        internal void Await(long ticket, IAcquireOutcome target)
        {
            if (pending.TryAdd(ticket, target)) return;
            object early;
            pending.TryRemove(ticket, out early);
            var e = (Early)early;
            target.Deliver(e.Status, e.Lease, e.Handle);
        }

        public override void acquired(long ticket, int status, long lease, long handle)
        {
            try
            {
                object target;
                if (!pending.TryRemove(ticket, out target))
                {
                    if (pending.TryAdd(ticket, new Early { Status = status, Lease = lease, Handle = handle })) return;
                    pending.TryRemove(ticket, out target);
                }
                ((IAcquireOutcome)target).Deliver(status, lease, handle);
            }
            catch (Exception)
            {
                // Deliver() does not throw; nothing can be done on the dispatcher thread anyway.
            }
        }

        public override void released()
        {
            try
            {
                Interlocked.Increment(ref Released);
                if (self.IsAllocated) self.Free();
            }
            catch (Exception)
            {
            }
        }
    }
}
