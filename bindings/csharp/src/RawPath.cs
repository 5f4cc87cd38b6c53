// SPDX-License-Identifier: Apache-2.0
using System;
using System.Runtime.CompilerServices;

namespace ConnPool
{
    /// <summary>
    /// The acquire/release hot path as Mono raw internal calls (native/raw_path.cpp, which
    /// explains the rules they keep): a plain call from JIT code, without the two GC-mode
    /// transitions a P/Invoke makes under Mono's default suspend mode. They only try (claim an
    /// idle connection, give one back by one compare-and-swap); whatever else is needed is done
    /// by <see cref="FastPath"/>'s P/Invokes, so behaviour is the same with or without them.
    /// </summary>
    /// <remarks>
    /// Risks, kept small on purpose: a raw call runs in GC-unsafe mode (a collection waits for
    /// it, so it must be short and never block); mono_dangerous_add_raw_internal_call is not a
    /// stable Mono API (when the running Mono lacks it, <see cref="Enabled"/> is false); a
    /// Thread.Abort between a raw claim and its finish would leak the claim, so Pool makes each
    /// raw call and its follow-up inside one finally block. CONNPOOL_CS_NO_RAW=1 in the
    /// environment turns the raw path off (for comparison, and as an escape hatch).
    /// </remarks>
    internal static class RawPath
    {
        /// <summary>Raw calls registered with this Mono and not switched off. Tests may turn it off and on.</summary>
        internal static bool Enabled = Register();

        /// <summary>Whether this process registered the raw calls at all (CONNPOOL_CS_NO_RAW unset, Mono has them).</summary>
        internal static readonly bool Registered = Enabled;

        // Beside NativePool.kSpilled in TryAcquire's result (connpool_facade.hpp, Pool::kClaimed).
        internal const int Claimed = 254;
        // TryRelease: the lease left the facade's table, the pool declined (Pool::kTaken).
        internal const int Taken = -1;

        private static bool Register()
        {
            bool wanted = Environment.GetEnvironmentVariable("CONNPOOL_CS_NO_RAW") != "1";
            if (Type.GetType("Mono.Runtime") == null) return false;
            try
            {
                // Registered either way: Mono resolves an internal call when it compiles a
                // caller, also one that will never call it.
                return FastPath.RegisterRaw(wanted ? 1 : 0) == 1;
            }
            catch (Exception)
            {
                return false;  // an older native library: the P/Invoke path alone
            }
        }

        /// <summary>
        /// &gt; 0: served, the connection's handle, <paramref name="lease"/> its lease. 0: declined,
        /// nothing held. -Claimed: <paramref name="lease"/> is a claim for FastPath.AcquireClaimed.
        /// -(handle &lt;&lt; 8 | kSpilled): served, the lease not kept natively (FastPath.Keep).
        /// <paramref name="leave"/> 1: call FastPath.Leave afterwards (the pool began closing).
        /// </summary>
        [MethodImpl(MethodImplOptions.InternalCall)]
        internal static extern long TryAcquire(IntPtr pool, int priority, out long lease, out int leave);

        /// <summary>0: given back. ESTALE: given back already (nothing happened). Taken: FastPath.ReleaseTaken.</summary>
        [MethodImpl(MethodImplOptions.InternalCall)]
        internal static extern int TryRelease(IntPtr pool, long handle, long lease);
    }
}
