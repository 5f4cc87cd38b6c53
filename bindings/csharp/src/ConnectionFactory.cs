// SPDX-License-Identifier: Apache-2.0
using System;

namespace ConnPool
{
    /// <summary>
    /// Opens and closes your connections: the only code that talks to your backend.
    /// </summary>
    /// <remarks>
    /// The pool calls these from acquiring threads and from its own background threads
    /// (connector threads run <see cref="Create"/>, a maintenance thread runs keepalive
    /// validation and idle retirement), never with a pool lock held, so they may block on I/O.
    /// An exception never reaches the pool: from Create it is a failed create (transient and
    /// retried with backoff, unless it is a <see cref="CreateException"/> with Fatal set);
    /// from Validate or Reset the connection is destroyed; from Destroy it is ignored.
    /// </remarks>
    public abstract class ConnectionFactory<T>
    {
        /// <summary>Opens one connection. Throw <c>new CreateException(msg, fatal: true)</c> for a permanent failure.</summary>
        public abstract T Create();

        /// <summary>Closes a connection; called exactly once for each object Create returned.</summary>
        public abstract void Destroy(T connection);

        /// <summary>Health check; false (or an exception) destroys the connection. Not called at all unless overridden.</summary>
        public virtual bool Validate(T connection) { return true; }

        /// <summary>Clears session state when a lease ends (reset_on_release); false destroys it. Not called unless overridden.</summary>
        public virtual bool Reset(T connection) { return true; }
    }

    /// <summary>
    /// Thrown by <see cref="ConnectionFactory{T}.Create"/>: transient (retry with backoff) or
    /// fatal (bad credentials: the pool turns unavailable at once and answers 503). Any other
    /// exception from Create counts as transient.
    /// </summary>
    public class CreateException : Exception
    {
        public CreateException(string message, bool fatal = false, Exception inner = null) : base(message, inner)
        {
            Fatal = fatal;
        }

        public bool Fatal { get; private set; }
    }
}
