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
