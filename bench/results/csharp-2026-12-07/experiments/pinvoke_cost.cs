// SPDX-License-Identifier: Apache-2.0
// The cost of Mono's managed-to-native transition alone: empty native functions with the fast
// path's signatures, called as the fast path calls them (blittable DllImport), through SWIG's
// kind of signature (HandleRef + bool), and as raw internal calls (no transition).
//   gcc -O2 -shared -fPIC empty.c -o libempty.so -ldl && mcs -optimize+ pinvoke_cost.cs
//   LD_LIBRARY_PATH=. mono pinvoke_cost.exe      (and MONO_THREADS_SUSPEND=preemptive)
using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security;

[SuppressUnmanagedCodeSecurity]
static class Native
{
    [DllImport("empty", EntryPoint = "empty_acquire")] public static extern long Acquire(IntPtr p, long a, int b, out long o);
    [DllImport("empty", EntryPoint = "empty_release")] public static extern int Release(IntPtr p, long h, long l, int b);
    [DllImport("empty", EntryPoint = "empty_release")] public static extern int ReleaseSwigStyle(HandleRef p, long h, long l, bool b);
    [DllImport("empty", EntryPoint = "register_raw")] public static extern int RegisterRaw();
}

static class Raw
{
    [MethodImpl(MethodImplOptions.InternalCall)] public static extern long Acquire(IntPtr p, long a, int b, out long o);
    [MethodImpl(MethodImplOptions.InternalCall)] public static extern int Release(IntPtr p, long h, long l, int b);
}

static class PInvokeCost
{
    static long sink;

    static double Best(Action a, int n)
    {
        double best = double.MaxValue;
        for (int r = 0; r < 7; r++)
        {
            var sw = Stopwatch.StartNew();
            a();
            best = Math.Min(best, sw.Elapsed.TotalMilliseconds * 1e6 / n);
        }
        return best;
    }

    static void Main()
    {
        const int n = 5000000;
        var p = new IntPtr(1);
        var h = new HandleRef(null, p);
        bool raw = Native.RegisterRaw() == 1;
        Console.WriteLine("MONO_THREADS_SUSPEND={0}", Environment.GetEnvironmentVariable("MONO_THREADS_SUSPEND") ?? "(unset: hybrid)");
        Console.WriteLine("one P/Invoke, blittable:         {0:F1} ns", Best(() => { for (int i = 0; i < n; i++) sink += Native.Release(p, i, 1, 0); }, n));
        Console.WriteLine("one P/Invoke, HandleRef + bool:  {0:F1} ns", Best(() => { for (int i = 0; i < n; i++) sink += Native.ReleaseSwigStyle(h, i, 1, false); }, n));
        Console.WriteLine("acquire+release pair, blittable: {0:F1} ns", Best(() => { for (int i = 0; i < n; i++) { long o; sink += Native.Acquire(p, i, 0, out o); sink += Native.Release(p, i, o, 0); } }, n));
        if (raw)
            Console.WriteLine("acquire+release pair, raw icall: {0:F1} ns", Best(() => { for (int i = 0; i < n; i++) { long o; sink += Raw.Acquire(p, i, 0, out o); sink += Raw.Release(p, i, o, 0); } }, n));
    }
}
