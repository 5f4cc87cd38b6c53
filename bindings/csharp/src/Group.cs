// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;

namespace ConnPool
{
    /// <summary>
    /// A pool group (docs/GROUPS.md): routes acquires over pools by role. Writes go to the
    /// <see cref="Role.PRIMARY"/>; reads to the least loaded healthy <see cref="Role.REPLICA"/>,
    /// else the primary; keys to the <see cref="Role.SHARD"/> owning them (consistent hashing).
    /// Unavailable members are skipped without waiting.
    /// </summary>
    /// <example><code>
    /// using (var g = new Group&lt;Conn&gt;("orders").Add("main", Role.PRIMARY, primary).Add("r1", Role.REPLICA, replica))
    /// using (var lease = g.Acquire(Intent.READ, TimeSpan.FromSeconds(1)))
    ///     lease.Connection.Query("...");
    /// </code></example>
    /// <remarks>
    /// The lease belongs to the member pool it came from; dispose it as usual. The group does
    /// not own its pools: Dispose leaves them open, and disposing a pool still in the group is
    /// safe (it is detached). Thread-safe.
    /// </remarks>
    public sealed class Group<T> : IDisposable
    {
        private readonly NativeGroup nat;
        // Index = the native member index (add order); guarded by lock (members).
        private readonly List<Pool<T>> members = new List<Pool<T>>();

        /// <summary>A new, empty group; <paramref name="name"/> labels it in stats.</summary>
        public Group(string name)
        {
            if (name == null) throw new PoolConfigException("group name is null");
            var g = new NativeGroup(name);
            int rc = g.status();
            if (rc != (int)Status.OK)
            {
                g.Dispose();
                throw PoolException.From(rc, "group name must not be empty");
            }
            nat = g;
        }

        /// <summary>
        /// Adds <paramref name="pool"/> as member <paramref name="name"/>. Throws
        /// <see cref="PoolConfigException"/> for a taken name, a pool already in a group or a second
        /// primary; <see cref="PoolClosedException"/> for a closed group or pool. Returns this group.
        /// </summary>
        public Group<T> Add(string name, Role role, Pool<T> pool)
        {
            if (name == null || pool == null) throw new PoolConfigException("name and pool must not be null");
            lock (members)
            {
                int rc = nat.add(name, (int)role, pool.Native);
                if (rc != (int)Status.OK)
                    throw PoolException.From(rc, rc == (int)Status.EINVAL ? nat.error() : "group add '" + name + "'");
                members.Add(pool);
            }
            return this;
        }

        /// <summary>A connection for <paramref name="intent"/> (WRITE: the primary; READ: a replica, else the primary).</summary>
        public Lease<T> Acquire(Intent intent, TimeSpan timeout)
        {
            long lease, handle;
            int member;
            int rc = nat.acquire((int)intent, Pool<T>.Millis(timeout), out lease, out handle, out member);
            return Adopt(rc, lease, handle, member);
        }

        /// <summary>A connection from the shard owning <paramref name="key"/>; no fallback to another shard.</summary>
        public Lease<T> AcquireKey(long key, TimeSpan timeout)
        {
            long lease, handle;
            int member;
            int rc = nat.acquireKey(key, Pool<T>.Millis(timeout), out lease, out handle, out member);
            return Adopt(rc, lease, handle, member);
        }

        private Lease<T> Adopt(int rc, long lease, long handle, int member)
        {
            if (rc != 0) throw PoolException.From(rc, rc == (int)Status.EINVAL ? nat.error() : null);
            Pool<T> pool;
            // The native add and the list append happen under this lock, so the index is here.
            lock (members) pool = members[member];
            return pool.Adopt(lease, handle);
        }

        /// <summary>The group stats document (members with roles, states and stats; totals; counters).</summary>
        public string StatsJson()
        {
            string s = nat.statsJson();
            if (string.IsNullOrEmpty(s)) throw new PoolClosedException("no stats for a closed group");
            return s;
        }

        /// <summary>Frees the group; the member pools stay open. Idempotent.</summary>
        public void Dispose()
        {
            nat.close();
        }
    }
}
