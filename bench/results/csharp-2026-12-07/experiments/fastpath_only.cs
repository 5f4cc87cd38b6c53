// SPDX-License-Identifier: Apache-2.0
// Full cycle vs the two FastPath P/Invokes alone on the same pool (compiled as ConnPool.Tests.exe to reach the internals):
//   mcs -optimize+ -r:ConnPool.dll fastpath_only.cs -out:ConnPool.Tests.exe
using System; using System.Collections.Generic; using System.Diagnostics; using System.Reflection; using ConnPool;
public static class X {
    sealed class Factory : ConnectionFactory<object> { public override object Create() { return new object(); } public override void Destroy(object c) { } }
    static double Min(Action a, int n) { double best = 1e9; for (int r = 0; r < 5; r++) { var sw = Stopwatch.StartNew(); a(); double ns = sw.Elapsed.TotalMilliseconds * 1e6 / n; if (ns < best) best = ns; } return best; }
    public static void Main() {
        const int n = 2000000;
        var pool = new Pool<object>(new Factory(), new Dictionary<string, object> { { "max_size", 4 }, { "min_idle", 4 }, { "validate_on_acquire", "never" }, { "reset_on_release", false } });
        pool.AwaitReady(TimeSpan.FromSeconds(10));
        var native = (System.Runtime.InteropServices.HandleRef)typeof(Pool<object>).GetField("native", BindingFlags.NonPublic | BindingFlags.Instance).GetValue(pool);
        var t = TimeSpan.FromSeconds(10);
        Console.WriteLine("full cycle      {0:F1}", Min(() => { for (int i = 0; i < n; i++) using (var l = pool.Acquire(t)) { } }, n));
        Console.WriteLine("fastpath only   {0:F1}", Min(() => { for (int i = 0; i < n; i++) { long lease; long h = FastPath.Acquire(native, 10000, 0, out lease); FastPath.Release(native, h, lease, 0); } }, n));
        Console.WriteLine("full cycle      {0:F1}", Min(() => { for (int i = 0; i < n; i++) using (var l = pool.Acquire(t)) { } }, n));
    }
}
