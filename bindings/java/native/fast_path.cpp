// SPDX-License-Identifier: Apache-2.0
// fast_path.cpp - the Java binding's acquire/release hot path, compiled into
// libconnpool_java.so beside the SWIG wrapper and called by src/org/connpool/FastPath.java.
//
// Why not the SWIG wrappers: each generated call passes the NativePool (and the cancel
// token's proxy) as jobjects, which the JVM turns into JNI handles on every call, and reads
// its arguments through SWIG's typemaps. These are `static native` methods whose arguments and
// results are only jlong/jint, found by name (Java_org_connpool_FastPath_*), that return their
// status in the result and throw nothing, so a call is the JVM's plain native transition.
// They are not part of libconnpool's ABI: only connpool.jar calls them, and the two ship
// together (the jar carries this library).
//
// `pool` is the connpool_binding::Pool* behind a NativePool (its swigCPtr), `cancel` the
// connpool_binding::CancelToken* behind a NativeCancelToken (0: none). The Java caller keeps
// both objects reachable for the duration of the call.
#include <jni.h>

#include <cstdint>

#include "connpool_facade.hpp"

using connpool_binding::CancelToken;
using connpool_binding::Pool;

// Pool::acquireHandle: > 0 the connection's handle (its lease kept by handle in the facade);
// <= 0 minus (status | ticket << 8 | spilled handle << 8), as documented there.
extern "C" JNIEXPORT jlong JNICALL Java_org_connpool_FastPath_acquire(JNIEnv*, jclass, jlong pool,
                                                                     jlong timeout_ms, jint priority,
                                                                     jlong cancel) {
  try {
    return static_cast<jlong>(reinterpret_cast<Pool*>(static_cast<intptr_t>(pool))
                                  ->acquireHandle(timeout_ms, priority,
                                                  reinterpret_cast<CancelToken*>(static_cast<intptr_t>(cancel))));
  } catch (...) {
    return -static_cast<jlong>(CONNPOOL_EINTERNAL);
  }
}

// Pool::releaseHandleOnce (org.connpool.Lease releases each lease once): CONNPOOL_OK,
// CONNPOOL_ESTALE (the handle holds no lease) or what connpool_release returned.
extern "C" JNIEXPORT jint JNICALL Java_org_connpool_FastPath_release(JNIEnv*, jclass, jlong pool, jlong handle,
                                                                    jint broken) {
  try {
    return reinterpret_cast<Pool*>(static_cast<intptr_t>(pool))->releaseHandleOnce(handle, broken != 0);
  } catch (...) {
    return CONNPOOL_EINTERNAL;
  }
}
