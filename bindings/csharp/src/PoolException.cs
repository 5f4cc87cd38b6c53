// SPDX-License-Identifier: Apache-2.0
using System;
using System.Reflection;

namespace ConnPool
{
    /// <summary>
    /// A pool call failed. The subclass says why; <see cref="Code"/> is the C library's status
    /// code (CONNPOOL_STATUS_MAP in connpool.h, the one table every binding is generated from)
    /// and <see cref="HttpStatus"/> what a service should answer (503 for timeout, unavailable,
    /// overload and closed; 502 when a factory failed on this call; 500 otherwise).
    /// </summary>
    public class PoolException : Exception
    {
        internal PoolException(Status status, string detail) : base(Describe(status, detail))
        {
            Status = status;
        }

        private static string Describe(Status status, string detail)
        {
            string text = connpool.statusName((int)status) + ": " + connpool.statusMessage((int)status);
            return string.IsNullOrEmpty(detail) ? text : text + ": " + detail;
        }

        public Status Status { get; private set; }

        /// <summary>The status code as pinned in connpool.h (e.g. 2 for CONNPOOL_ETIMEOUT).</summary>
        public int Code { get { return (int)Status; } }

        /// <summary>The code's name, e.g. "CONNPOOL_ETIMEOUT".</summary>
        public string CodeName { get { return connpool.statusName(Code); } }

        public int HttpStatus { get { return connpool.httpStatusFor(Code); } }

        /// <summary>
        /// The exception class of each status code, from the exception column of the status
        /// table (CONNPOOL_BINDING_STATUS_MAP in connpool_facade.hpp, checked against
        /// connpool.h's list): the constructor taking the detail, or null where the base serves.
        /// </summary>
        static readonly ConstructorInfo[] ByCode = BuildByCode();

        static ConstructorInfo[] BuildByCode()
        {
            var codes = (Status[])Enum.GetValues(typeof(Status));
            var table = new ConstructorInfo[codes.Length];
            foreach (Status s in codes)
            {
                string name = connpool.exceptionNameFor((int)s);
                if (name.Length == 0 || name == "PoolException") continue;
                Type t = typeof(PoolException).Assembly.GetType("ConnPool." + name, true);
                table[(int)s] = t.GetConstructor(new[] { typeof(string) });
                if (table[(int)s] == null) throw new InvalidOperationException("no (string) constructor on " + name);
            }
            return table;
        }

        /// <summary>The exception for a native status code, as the status table says.</summary>
        internal static PoolException From(int code, string detail)
        {
            if (!Enum.IsDefined(typeof(Status), code))
                return new PoolException(Status.EINTERNAL, "unknown status code " + code + (detail == null ? "" : ": " + detail));
            ConstructorInfo c = code < ByCode.Length ? ByCode[code] : null;
            return c == null ? new PoolException((Status)code, detail) : (PoolException)c.Invoke(new object[] { detail });
        }
    }

    /// <summary>Invalid argument (CONNPOOL_EINVAL): an unknown configuration key or a value out of range.</summary>
    public class PoolConfigException : PoolException
    {
        public PoolConfigException(string detail) : base(Status.EINVAL, detail) { }
    }

    /// <summary>No connection within the acquire timeout (CONNPOOL_ETIMEOUT, HTTP 503).</summary>
    public class PoolTimeoutException : PoolException
    {
        public PoolTimeoutException(string detail) : base(Status.ETIMEOUT, detail) { }
    }

    /// <summary>The backend is unavailable and the pool fails fast (CONNPOOL_EUNAVAILABLE, HTTP 503).</summary>
    public class PoolUnavailableException : PoolException
    {
        public PoolUnavailableException(string detail) : base(Status.EUNAVAILABLE, detail) { }
    }

    /// <summary>The pool is draining or closed (CONNPOOL_ECLOSED, HTTP 503).</summary>
    public class PoolClosedException : PoolException
    {
        public PoolClosedException(string detail) : base(Status.ECLOSED, detail) { }
    }

    /// <summary>Too many waiters: shed at once (CONNPOOL_EOVERLOAD, HTTP 503).</summary>
    public class PoolOverloadException : PoolException
    {
        public PoolOverloadException(string detail) : base(Status.EOVERLOAD, detail) { }
    }

    /// <summary>The lease is not current (CONNPOOL_ESTALE); with this binding's leases, a bug report.</summary>
    public class PoolStaleLeaseException : PoolException
    {
        public PoolStaleLeaseException(string detail) : base(Status.ESTALE, detail) { }
    }

    /// <summary>A factory callback failed on this call's path, e.g. a no-wait acquire had to create (CONNPOOL_EFACTORY, HTTP 502).</summary>
    public class PoolFactoryException : PoolException
    {
        public PoolFactoryException(string detail) : base(Status.EFACTORY, detail) { }
    }
}
