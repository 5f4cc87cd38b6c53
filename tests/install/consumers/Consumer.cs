// SPDX-License-Identifier: Apache-2.0
// A C# program built against the installed ConnPool assembly alone (from the .nupkg or the
// libconnpool-cil package; tests/install/check_packages.sh): a factory, a pool, leases in
// using blocks and by Task, the readiness answer.
using System;
using System.Collections.Generic;
using System.Threading;
using ConnPool;

public static class Consumer
{
    sealed class Conn { public int Id; }

    sealed class Factory : ConnectionFactory<Conn>
    {
        public int Made;
        public override Conn Create() { return new Conn { Id = Interlocked.Increment(ref Made) }; }
        public override void Destroy(Conn c) { }
    }

    static void Check(bool ok, string what)
    {
        if (!ok) { Console.Error.WriteLine("failed: " + what); Environment.Exit(1); }
    }

    public static int Main()
    {
        var f = new Factory();
        var config = new Dictionary<string, object> { { "name", "consumer" }, { "max_size", 2 } };
        using (var pool = new Pool<Conn>(f, config))
        {
            pool.AwaitReady(TimeSpan.FromSeconds(5));
            using (var a = pool.Acquire(TimeSpan.FromSeconds(2)))
            using (var b = pool.Acquire(TimeSpan.FromSeconds(2)))
                Check(a.Connection != b.Connection, "two leases, two connections");
            using (var c = pool.AcquireAsync(TimeSpan.FromSeconds(2)).Result)
                Check(c.Connection.Id >= 1, "async lease");
            Check(pool.State == State.READY, "state ready: " + pool.State);
            Check(pool.HttpStatus == 200, "readiness 200");
            Check(pool.StatsJson().Contains("\"consumer\""), "stats name");
            Check(f.Made == 2, "2 creates, got " + f.Made);
        }
        Console.WriteLine("csharp consumer: ok");
        return 0;
    }
}
