// SPDX-License-Identifier: Apache-2.0
// Real ADO.NET connections in the pool: Mono.Data.Sqlite connections on one temporary
// database file, opened, validated and reset by a ConnectionFactory, leased by several
// threads at once. The program checks its own books (every committed row is there, every
// rolled-back row is not) and the pool's stats (nothing leased, every connection created is
// either idle or destroyed), and exits non-zero on any mismatch.
//
// Build: mcs -r:ConnPool.dll -r:Mono.Data.Sqlite -r:System.Data -r:System.Runtime.Serialization \
//            -r:System.Xml -r:System.Xml.Linq SqliteExample.cs
// Run:   LD_LIBRARY_PATH=<dir of libconnpool_csharp.so> mono SqliteExample.exe
//        (CTest: ctest -R example_csharp_sqlite)
using System;
using System.Collections.Generic;
using System.Data;
using System.IO;
using System.Runtime.Serialization.Json;
using System.Text;
using System.Threading;
using System.Xml;
using System.Xml.Linq;
using ConnPool;
using Mono.Data.Sqlite;

public static class SqliteExample
{
    const int MaxSize = 4;
    const int Threads = 8;          // twice max_size: leases are contended, acquires wait
    const int RowsPerThread = 25;
    const int AbortsPerThread = 3;  // transactions left open on purpose: Reset rolls them back

    /// <summary>
    /// One pooled connection. SQLite cannot tell a caller whether a transaction is open, so the
    /// session remembers the one it began; Reset rolls it back if the lease ended without
    /// committing.
    /// </summary>
    sealed class Session
    {
        public readonly SqliteConnection Connection;
        SqliteTransaction tx;

        public Session(SqliteConnection c) { Connection = c; }

        public void Begin() { tx = Connection.BeginTransaction(); }

        public void Commit()
        {
            tx.Commit();
            tx.Dispose();
            tx = null;
        }

        /// <summary>True if a transaction was open (and is now rolled back).</summary>
        public bool RollBackIfOpen()
        {
            if (tx == null) return false;
            try { tx.Rollback(); }
            finally { tx.Dispose(); tx = null; }
            return true;
        }

        public int Execute(string sql, params object[] args)
        {
            using (var cmd = Command(sql, args)) return cmd.ExecuteNonQuery();
        }

        public long Scalar(string sql, params object[] args)
        {
            using (var cmd = Command(sql, args)) return Convert.ToInt64(cmd.ExecuteScalar());
        }

        public string Text(string sql)
        {
            using (var cmd = Command(sql, new object[0])) return Convert.ToString(cmd.ExecuteScalar());
        }

        SqliteCommand Command(string sql, object[] args)
        {
            var cmd = Connection.CreateCommand();
            cmd.CommandText = sql;
            cmd.Transaction = tx;
            for (int i = 0; i < args.Length; i++) cmd.Parameters.Add(new SqliteParameter("@p" + i, args[i]));
            return cmd;
        }
    }

    sealed class SqliteFactory : ConnectionFactory<Session>
    {
        readonly string connectionString;
        public int Created, Destroyed, Validated, RolledBack;

        public SqliteFactory(string path)
        {
            // Every connection opens the same file. A writer waits up to 10 s for another's
            // lock instead of failing with SQLITE_BUSY at once. Journal Mode: Mono.Data.Sqlite's
            // Open runs PRAGMA journal_mode=<this> (Delete when unset), and leaving WAL needs
            // the file to itself, so every connection must ask for WAL (readers then never
            // block the writer).
            connectionString = "Data Source=" + path + ";Version=3;Default Timeout=10;Journal Mode=WAL";
        }

        public override Session Create()
        {
            var c = new SqliteConnection(connectionString);
            try
            {
                c.Open();
                var s = new Session(c);
                s.Scalar("PRAGMA busy_timeout = 10000");
                Interlocked.Increment(ref Created);
                return s;
            }
            catch (SqliteException e)
            {
                c.Dispose();
                // A locked file is worth a retry (with the pool's backoff); a file we cannot
                // open or that is not a database will not open on a retry either.
                bool transient = e.ErrorCode == SQLiteErrorCode.Busy || e.ErrorCode == SQLiteErrorCode.Locked;
                throw new CreateException("sqlite open: " + e.Message, fatal: !transient, inner: e);
            }
        }

        public override void Destroy(Session s)
        {
            s.RollBackIfOpen();
            s.Connection.Dispose();
            Interlocked.Increment(ref Destroyed);
        }

        public override bool Validate(Session s)
        {
            Interlocked.Increment(ref Validated);
            return s.Connection.State == ConnectionState.Open && s.Scalar("SELECT 1") == 1;
        }

        public override bool Reset(Session s)
        {
            if (s.RollBackIfOpen()) Interlocked.Increment(ref RolledBack);
            return true;
        }
    }

    static int failures;

    static void Check(bool ok, string what)
    {
        Console.WriteLine((ok ? "ok:   " : "FAIL: ") + what);
        if (!ok) failures++;
    }

    /// <summary>Stats JSON through the framework's own JSON reader (JSON as an XML tree).</summary>
    static XElement Stats(Pool<Session> pool)
    {
        var bytes = Encoding.UTF8.GetBytes(pool.StatsJson());
        using (var reader = JsonReaderWriterFactory.CreateJsonReader(bytes, XmlDictionaryReaderQuotas.Max))
            return XElement.Load(reader);
    }

    static long Num(XElement stats, string section, string field)
    {
        return long.Parse(stats.Element(section).Element(field).Value);
    }

    static bool Eventually(Func<bool> pred)
    {
        var end = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!pred())
        {
            if (DateTime.UtcNow > end) return false;
            Thread.Sleep(5);
        }
        return true;
    }

    public static int Main()
    {
        string path = Path.Combine(Path.GetTempPath(), "connpool-sqlite-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            return Run(path);
        }
        finally
        {
            foreach (var f in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
                if (File.Exists(f)) File.Delete(f);
        }
    }

    static int Run(string path)
    {
        var factory = new SqliteFactory(path);
        var config = new Dictionary<string, object> {
            { "name", "sqlite" }, { "max_size", MaxSize }, { "min_idle", 1 },
            { "acquire_timeout_ms", TimeSpan.FromSeconds(30) },
            { "validate_on_acquire", "always" } };  // every hand-out runs SELECT 1
        long acquires = 0;
        using (var pool = new Pool<Session>(factory, config))
        {
            pool.AwaitReady(TimeSpan.FromSeconds(10));
            using (var lease = pool.Acquire())
            {
                string mode = lease.Connection.Text("PRAGMA journal_mode");
                Check(mode == "wal", "journal_mode " + mode);
                lease.Connection.Execute("CREATE TABLE orders (thread INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (thread, seq))");
            }
            acquires++;

            var errors = new List<string>();
            var workers = new List<Thread>();
            for (int t = 0; t < Threads; t++)
            {
                int thread = t;
                var w = new Thread(() =>
                {
                    try
                    {
                        for (int i = 0; i < RowsPerThread; i++)
                        {
                            using (var lease = pool.Acquire())
                            {
                                var s = lease.Connection;
                                s.Begin();
                                s.Execute("INSERT INTO orders (thread, seq) VALUES (@p0, @p1)", thread, i);
                                s.Commit();
                            }
                            using (var lease = pool.Acquire())
                            {
                                long mine = lease.Connection.Scalar("SELECT count(*) FROM orders WHERE thread = @p0", thread);
                                if (mine != i + 1) throw new Exception("thread " + thread + " sees " + mine + " of its rows, expected " + (i + 1));
                            }
                            if (i < AbortsPerThread)
                            {
                                // Leave a transaction open: the lease ends, Reset rolls it back.
                                using (var lease = pool.Acquire())
                                {
                                    lease.Connection.Begin();
                                    lease.Connection.Execute("INSERT INTO orders (thread, seq) VALUES (@p0, @p1)", thread, 1000 + i);
                                }
                            }
                        }
                    }
                    catch (Exception e)
                    {
                        lock (errors) errors.Add(e.GetType().Name + ": " + e.Message);
                    }
                });
                workers.Add(w);
                w.Start();
            }
            foreach (var w in workers) w.Join();
            acquires += Threads * (2L * RowsPerThread + AbortsPerThread);
            foreach (var e in errors) Console.WriteLine("worker: " + e);
            Check(errors.Count == 0, "no worker failed (" + errors.Count + " errors)");

            long rows;
            using (var lease = pool.Acquire()) rows = lease.Connection.Scalar("SELECT count(*) FROM orders");
            acquires++;
            Check(rows == Threads * RowsPerThread, "rows: " + rows + " == " + Threads * RowsPerThread + " committed, rolled-back ones absent");
            Check(factory.RolledBack == Threads * AbortsPerThread, "Reset rolled back " + factory.RolledBack + " open transactions, expected " + Threads * AbortsPerThread);

            // Background creates (min_idle) may still be finishing: wait for them to land.
            Check(Eventually(() => Num(Stats(pool), "connections", "creating") == 0), "no create in flight");
            var st = Stats(pool);
            Console.WriteLine("stats: " + pool.StatsJson());
            long created = Num(st, "counters", "created"), destroyed = Num(st, "counters", "destroyed");
            long idle = Num(st, "connections", "idle"), total = Num(st, "connections", "total");
            Check(Num(st, "connections", "in_use") == 0, "no lease out");
            Check(!st.Element("leaks").HasElements, "no leaks listed");
            Check(long.Parse(st.Element("waiters").Value) == 0, "no waiters");
            Check(total == idle, "total " + total + " == idle " + idle);
            Check(total >= 1 && total <= MaxSize, "1 <= total " + total + " <= max_size " + MaxSize);
            Check(created == idle + destroyed, "created " + created + " == idle " + idle + " + destroyed " + destroyed);
            Check(created == factory.Created, "created " + created + " == factory creates " + factory.Created);
            Check(destroyed == factory.Destroyed, "destroyed " + destroyed + " == factory destroys " + factory.Destroyed);
            Check(Num(st, "counters", "acquired") == acquires, "acquired " + Num(st, "counters", "acquired") + " == " + acquires);
            Check(Num(st, "acquire_wait_us", "count") == acquires, "acquire_wait_us.count == acquired");
            foreach (var zero in new[] { "timeouts", "unavailable", "create_failures", "validation_failures", "reset_failures", "stale_releases" })
                Check(Num(st, "counters", zero) == 0, "counters." + zero + " == 0");
            Check(factory.Validated > 0, "Validate (SELECT 1) ran " + factory.Validated + " times");
            Check(st.Element("state").Value == "ready" && pool.HttpStatus == 200, "state ready, HTTP 200");
        }
        // Closing the pool destroyed every idle connection; none was out.
        Check(factory.Destroyed == factory.Created, "after Dispose: destroyed " + factory.Destroyed + " == created " + factory.Created);
        Console.WriteLine(failures == 0 ? "all checks passed" : failures + " check(s) failed");
        return failures == 0 ? 0 : 1;
    }
}
