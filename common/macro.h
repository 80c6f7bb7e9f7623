/* Small helpers shared by every vigil component: scope-bound cleanup,
 * ownership transfer and the -errno convention.
 *
 * Every function in vigil returns an int: >= 0 on success, a negative errno
 * (or a VIGIL_E* code below -10000, see vigil-error.h) on failure. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _warn_unused_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                (void)close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
        if (*f)
                (void)fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand ownership on: returns the value and leaves the variable empty so its
 * cleanup does nothing. */
#define TAKE_PTR(p)                                                                                           \
        ({                                                                                                    \
                __typeof__(p) _p_ = (p);                                                                      \
                (p) = NULL;                                                                                   \
                _p_;                                                                                          \
        })
#define TAKE_FD(fd)                                                                                           \
        ({                                                                                                    \
                int _fd_ = (fd);                                                                              \
                (fd) = -1;                                                                                    \
                _fd_;                                                                                         \
        })

/* Turn a libc "-1 and errno" result into -errno. */
static inline int negative_errno(void)
{
        return errno > 0 ? -errno : -EIO;
}
#define RET_NERRNO(expr)                                                                                      \
        ({                                                                                                    \
                long _r_ = (long)(expr);                                                                      \
                _r_ < 0 ? negative_errno() : (int)_r_;                                                        \
        })

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                               \
        static inline void func##p(type *p)                                                                   \
        {                                                                                                     \
                if (*p)                                                                                       \
                        func(*p);                                                                             \
        }
