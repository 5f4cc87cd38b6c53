// SPDX-License-Identifier: Apache-2.0
/* connpool.i - the one SWIG interface for the Java, C# and Go bindings.
 *
 * It wraps bindings/connpool_facade.hpp (a thin header-only layer over the C ABI) and nothing
 * else, so each wrapper library links only libconnpool.so. The generated classes are the
 * bindings' internals (Native* names, package-private in Java, internal in C#, an internal
 * package in Go); each language puts its idiomatic API on top (bindings/<lang>/).
 * Per-language additions live behind the one switch at the end of this file.
 */
%module(directors="1") connpool

%{
#include "connpool_facade.hpp"
%}

%include <stdint.i>
%include <std_string.i>
%include <typemaps.i>

/* The status codes come from CONNPOOL_STATUS_MAP: %import makes the header's macros (and so
 * the X-macro list) visible to SWIG's preprocessor without wrapping the C functions, and the
 * facade expands the list into the Status enum every language's error table is keyed on. */
%import <connpool/connpool.h>

%feature("director") connpool_binding::Factory;

/* Generated names stay out of each language's public vocabulary. */
%rename(NativeFactory) connpool_binding::Factory;
%rename(NativePool) connpool_binding::Pool;
%rename(NativeConfig) connpool_binding::Config;
%rename(NativeCreateResult) connpool_binding::CreateResult;
%rename(NativeGroup) connpool_binding::Group;
%rename(NativeCancelToken) connpool_binding::CancelToken;
%ignore connpool_binding::STATUS_END_;
%rename("%(strip:[STATUS_])s", %$isenumitem) "";

%apply int64_t *OUTPUT { int64_t *lease_out, int64_t *handle_out, int64_t *ticket_out };
/* Pool groups: the index (in add order) of the member a group lease belongs to. */
%apply int *OUTPUT { int *member_out };

#if defined(SWIGJAVA)
%include "java/connpool_java.i"
#elif defined(SWIGCSHARP)
%include "csharp/connpool_csharp.i"
#elif defined(SWIGGO)
%include "go/connpool_go.i"
#else
#error "connpool.i: only Java, C# and Go are supported"
#endif

%include "connpool_facade.hpp"
