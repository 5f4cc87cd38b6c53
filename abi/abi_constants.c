/* The numbers of the public header that abidiff cannot see (macros and enumerators are not
 * in the library's debug information): pinned at compile time, so changing one fails the
 * build of this test. New values may be appended; existing ones never change (docs/ABI.md). */
#include <connpool/connpool.h>
#include <stdio.h>

#define PIN(expr) _Static_assert(expr, #expr)

PIN(CONNPOOL_OK == 0);
PIN(CONNPOOL_EINVAL == 1);
PIN(CONNPOOL_ETIMEOUT == 2);
PIN(CONNPOOL_EUNAVAILABLE == 3);
PIN(CONNPOOL_ECLOSED == 4);
PIN(CONNPOOL_EOVERLOAD == 5);
PIN(CONNPOOL_ESTALE == 6);
PIN(CONNPOOL_EFACTORY == 7);
PIN(CONNPOOL_ENOMEM == 8);
PIN(CONNPOOL_EINTERNAL == 9);
PIN(CONNPOOL_ECANCELED == 10);
PIN(CONNPOOL_PENDING == 11);
PIN(CONNPOOL_STATUS_COUNT_ >= 10); /* append-only: may grow, never shrink */

PIN(CONNPOOL_FACTORY_OK == 0);
PIN(CONNPOOL_FACTORY_RETRY == 1);
PIN(CONNPOOL_FACTORY_FATAL == 2);

PIN(CONNPOOL_STATE_STARTING == 0);
PIN(CONNPOOL_STATE_READY == 1);
PIN(CONNPOOL_STATE_DEGRADED == 2);
PIN(CONNPOOL_STATE_UNAVAILABLE == 3);
PIN(CONNPOOL_STATE_DRAINING == 4);
PIN(CONNPOOL_STATE_CLOSED == 5);

PIN(CONNPOOL_LOG_ERROR == 0);
PIN(CONNPOOL_LOG_WARN == 1);
PIN(CONNPOOL_LOG_INFO == 2);
PIN(CONNPOOL_LOG_DEBUG == 3);

PIN(CONNPOOL_ROLE_PRIMARY == 0); /* pool groups (issue #10) */
PIN(CONNPOOL_ROLE_REPLICA == 1);
PIN(CONNPOOL_ROLE_SHARD == 2);
PIN(CONNPOOL_INTENT_WRITE == 0);
PIN(CONNPOOL_INTENT_READ == 1);

PIN(CONNPOOL_VERSION_MAJOR == 1); /* the soname: libconnpool.so.1 */
PIN(sizeof(connpool_lease_t) == 8);

int main(void) {
  /* The library loaded at run time agrees with the header it was built from. */
  if (connpool_version_number() / 10000 != CONNPOOL_VERSION_MAJOR) {
    fprintf(stderr, "libconnpool major %d, header major %d\n", connpool_version_number() / 10000,
            CONNPOOL_VERSION_MAJOR);
    return 1;
  }
  return 0;
}
