// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Threading;
using ConnPool;

/// <summary>
/// Run by CTest: opens a pool whose native threads keep calling C# (min_idle refill, 10 ms
/// keepalive validation), leaks a lease, and returns from Main without Dispose. Mono must
/// exit 0 promptly.
/// </summary>
public static class ExitWithoutClose
{
    sealed class Factory : ConnectionFactory<object>
    {
        public long Validated;
        public override object Create() { return new object(); }
        public override void Destroy(object c) { }
        public override bool Validate(object c) { Interlocked.Increment(ref Validated); return true; }
    }

    public static int Main()
    {
        var f = new Factory();
        var pool = new Pool<object>(f, new Dictionary<string, object> {
            { "max_size", 4 }, { "min_idle", 2 }, { "maintenance_interval_ms", 10 }, { "validate_interval_ms", 10 } });
        using (var lease = pool.Acquire(TimeSpan.FromSeconds(10))) { }
        var leaked = pool.Acquire(TimeSpan.FromSeconds(10));
        var end = DateTime.UtcNow.AddSeconds(10);
        while (Interlocked.Read(ref f.Validated) < 2)
        {
            if (DateTime.UtcNow > end) { Console.Error.WriteLine("maintenance thread never validated"); return 1; }
            Thread.Sleep(5);
        }
        Console.WriteLine("leaving Main with an open pool and lease " + leaked.Id);
        return 0;
    }
}
