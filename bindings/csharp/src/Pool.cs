// SPDX-License-Identifier: Apache-2.0
using System;
using System.Runtime.CompilerServices;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace ConnPool
{
    /// <summary>
    /// A connection pool over libconnpool, with connections made by your
    /// <see cref="ConnectionFactory{T}"/>.
    /// </summary>
    /// <example><code>
    /// using (var pool = new Pool&lt;Conn&gt;(new MyFactory(), new Dictionary&lt;string, object&gt; { { "max_size", 10 } }))
    /// using (var lease = pool.Acquire(TimeSpan.FromSeconds(2)))
    ///     lease.Connection.Query("...");
    /// </code></example>
    /// <remarks>
    /// Thread-safe. Failures are <see cref="PoolException"/>s. Dispose closes the pool: waiting
    /// acquires fail with <see cref="PoolClosedException"/>, idle connections are destroyed,
    /// background threads stop; leases still out stay valid and their connections are
    /// destroyed when they come back. A pool never disposed is closed by the finalizer once
    /// unreachable, and at the latest on AppDomain.ProcessExit (so the process can exit).
    /// Do not dispose a pool from inside a factory callback.
    /// </remarks>
    public sealed class Pool<T> : IDisposable
    {
        private readonly NativePool nat;
        // nat's C++ Pool for FastPath; a HandleRef keeps nat (whose finalizer deletes it) alive
        // for the duration of each call.
        private readonly HandleRef native;
        private readonly FactoryAdapter<T> adapter;
        // Leases off the fast path (spilled shares of a connection, cancellable, asynchronous and
        // group acquires), so that giving one back twice, e.g. through two copies of its Lease,
        // releases it once: the native pool may be freed after its last lease came back.
        private readonly ConcurrentDictionary<long, bool> adopted = new ConcurrentDictionary<long, bool>();

        /// <summary>A pool configured by key (docs/CONFIGURATION.md): numbers, bools, strings, TimeSpans (as ms).</summary>
        public Pool(ConnectionFactory<T> factory, IDictionary<string, object> config = null)
            : this(factory, null, config)
        {
        }

        private Pool(ConnectionFactory<T> factory, string json, IDictionary<string, object> config)
        {
            if (factory == null) throw new PoolConfigException("factory is null");
            using (var cfg = new NativeConfig())
            {
                if (json != null) Check(cfg.setJson(json), cfg);
                if (config != null)
                    foreach (var kv in config) Check(cfg.set(kv.Key, Text(kv.Value)), cfg);
                adapter = new FactoryAdapter<T>(factory);
                var p = new NativePool(cfg, adapter);  // owns the adapter's director from here on
                int rc = p.status();
                if (rc != (int)Status.OK)
                {
                    string err = p.error();
                    p.Dispose();
                    throw PoolException.From(rc, err);
                }
                nat = p;
                native = NativePool.getCPtr(p);
                // RawPath registers its internal calls in its static constructor: before any
                // method that calls them is compiled (the first acquire comes after this).
                RuntimeHelpers.RunClassConstructor(typeof(RawPath).TypeHandle);
            }
            PoolRegistry.Add(nat);
        }

        /// <summary>A pool from a JSON configuration object ({"max_size": 10, ...}).</summary>
        public static Pool<T> FromJson(ConnectionFactory<T> factory, string configJson)
        {
            return new Pool<T>(factory, configJson ?? "{}", null);
        }

        private static void Check(int rc, NativeConfig cfg)
        {
            if (rc != 0) throw PoolException.From(rc, cfg.error());
        }

        private static string Text(object v)
        {
            if (v == null) return "";
            if (v is bool) return (bool)v ? "true" : "false";
            if (v is TimeSpan) return ((long)((TimeSpan)v).TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
            var f = v as IFormattable;
            return f != null ? f.ToString(null, CultureInfo.InvariantCulture) : v.ToString();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static long Millis(TimeSpan t)
        {
            // Integer ticks, not TotalMilliseconds (a double): this runs on every acquire.
            long ticks = t.Ticks;
            if (ticks == Timeout.InfiniteTimeSpan.Ticks) return long.MaxValue;
            if (ticks < 0) throw new ArgumentOutOfRangeException("timeout", "negative timeout");
            long ms = ticks / TimeSpan.TicksPerMillisecond;
            return ms == 0 && ticks > 0 ? 1 : ms;  // a sub-millisecond wait still waits
        }

        /// <summary>Borrows a connection, waiting up to the configured acquire_timeout_ms.</summary>
        public Lease<T> Acquire()
        {
            return DoAcquire(-1, 0);
        }

        /// <summary>Borrows a connection, waiting up to <paramref name="timeout"/> (TimeSpan.Zero: no wait; Timeout.InfiniteTimeSpan: forever).</summary>
        public Lease<T> Acquire(TimeSpan timeout, int priority = 0)
        {
            return DoAcquire(Millis(timeout), priority);
        }

        /// <summary>
        /// As <see cref="Acquire(TimeSpan, int)"/>; cancelling <paramref name="cancellationToken"/> ends the wait
        /// with <see cref="OperationCanceledException"/> (a token cancelled already throws at once, as
        /// SemaphoreSlim.Wait does).
        /// </summary>
        public Lease<T> Acquire(TimeSpan timeout, CancellationToken cancellationToken, int priority = 0)
        {
            if (!cancellationToken.CanBeCanceled) return DoAcquire(Millis(timeout), priority);
            cancellationToken.ThrowIfCancellationRequested();
            long lease, handle;
            int rc;
            using (var token = new NativeCancelToken())
            {
                if (!token.valid()) throw PoolException.From((int)Status.ENOMEM, "cancel token");
                // Disposing the registration waits for a trigger in progress, so the token is
                // never freed under it.
                using (cancellationToken.Register(token.trigger))
                    rc = nat.acquireCancellable(Millis(timeout), priority, token, out lease, out handle);
            }
            if (rc == (int)Status.ECANCELED)
                throw new OperationCanceledException("acquire canceled; " + nat.explain(rc), cancellationToken);
            if (rc != 0) throw Failure(rc);
            return Adopt(lease, handle);
        }

        /// <summary>
        /// Borrows a connection without blocking a thread: the task completes with the lease, fails
        /// with the <see cref="PoolException"/> Acquire would throw, or is canceled when
        /// <paramref name="cancellationToken"/> is cancelled first. A lease handed over before the
        /// cancel still completes the task (dispose it). Continuations never run on the pool's thread.
        /// </summary>
        public Task<Lease<T>> AcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default(CancellationToken), int priority = 0)
        {
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<Lease<T>>(cancellationToken);
            long ms = Millis(timeout);
            NativeCancelToken token = null;
            if (cancellationToken.CanBeCanceled)
            {
                token = new NativeCancelToken();
                if (!token.valid())
                {
                    token.Dispose();
                    return Task.FromException<Lease<T>>(PoolException.From((int)Status.ENOMEM, "cancel token"));
                }
            }
            long lease, handle, ticket;
            int rc = nat.acquireAsyncTicket(ms, priority, token, out lease, out handle, out ticket);
            if (rc == (int)Status.PENDING)
            {
                var p = new PendingLease<T>(this, token, cancellationToken);
                p.Register();
                adapter.Await(ticket, p);
                return p.Task;
            }
            if (token != null) token.Dispose();
            try
            {
                if (rc == (int)Status.OK) return Task.FromResult(Adopt(lease, handle));
                return Task.FromException<Lease<T>>(Failure(rc));
            }
            catch (PoolException e)
            {
                return Task.FromException<Lease<T>>(e);
            }
        }

        /// <summary>The exception for a failed acquire, with the pool's own account of why.</summary>
        internal PoolException Failure(int rc)
        {
            return PoolException.From(rc, nat.explain(rc));
        }

        // The hot path: one raw internal call where Mono has them (RawPath), else or when it
        // declines one P/Invoke; no allocation (Lease is a struct, the handle indexes the
        // adapter's table).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Lease<T> DoAcquire(long timeoutMs, int priority)
        {
            long lease = 0;
            long r = 0;
            if (RawPath.Enabled)
            {
                // A Thread.Abort is deferred until a finally block ends: it cannot fall between
                // a raw claim (or gate entry) and what finishes it.
                try
                {
                }
                finally
                {
                    r = RawAcquire(timeoutMs, priority, out lease);
                }
            }
            if (r == 0) r = FastPath.Acquire(native, timeoutMs, priority, out lease);
            if (r <= 0)
            {
                long v = -r;
                int rc = (int)(v & 0xff);
                if (rc != NativePool.kSpilled) throw Failure(rc);
                return Adopt(lease, v >> 8);
            }
            T conn;
            if (!adapter.TryGet(r, out conn))
            {
                FastPath.Release(native, r, lease, 1);
                throw PoolException.From((int)Status.EINTERNAL, "leased connection has no .NET object");
            }
            return new Lease<T>(this, r, lease, conn);
        }

        // DoAcquire's raw try and its follow-ups (in a finally block there). 0: declined, nothing
        // held: the P/Invoke acquire decides. Else as FastPath.Acquire's result.
        private long RawAcquire(long timeoutMs, int priority, out long lease)
        {
            int leave;
            long r = RawPath.TryAcquire(native.Handle, priority, out lease, out leave);
            if (leave != 0) FastPath.Leave(native);
            if (r >= 0) return r;
            long v = -r;
            if ((v & 0xff) == RawPath.Claimed) return FastPath.AcquireClaimed(native, timeoutMs, priority, lease, out lease);
            // Served, but the native table had no room made for this handle yet (a raw call
            // may not allocate): make it now, or let DoAcquire adopt the lease.
            return FastPath.Keep(native, v >> 8, lease) != 0 ? v >> 8 : r;
        }

        /// <summary>Lease.Dispose/Discard: at most once per lease, however many copies of it are disposed.</summary>
        internal void GiveBack(long handle, long lease, bool broken)
        {
            int rc;
            if (handle > 0 && !broken && RawPath.Enabled)
            {
                // As in DoAcquire: nothing between the raw take and its follow-up.
                try
                {
                }
                finally
                {
                    rc = RawPath.TryRelease(native.Handle, handle, lease);
                    if (rc == RawPath.Taken) rc = FastPath.ReleaseTaken(native, lease, 0);
                }
                GC.KeepAlive(nat);  // nat's finalizer frees what native.Handle points to
                if (rc == (int)Status.OK || rc == (int)Status.ESTALE) return;  // ESTALE: given back already
            }
            else if (handle > 0)
            {
                rc = FastPath.Release(native, handle, lease, broken ? 1 : 0);
                if (rc == (int)Status.ESTALE) return;  // given back already, through another copy
            }
            else
            {
                bool ignored;
                if (!adopted.TryRemove(lease, out ignored)) return;
                rc = nat.release(lease, broken);
            }
            if (rc != 0) throw PoolException.From(rc, "release of lease " + lease);
        }

        /// <summary>Waits until the pool is ready or degraded; throws otherwise.</summary>
        public void AwaitReady(TimeSpan timeout)
        {
            int rc = nat.waitReady(Millis(timeout));
            if (rc != 0) throw PoolException.From(rc, "state " + State);
        }

        /// <summary>Stops new acquires, destroys idle connections, waits up to <paramref name="deadline"/> for leases. True when none remain.</summary>
        public bool Drain(TimeSpan deadline)
        {
            int rc = nat.drain(Millis(deadline));
            if (rc == (int)Status.OK) return true;
            if (rc == (int)Status.ETIMEOUT) return false;
            throw PoolException.From(rc, "drain");
        }

        /// <summary>
        /// Changes min_idle and max_size at run time (docs/SIZING.md). Growing takes effect at once (waiters get new
        /// connections); shrinking closes idle connections now and leased ones as they come back, never taking a lease away.
        /// </summary>
        /// <exception cref="PoolConfigException">a size out of range (min_idle 0..100000, max_size 1..100000, min_idle <= max_size)</exception>
        /// <exception cref="PoolClosedException">the pool is draining or closed</exception>
        public void Resize(int minIdle, int maxSize)
        {
            int rc = nat.resize(minIdle, maxSize);
            if (rc != (int)Status.OK)
                throw PoolException.From(rc, "resize(min_idle=" + minIdle + ", max_size=" + maxSize + "); allowed: min_idle 0..100000, max_size 1..100000, min_idle <= max_size");
        }

        public State State { get { return (State)nat.state(); } }

        /// <summary>200 when ready or degraded, else 503: what a readiness probe should answer.</summary>
        public int HttpStatus { get { return nat.httpStatus(); } }

        public bool IsClosed { get { return nat.closed(); } }

        /// <summary>The stats document (docs/STATS.md). Never touches the backend.</summary>
        public string StatsJson()
        {
            string s = nat.statsJson();
            if (string.IsNullOrEmpty(s)) throw new PoolClosedException("no stats for a closed pool");
            return s;
        }

        /// <summary>The stats document decoded (<see cref="PoolStats"/>); <see cref="StatsJson"/> is the same as text.</summary>
        public PoolStats Stats()
        {
            return PoolStats.Parse(StatsJson());
        }

        /// <summary>The same figures in Prometheus text format.</summary>
        public string MetricsText()
        {
            string s = nat.metricsText();
            if (string.IsNullOrEmpty(s)) throw new PoolClosedException("no metrics for a closed pool");
            return s;
        }

        /// <summary>Closes the pool (see the class remarks). Idempotent.</summary>
        public void Dispose()
        {
            nat.close();
        }

        // --- for Group (pool groups, docs/GROUPS.md)

        internal NativePool Native { get { return nat; } }

        /// <summary>Wraps a lease a Group took on this pool, so disposing it releases it here.</summary>
        internal Lease<T> Adopt(long lease, long handle)
        {
            T conn;
            if (!adapter.TryGet(handle, out conn))
            {
                nat.release(lease, true);
                throw PoolException.From((int)Status.EINTERNAL, "leased connection has no .NET object");
            }
            adopted[lease] = true;
            return new Lease<T>(this, 0, lease, conn);
        }
    }

    /// <summary>
    /// Closes every pool still open when the process exits: their native threads would
    /// otherwise keep Mono from exiting. Weak references, so it never keeps a pool alive.
    /// </summary>
    internal static class PoolRegistry
    {
        private static readonly object Gate = new object();
        private static readonly List<WeakReference> Live = new List<WeakReference>();
        private static bool hooked;

        internal static void Add(NativePool pool)
        {
            lock (Gate)
            {
                if (!hooked)
                {
                    AppDomain.CurrentDomain.ProcessExit += CloseAll;
                    hooked = true;
                }
                Live.RemoveAll(w => !w.IsAlive);
                // Tracks resurrection: a pool awaiting its finalizer is still closed here.
                Live.Add(new WeakReference(pool, true));
            }
        }

        private static void CloseAll(object sender, EventArgs e)
        {
            var pools = new List<NativePool>();
            lock (Gate)
            {
                foreach (var w in Live)
                {
                    var p = w.Target as NativePool;
                    if (p != null) pools.Add(p);
                }
                Live.Clear();
            }
            foreach (var p in pools)
            {
                try
                {
                    // Dispose (finalizer) holds the same lock and zeroes the pointer.
                    lock (p)
                    {
                        if (NativePool.getCPtr(p).Handle != IntPtr.Zero) p.close();
                    }
                }
                catch (Exception)
                {
                }
            }
        }
    }
}
