// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Diagnostics;
using ConnPool;

/// <summary>Per-call cost of acquire + release through the C# binding (one thread, uncontended).</summary>
public static class AcquireReleaseBench
{
    sealed class Factory : ConnectionFactory<object>
    {
        public override object Create() { return new object(); }
        public override void Destroy(object c) { }
    }

    public static void Main(string[] args)
    {
        int iterations = args.Length > 0 ? int.Parse(args[0]) : 2000000;
        using (var pool = new Pool<object>(new Factory(), new Dictionary<string, object> {
            { "max_size", 4 }, { "validate_on_acquire", "never" } }))
        {
            var timeout = TimeSpan.FromSeconds(5);
            for (int round = 1; round <= 3; round++)
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < iterations; i++)
                {
                    using (var lease = pool.Acquire(timeout)) { var c = lease.Connection; }
                }
                sw.Stop();
                double ns = sw.Elapsed.TotalMilliseconds * 1e6 / iterations;
                Console.WriteLine("csharp: {0} acquire+release in {1:F1} ms: {2:F0} ns per pair (round {3})",
                    iterations, sw.Elapsed.TotalMilliseconds, ns, round);
            }
        }
    }
}
