// SPDX-License-Identifier: Apache-2.0
using System.Reflection;
using System.Runtime.CompilerServices;

[assembly: AssemblyTitle("ConnPool")]
[assembly: AssemblyDescription("C# binding of libconnpool, a connection pool with a stable C ABI")]
[assembly: AssemblyVersion("1.2.0.0")]
[assembly: InternalsVisibleTo("ConnPool.Tests")]
