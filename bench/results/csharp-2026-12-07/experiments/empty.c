/* SPDX-License-Identifier: Apache-2.0 */
/* Empty native functions with the fast path's signatures, for pinvoke_cost.cs. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>

int64_t empty_acquire(void *p, int64_t a, int32_t b, int64_t *out) { (void)p; *out = a; return a + b; }
int32_t empty_release(void *p, int64_t h, int64_t l, int32_t b) { (void)p; return (int32_t)(h + l + b); }

/* The same two as Mono "raw" internal calls: no GC transition at all. Only for measuring: a raw
 * icall that waits on anything (a lock, a condition) can deadlock the GC under hybrid suspend. */
int32_t register_raw(void) {
    void (*add)(const char *, const void *) =
        (void (*)(const char *, const void *))dlsym(RTLD_DEFAULT, "mono_dangerous_add_raw_internal_call");
    if (!add) return 0;
    add("Raw::Acquire", (const void *)empty_acquire);
    add("Raw::Release", (const void *)empty_release);
    return 1;
}
