// SPDX-License-Identifier: Apache-2.0
// fast_path.cpp - the Java binding's acquire/release hot path, compiled into
// libconnpool_java.so beside the SWIG wrapper and called by src/org/connpool/FastPath.java.
//
// Why not the SWIG wrappers: each generated call passes the NativePool (and the cancel
// token's proxy) as jobjects, which the JVM turns into JNI handles on every call, and reads
// its arguments through SWIG's typemaps. These are `static native` methods whose arguments and
// results are only jlong/jint, found by name (Java_org_connpool_FastPath_*), that return their
// status in the result and throw nothing, so a call is the JVM's plain native transition
// (FastPath.address takes a buffer object, but runs once per thread, not per call).
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

// Pool::acquireHandleLease: > 0 the connection's handle, its lease written to the 8 bytes at
// `lease_out` (the calling thread's direct buffer, FastPath.address); <= 0 minus
// (status | ticket << 8), as documented there.
extern "C" JNIEXPORT jlong JNICALL Java_org_connpool_FastPath_acquire(JNIEnv*, jclass, jlong pool,
                                                                     jlong timeout_ms, jint priority,
                                                                     jlong cancel, jlong lease_out) {
  try {
    return static_cast<jlong>(reinterpret_cast<Pool*>(static_cast<intptr_t>(pool))
                                  ->acquireHandleLease(timeout_ms, priority,
                                                       reinterpret_cast<CancelToken*>(static_cast<intptr_t>(cancel)),
                                                       reinterpret_cast<int64_t*>(static_cast<intptr_t>(lease_out))));
  } catch (...) {
    return -static_cast<jlong>(CONNPOOL_EINTERNAL);
  }
}

// Pool::release of a lease by its value: CONNPOOL_OK, CONNPOOL_ESTALE (given back already:
// the pool's compare-and-swap refused it, nothing changed) or what connpool_release returned.
extern "C" JNIEXPORT jint JNICALL Java_org_connpool_FastPath_release(JNIEnv*, jclass, jlong pool, jlong lease,
                                                                    jint broken) {
  try {
    return reinterpret_cast<Pool*>(static_cast<intptr_t>(pool))->release(lease, broken != 0);
  } catch (...) {
    return CONNPOOL_EINTERNAL;
  }
}

// The address of a direct ByteBuffer (once per thread, for acquire's lease_out); 0 if the JVM
// gives none.
extern "C" JNIEXPORT jlong JNICALL Java_org_connpool_FastPath_address(JNIEnv* env, jclass, jobject buffer) {
  return static_cast<jlong>(reinterpret_cast<intptr_t>(env->GetDirectBufferAddress(buffer)));
}
