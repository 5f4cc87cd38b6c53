// SPDX-License-Identifier: Apache-2.0
/* C# additions to connpool.i (included from its language switch).
 * The generated classes are internal to the ConnPool assembly except the Status and State
 * enums; the public API is the hand-written code in bindings/csharp/src. */

%typemap(csclassmodifiers) SWIGTYPE "internal class"
%pragma(csharp) moduleclassmodifiers="internal class"
%pragma(csharp) imclassclassmodifiers="internal class"

/* Director upcalls run on pool threads with native frames below them: an exception escaping
 * into native code would leak a slot or kill the process. SWIG's generated C# callbacks call
 * the virtual methods directly, so the one director subclass (FactoryAdapter.cs) catches
 * every exception in every override; nothing else derives from NativeFactory. */

/* The pool owns the director from the constructor on: swigRelease drops the C# side's
 * ownership (a GCHandle in FactoryAdapter keeps the callbacks alive until released()). */
%typemap(csin) connpool_binding::Factory *factory "NativeFactory.swigRelease($csinput)"
