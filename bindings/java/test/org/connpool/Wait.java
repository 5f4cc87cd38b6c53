// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polls a condition until a deadline (never a fixed sleep used as synchronisation). */
final class Wait {
  private Wait() {}

  static boolean until(Duration deadline, BooleanSupplier cond) {
    long end = System.nanoTime() + deadline.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() - end > 0) return false;
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }
}
