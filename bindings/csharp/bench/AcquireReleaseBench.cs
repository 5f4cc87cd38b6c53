// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Diagnostics;
using ConnPool;

/// <summary>
/// Per-call cost of acquire + release through the C# binding (one thread, uncontended).
///   AcquireReleaseBench.exe [cycles=2000000] [pool=4]
/// The pool is set up as bench/cycle_loop.c sets up its C one (fixed size, no validation, no
/// reset), so `cycle_loop CYCLES POOL` run beside it measures the same work through C.
/// </summary>
public static class AcquireReleaseBench
{
    sealed class Factory : ConnectionFactory<object>
    {
        public override object Create() { return new object(); }
        public override void Destroy(object c) { }
    }

    static long Cycles(Pool<object> pool, TimeSpan timeout, int n)
    {
        long seen = 0;
        for (int i = 0; i < n; i++)
        {
            using (var lease = pool.Acquire(timeout))
                if (lease.Connection != null) seen++;
        }
        return seen;
    }

    // Whether the binding's hot path runs on Mono raw internal calls (ConnPool.RawPath, internal:
    // read by reflection so that the output says which path was measured).
    static string RawCalls()
    {
        var t = typeof(Pool<object>).Assembly.GetType("ConnPool.RawPath");
        var f = t == null ? null : t.GetField("Enabled", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic);
        return f == null ? "unknown" : ((bool)f.GetValue(null) ? "on" : "off");
    }

    public static void Main(string[] args)
    {
        int iterations = args.Length > 0 ? int.Parse(args[0]) : 2000000;
        int size = args.Length > 1 ? int.Parse(args[1]) : 4;
        using (var pool = new Pool<object>(new Factory(), new Dictionary<string, object> {
            { "max_size", size }, { "min_idle", size }, { "validate_on_acquire", "never" }, { "reset_on_release", false } }))
        {
            pool.AwaitReady(TimeSpan.FromSeconds(10));
            var timeout = TimeSpan.FromSeconds(10);
            Cycles(pool, timeout, 10000);  // JIT and first use of the native thread-locals
            for (int round = 1; round <= 3; round++)
            {
                long bytes = GC.GetAllocatedBytesForCurrentThread();
                // CPU time beside wall time, as bench/cycle_loop.c prints: on a shared machine the
                // wall time includes waiting for a core. Process-wide, but the pool's own threads
                // sleep during the loop.
                var proc = Process.GetCurrentProcess();
                TimeSpan cpu0 = proc.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                long seen = Cycles(pool, timeout, iterations);
                sw.Stop();
                proc.Refresh();
                double cpuNs = (proc.TotalProcessorTime - cpu0).TotalMilliseconds * 1e6 / iterations;
                bytes = GC.GetAllocatedBytesForCurrentThread() - bytes;
                if (seen != iterations) throw new Exception("a lease without a connection");
                double ns = sw.Elapsed.TotalMilliseconds * 1e6 / iterations;
                Console.WriteLine("csharp: {0} acquire+release in {1:F1} ms: {2:F1} ns per pair (cpu {6:F1}), {3:F2} bytes allocated per pair (round {4}, raw internal calls {5})",
                    iterations, sw.Elapsed.TotalMilliseconds, ns, (double)bytes / iterations, round, RawCalls(), cpuNs);
            }
        }
    }
}
