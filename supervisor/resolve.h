/* Which file an execve would run, found the way the kernel will find it for
 * that process: relative to its working directory, within its root, through
 * its file descriptors. This is the supervisor's prediction, made while the
 * process waits; the exec event check (verify.c) compares it with what the
 * kernel really ran, by device and inode. A wrong prediction therefore never
 * lets another program run: at worst a legitimate one is killed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "exec-cache.h"
#include "tracee.h"

/* The kernel reads this much of a file to choose its binary format. */
#define EXEC_HEADER_SIZE 256u
_Static_assert(EXEC_HEADER_SIZE == EXEC_CACHE_HEADER_SIZE, "one header size");
/* A script's interpreter may itself be a script, this many times (the
 * kernel gives up after 4 nested interpreters). */
#define EXEC_MAX_INTERP 4u

/* Where the process resolves paths. */
typedef struct exec_ctx {
        pid_t tid, tgid;
        int rootfd;     /* its root directory (O_PATH), opened when first needed */
        int cwdfd;      /* its working directory (O_PATH), likewise */
        bool same_root; /* its root and mount namespace are the supervisor's */
        char *cwd;      /* its working directory as a path (readlink), for events and policy; NULL when not read */
        exec_cache *cache; /* the session's, or NULL; not owned */
} exec_ctx;

/**
 * exec_ctx_open() - capture whether @tid's root and mount namespace are the
 * supervisor's, and its working directory when @want_cwd.
 * @param[in] check_root  false when no process of the session can have
 *                        changed its root (then it is taken as the supervisor's).
 * @return 0 or -errno (-ESRCH/-ENOENT: the task is gone).
 */
int exec_ctx_open(pid_t tid, pid_t tgid, bool check_root, bool want_cwd, exec_ctx *ret);

/** @tid's working directory as a path, or -errno. */
int exec_read_cwd(pid_t tid, char **ret);
/** Close and free; leaves @c empty. */
void exec_ctx_done(exec_ctx *c);

typedef struct exec_file {
        int fd; /* O_PATH, owned */
        struct stat st;
        char *path;    /* the file's path as the host sees it, symlinks resolved; NULL when fileless */
        bool fileless; /* a memfd, a deleted file, anything without a path */
} exec_file;

/** Close and free; leaves @f with fd -1. */
void exec_file_done(exec_file *f);

/**
 * exec_resolve() - the file execve(@path) or execveat(@dirfd, @path, @at_flags)
 * would run.
 * @param[in] dirfd     AT_FDCWD, or a file descriptor number in the process.
 * @param[in] at_flags  AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW as execveat takes them.
 * @return 0; a -errno the kernel itself would return (-ENOENT, -ENOTDIR,
 *         -ELOOP, -EACCES for something that is not a regular file, -EBADF,
 *         -ENAMETOOLONG); -EXDEV when the path cannot be resolved reliably
 *         (a relative path in another root or mount namespace).
 */
int exec_resolve(exec_ctx *c, int dirfd, const char *path, int at_flags, exec_file *ret);

/**
 * exec_header() - the first EXEC_HEADER_SIZE bytes of @f (fewer for a short
 * file), from @cache (may be NULL) when it holds them for this very file.
 * @return 0 or -errno.
 */
int exec_header(exec_cache *cache, const exec_file *f, char buf[static EXEC_HEADER_SIZE], size_t *ret_len);

/**
 * shebang_parse() - the interpreter line of a script, exactly as the kernel
 * reads it (fs/binfmt_script.c): "#!", optional blanks, the interpreter up
 * to a blank, and everything after further blanks (trailing blanks removed)
 * as one optional argument.
 * @param[in]  buf      the file's first bytes; @len <= EXEC_HEADER_SIZE.
 * @param[out] ret_interp, ret_arg  malloc'd (ret_arg NULL when there is none).
 * @return 1 for a script, 0 when @buf does not start with "#!", -ENOEXEC for
 *         a "#!" line the kernel refuses, -ENOMEM.
 */
int shebang_parse(const char *buf, size_t len, char **ret_interp, char **ret_arg);

/**
 * exec_filename() - the name the kernel gives the file of an execveat:
 * @path itself for AT_FDCWD or an absolute path, else "/dev/fd/N" or
 * "/dev/fd/N/PATH". A script's interpreter gets it as an argument.
 * @param[out] ret  malloc'd.
 */
int exec_filename(int dirfd, const char *path, char **ret);

/** Whether @path names a dynamic loader (ld-linux*.so*, ld-*.so*, ld.so*, ld64.so*, ld-musl-*). */
bool exec_path_is_loader(const char *path);

/**
 * ldso_find_prog() - the program a dynamic loader invoked as a command runs.
 * Parses glibc's ld.so options (--list, --verify, --library-path X, --preload X,
 * --argv0 X ...) as ld.so does.
 * @param[in]  argv          the loader's argv (argv[0] is the loader).
 * @param[out] ret_index     index of PROG in @argv.
 * @param[out] ret_argv0     the --argv0 value, or NULL (PROG's argv[0] is then PROG).
 * @return 1 when there is a program, 0 when the loader runs none (--help,
 *         --version, no arguments).
 */
int ldso_find_prog(const strv *argv, size_t *ret_index, const char **ret_argv0);
