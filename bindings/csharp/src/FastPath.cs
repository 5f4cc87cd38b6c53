// SPDX-License-Identifier: Apache-2.0
using System;
using System.Runtime.InteropServices;
using System.Security;

namespace ConnPool
{
    /// <summary>
    /// The acquire/release hot path (native/fast_path.cpp in libconnpool_csharp.so): one
    /// P/Invoke each way with blittable arguments only (SWIG's wrappers marshal a bool, and
    /// its lease-by-handle calls made the release look the lease up again). Errors come back
    /// in the result, never as an exception, so there is no pending-exception check.
    /// </summary>
    /// <remarks>
    /// <c>pool</c> is the NativePool's swigCPtr: the HandleRef keeps the NativePool (whose
    /// finalizer deletes the C++ Pool) reachable until the call returns. Blittable all the same.
    /// </remarks>
    [SuppressUnmanagedCodeSecurity]
    internal static class FastPath
    {
        private const string Library = "connpool_csharp";  // as SWIG's -dllimport

        /// <summary>
        /// &gt; 0: the connection's handle, <paramref name="lease"/> its native lease. &lt;= 0: minus
        /// the status in the low byte; for NativePool.kSpilled the handle above it and the lease
        /// (which the facade does not keep) in <paramref name="lease"/>.
        /// </summary>
        [DllImport(Library, EntryPoint = "connpool_cs_acquire", ExactSpelling = true)]
        internal static extern long Acquire(HandleRef pool, long timeoutMs, int priority, out long lease);

        /// <summary>0, or ESTALE when this lease was given back already (then nothing happened), or the release's status.</summary>
        [DllImport(Library, EntryPoint = "connpool_cs_release", ExactSpelling = true)]
        internal static extern int Release(HandleRef pool, long handle, long lease, int broken);

        // --- RawPath's registration and follow-ups (native/raw_path.cpp)

        /// <summary>
        /// Registers RawPath's internal calls (they must exist once a caller is compiled). 1: raw,
        /// use them; 0: registered with Mono's wrapper, do not (raw 0, or this Mono has no raw
        /// internal calls); -1: not Mono.
        /// </summary>
        [DllImport(Library, EntryPoint = "connpool_cs_raw_register", ExactSpelling = true)]
        internal static extern int RegisterRaw(int raw);

        /// <summary>Leaves the entry gate a raw call still holds (it reported leave = 1).</summary>
        [DllImport(Library, EntryPoint = "connpool_cs_raw_leave", ExactSpelling = true)]
        internal static extern void Leave(HandleRef pool);

        /// <summary>Finishes a raw claim (checks, or another connection); the result as <see cref="Acquire"/>.</summary>
        [DllImport(Library, EntryPoint = "connpool_cs_acquire_claimed", ExactSpelling = true)]
        internal static extern long AcquireClaimed(HandleRef pool, long timeoutMs, int priority, long claim, out long lease);

        /// <summary>1: a raw acquire's spilled lease is now kept natively by its handle; 0: adopt it.</summary>
        [DllImport(Library, EntryPoint = "connpool_cs_keep", ExactSpelling = true)]
        internal static extern int Keep(HandleRef pool, long handle, long lease);

        /// <summary>Releases a lease a raw release took off the native table; the status of the release.</summary>
        [DllImport(Library, EntryPoint = "connpool_cs_release_taken", ExactSpelling = true)]
        internal static extern int ReleaseTaken(HandleRef pool, long lease, int broken);
    }
}
