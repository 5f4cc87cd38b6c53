// SPDX-License-Identifier: Apache-2.0
/* Java additions to connpool.i (included from its language switch).
 * The generated classes are package-private internals of org.connpool; the public API is the
 * hand-written code in bindings/java/src. */

/* Pool threads are native threads that call into Java. Attach each once and detach it when it
 * ends (else ~1,300 Thread objects per second), as a daemon (else the JVM waits for the pool's
 * threads at exit), named after the native thread. */
%begin %{
#define SWIG_JAVA_DETACH_ON_THREAD_END
#define SWIG_JAVA_ATTACH_CURRENT_THREAD_AS_DAEMON
#define SWIG_JAVA_USE_THREAD_NAME
%}

%pragma(java) jniclassclassmodifiers="final class"
%pragma(java) moduleclassmodifiers="final class"
%typemap(javaclassmodifiers) SWIGTYPE "class"
%include <enums.swg>

/* No finalize(): Pool uses a java.lang.ref.Cleaner, everything else is deleted explicitly,
 * and the director is owned by the native pool. */
%typemap(javafinalize) SWIGTYPE ""

/* The JNI library is loaded by org.connpool.NativeLoader, once, before any native call. */
%pragma(java) jniclasscode=%{
  static {
    NativeLoader.load();
  }
%}

/* The hot path: one array for the lease and the handle, written with a single JNI call
 * (typemaps.i's OUTPUT would take two arrays, two length checks and two writes). */
%typemap(jni) int64_t *lease_and_handle "jlongArray"
%typemap(jtype) int64_t *lease_and_handle "long[]"
%typemap(jstype) int64_t *lease_and_handle "long[]"
%typemap(javain) int64_t *lease_and_handle "$javainput"
%typemap(in) int64_t *lease_and_handle (int64_t temp[2]) {
  temp[0] = temp[1] = 0;
  $1 = temp;
}
%typemap(argout) int64_t *lease_and_handle {
  jlong values[2] = { (jlong)temp$argnum[0], (jlong)temp$argnum[1] };
  /* Throws ArrayIndexOutOfBoundsException (pending on return) if the array is too short. */
  JCALL4(SetLongArrayRegion, jenv, $input, 0, 2, values);
}
/* The same for acquireAsyncTicket: lease, handle and ticket in one array of 3. */
%typemap(jni) int64_t *lease_handle_ticket "jlongArray"
%typemap(jtype) int64_t *lease_handle_ticket "long[]"
%typemap(jstype) int64_t *lease_handle_ticket "long[]"
%typemap(javain) int64_t *lease_handle_ticket "$javainput"
%typemap(in) int64_t *lease_handle_ticket (int64_t temp[3]) {
  temp[0] = temp[1] = temp[2] = 0;
  $1 = temp;
}
%typemap(argout) int64_t *lease_handle_ticket {
  jlong values[3] = { (jlong)temp$argnum[0], (jlong)temp$argnum[1], (jlong)temp$argnum[2] };
  JCALL4(SetLongArrayRegion, jenv, $input, 0, 3, values);
}
%extend connpool_binding::Pool {
  int acquireInto(int64_t timeout_ms, int priority, int64_t *lease_and_handle) {
    return $self->acquire(timeout_ms, priority, &lease_and_handle[0], &lease_and_handle[1]);
  }
  int acquireAsyncInto(int64_t timeout_ms, int priority, connpool_binding::CancelToken *cancel,
                       int64_t *lease_handle_ticket) {
    return $self->acquireAsyncTicket(timeout_ms, priority, cancel, &lease_handle_ticket[0],
                                     &lease_handle_ticket[1], &lease_handle_ticket[2]);
  }
}
