package org.connpool;

/**
 * Loads the JNI library (libconnpool_java.so, which links libconnpool.so) once.
 * The system property {@code org.connpool.library} may name the file's absolute path;
 * otherwise it is looked up on {@code java.library.path}.
 */
final class NativeLoader {
  private static boolean loaded;

  private NativeLoader() {}

  static synchronized void load() {
    if (loaded) return;
    String path = System.getProperty("org.connpool.library");
    if (path != null && !path.isEmpty()) {
      System.load(path);
    } else {
      System.loadLibrary("connpool_java");
    }
    loaded = true;
  }
}
