// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Loads the JNI library (libconnpool_java.so, which links libconnpool.so.1) once.
 * The system property {@code org.connpool.library} may name the file's absolute path;
 * otherwise it is looked up on {@code java.library.path} (a system-wide install), and when it is
 * not found there, the copies the jar carries for linux-x86_64 are extracted into a temporary
 * directory and loaded from it, so the jar alone is enough on that platform.
 */
final class NativeLoader {
  private static final String RESOURCE_DIR = "/org/connpool/native/linux-x86_64/";
  private static boolean loaded;

  private NativeLoader() {}

  static synchronized void load() {
    if (loaded) return;
    String path = System.getProperty("org.connpool.library");
    if (path != null && !path.isEmpty()) {
      System.load(path);
    } else {
      try {
        System.loadLibrary("connpool_java");
      } catch (UnsatisfiedLinkError notInstalled) {
        try {
          loadFromJar();
        } catch (IOException | UnsatisfiedLinkError e) {
          notInstalled.addSuppressed(e);
          throw notInstalled;
        }
      }
    }
    loaded = true;
  }

  private static void loadFromJar() throws IOException {
    String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      throw new IOException("the jar carries native libraries for linux-x86_64 only, not "
          + os + "-" + arch);
    }
    Path dir = Files.createTempDirectory("connpool-native");
    dir.toFile().deleteOnExit();
    // libconnpool.so.1 first: once loaded, the dynamic linker resolves the JNI library's
    // DT_NEEDED entry for that soname to it instead of searching the system paths.
    System.load(extract(dir, "libconnpool.so.1").toString());
    System.load(extract(dir, "libconnpool_java.so").toString());
  }

  private static Path extract(Path dir, String name) throws IOException {
    Path out = dir.resolve(name);
    try (InputStream in = NativeLoader.class.getResourceAsStream(RESOURCE_DIR + name)) {
      if (in == null) throw new IOException("the jar has no " + RESOURCE_DIR + name);
      Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
    }
    out.toFile().deleteOnExit();  // hooks run in reverse order: the file goes before dir
    return out;
  }
}
