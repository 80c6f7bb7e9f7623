/* A hash map from pid (> 0) to a pointer: the supervisor's tables of traced
 * threads and of running commands. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

typedef struct pidmap {
        struct pidmap_slot {
                pid_t key; /* 0: empty, -1: removed */
                void *value;
        } * slots;
        size_t cap, n, used; /* used counts removed slots too */
} pidmap;

/** The value for @key, or NULL. */
void *pidmap_get(const pidmap *m, pid_t key);
/** Insert or replace. @return 0 or -ENOMEM. */
int pidmap_put(pidmap *m, pid_t key, void *value);
/** Remove @key; @return its value, or NULL. */
void *pidmap_remove(pidmap *m, pid_t key);
/** Iterate: start with *@pos = 0; @return 1 and the next entry, or 0 at the end.
 * Removing the returned entry while iterating is allowed. */
int pidmap_next(const pidmap *m, size_t *pos, pid_t *ret_key, void **ret_value);
/** Free the table (not the values). */
void pidmap_done(pidmap *m);
