// SPDX-License-Identifier: Apache-2.0
using System;
using System.Threading;
using System.Threading.Tasks;

namespace ConnPool
{
    /// <summary>Where the outcome of an acquire that went pending is delivered (exactly once).</summary>
    internal interface IAcquireOutcome
    {
        /// <summary>Usually on the pool's dispatcher thread: hands the outcome on and never throws.</summary>
        void Deliver(int status, long lease, long handle);
    }

    /// <summary>
    /// One pending <see cref="Pool{T}.AcquireAsync"/>: a TaskCompletionSource the dispatcher's
    /// outcome settles, and the registration that turns the CancellationToken into a trigger
    /// of the native token.
    /// </summary>
    /// <remarks>
    /// The native outcome decides: a cancel that comes after a hand-off still gets the lease (the
    /// task completes normally), one that comes first ends it with ECANCELED (the task is
    /// canceled), so no lease is lost or doubled. Continuations run asynchronously, never on the
    /// dispatcher thread that serves every pending acquire of the pool. The native token is
    /// freed once, after the outcome and after the registration is disposed (Dispose waits for
    /// a cancel callback that is running), so a trigger never touches a freed token.
    /// </remarks>
    internal sealed class PendingLease<T> : IAcquireOutcome
    {
        private readonly Pool<T> pool;
        private readonly NativeCancelToken token;  // null: the CancellationToken cannot cancel
        private readonly CancellationToken cancellation;
        private readonly TaskCompletionSource<Lease<T>> source =
            new TaskCompletionSource<Lease<T>>(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly object gate = new object();
        private CancellationTokenRegistration registration;
        private bool settled;  // guarded by gate

        internal PendingLease(Pool<T> pool, NativeCancelToken token, CancellationToken cancellation)
        {
            this.pool = pool;
            this.token = token;
            this.cancellation = cancellation;
        }

        internal Task<Lease<T>> Task { get { return source.Task; } }

        /// <summary>Before the outcome can arrive; a token cancelled already triggers at once.</summary>
        internal void Register()
        {
            if (token == null) return;
            var r = cancellation.Register(Trigger);
            lock (gate)
            {
                if (!settled)
                {
                    registration = r;
                    return;
                }
            }
            r.Dispose();
        }

        private void Trigger()
        {
            lock (gate)
            {
                if (!settled) token.trigger();
            }
        }

        public void Deliver(int status, long lease, long handle)
        {
            CancellationTokenRegistration r;
            lock (gate)
            {
                settled = true;
                r = registration;
            }
            try
            {
                r.Dispose();  // waits for a Trigger() in progress on another thread
                if (token != null) token.Dispose();
            }
            catch (Exception)
            {
            }
            if (status == (int)Status.OK)
            {
                try
                {
                    source.TrySetResult(pool.Adopt(lease, handle));
                }
                catch (PoolException e)
                {
                    source.TrySetException(e);
                }
            }
            else if (status == (int)Status.ECANCELED)
            {
                source.TrySetCanceled(cancellation);
            }
            else
            {
                source.TrySetException(pool.Failure(status));
            }
        }
    }
}
