// SPDX-License-Identifier: Apache-2.0
// A C# service's view of libconnpool: a factory for your connections, a pool, leases in
// using blocks, and the HTTP status to answer when the pool cannot serve.
//
// Build: mcs -r:ConnPool.dll Example.cs
// Run:   LD_LIBRARY_PATH=<dir of libconnpool_csharp.so> mono Example.exe
using System;
using System.Collections.Generic;
using System.Threading;
using ConnPool;

public static class Example
{
    /// <summary>Stands in for a real client connection (ADO.NET, Redis, an RPC channel...).</summary>
    sealed class Backend
    {
        static int nextId;
        public readonly int Id = Interlocked.Increment(ref nextId);
        public bool Open = true;

        public Backend(string url)
        {
            if (url.Contains("password=wrong")) throw new CreateException("authentication failed", fatal: true);
        }

        public string Query(string q) { return "conn " + Id + " answered " + q; }
    }

    sealed class BackendFactory : ConnectionFactory<Backend>
    {
        readonly string url;
        public BackendFactory(string url) { this.url = url; }
        // Throw to report a failure; CreateException with fatal: true if it is permanent.
        public override Backend Create() { return new Backend(url); }
        public override void Destroy(Backend b) { b.Open = false; }
        public override bool Validate(Backend b) { return b.Open; }  // e.g. SELECT 1
    }

    public static int Main()
    {
        var config = new Dictionary<string, object> {
            { "name", "orders" }, { "max_size", 4 }, { "min_idle", 1 }, { "acquire_timeout_ms", TimeSpan.FromSeconds(2) } };
        using (var pool = new Pool<Backend>(new BackendFactory("backend://db?user=app"), config))
        {
            for (int request = 1; request <= 3; request++)
            {
                try
                {
                    // With C# 8 or later: using var lease = pool.Acquire(...);
                    using (var lease = pool.Acquire(TimeSpan.FromMilliseconds(500)))
                        Console.WriteLine(lease.Connection.Query("request " + request));
                }
                catch (PoolException e)
                {
                    // Timeout, unavailable, overload, closed: tell the client to come back later.
                    Console.WriteLine("HTTP " + e.HttpStatus + ": " + e.Message);
                }
            }
            Console.WriteLine("stats: " + pool.StatsJson());
            Console.WriteLine("readiness: HTTP " + pool.HttpStatus);
        }

        // A permanent failure makes the pool unavailable at once: acquires fail fast with 503.
        using (var bad = new Pool<Backend>(new BackendFactory("backend://db?password=wrong")))
        {
            try
            {
                bad.Acquire(TimeSpan.FromSeconds(2)).Dispose();
                return 1;
            }
            catch (PoolUnavailableException e)
            {
                Console.WriteLine("HTTP " + e.HttpStatus + " (" + e.CodeName + ")");
            }
        }
        return 0;
    }
}
