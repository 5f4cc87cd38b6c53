// SPDX-License-Identifier: Apache-2.0
using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace ConnPool
{
    /// <summary>
    /// The .NET objects behind the native pool's connections, by handle: the handle the factory
    /// hands the native pool (its "connection pointer") is an index into this table, so an
    /// acquire finds its object with one array read instead of a dictionary lookup.
    /// </summary>
    /// <remarks>
    /// Handles are small and recycled (a freed one goes to the next connection), so the table
    /// is as large as the most connections the pool held at once; handle 0 is never used (the
    /// native pool reads a NULL connection as a failed create). <see cref="TryGet"/> is lock-free
    /// (plain reads of the table and the slot, published by volatile writes); Add and Remove run on pool threads when
    /// connections are made and destroyed, under a lock. The native pool only names a handle
    /// between its Add and its Remove.
    /// </remarks>
    internal sealed class HandleTable<T>
    {
        // A box per live handle, so T may be any type and an empty slot is null.
        private sealed class Entry
        {
            internal readonly T Value;
            internal Entry(T value) { Value = value; }
        }

        private Entry[] slots = new Entry[16];
        private int[] free = new int[16];  // guarded by the lock: handles given back, reused LIFO
        private int freeCount;             // guarded by the lock
        private int next = 1;              // guarded by the lock: the lowest handle never used
        private readonly object gate = new object();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal bool TryGet(long handle, out T conn)
        {
            // Plain reads: a handle reaches a reader only through the native pool, whose atomics
            // order it after the Volatile.Write that published its entry (and the array).
            Entry[] s = slots;
            if (handle > 0 && handle < s.Length)
            {
                Entry e = s[handle];
                if (e != null)
                {
                    conn = e.Value;
                    return true;
                }
            }
            conn = default(T);
            return false;
        }

        internal long Add(T conn)
        {
            lock (gate)
            {
                int h;
                if (freeCount > 0)
                {
                    h = free[--freeCount];
                }
                else
                {
                    h = next++;
                    if (h >= slots.Length)
                    {
                        var grown = new Entry[slots.Length * 2];
                        Array.Copy(slots, grown, slots.Length);
                        Volatile.Write(ref slots, grown);
                    }
                }
                Volatile.Write(ref slots[h], new Entry(conn));
                return h;
            }
        }

        internal bool TryRemove(long handle, out T conn)
        {
            lock (gate)
            {
                if (!TryGet(handle, out conn)) return false;
                Volatile.Write(ref slots[handle], null);
                if (freeCount == free.Length) Array.Resize(ref free, free.Length * 2);
                free[freeCount++] = (int)handle;
                return true;
            }
        }
    }
}
