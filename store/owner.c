/* Who writes a session: pid, the process's start time (so a recycled pid is
 * not mistaken for the writer) and the boot id (so a reboot is). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "store-internal.h"

static int boot_id(uint8_t ret[16])
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        unsigned o = 0;
        int r = read_file_bounded("/proc/sys/kernel/random/boot_id", 256, &buf, &len);

        if (r < 0)
                return r;
        memset(ret, 0, 16);
        for (size_t i = 0; i < len && o < 32; i++) {
                char ch = buf[i];
                int x;

                if (ch == '-' || ch == '\n')
                        continue;
                if (ch >= '0' && ch <= '9')
                        x = ch - '0';
                else if (ch >= 'a' && ch <= 'f')
                        x = ch - 'a' + 10;
                else
                        return -EINVAL;
                ret[o / 2] |= (uint8_t)(o % 2 ? x : x << 4);
                o++;
        }
        return o == 32 ? 0 : -EINVAL;
}

/* Field 22 of /proc/PID/stat; the command name (field 2) may hold spaces and
 * parentheses, so parse from the last ')'. */
static int proc_start_time(int32_t pid, uint64_t *ret)
{
        _cleanup_free_ char *buf = NULL;
        char path[64];
        size_t len = 0;
        char *p;
        int r;

        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        r = read_file_bounded(path, 4096, &buf, &len);
        if (r < 0)
                return r;
        p = strrchr(buf, ')');
        if (!p)
                return -EINVAL;
        p++;
        /* After ')': field 3 (state) is the first; starttime is field 22. */
        for (int field = 3; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EINVAL;
        }
        *ret = strtoull(p + 1, NULL, 10);
        return 0;
}

int owner_self(int32_t *ret_pid, uint64_t *ret_start, uint8_t ret_boot[16])
{
        int32_t pid = (int32_t)getpid();
        int r = proc_start_time(pid, ret_start);

        if (r < 0)
                return r;
        r = boot_id(ret_boot);
        if (r < 0)
                return r;
        *ret_pid = pid;
        return 0;
}

bool owner_alive(int32_t pid, uint64_t start, const uint8_t boot[16])
{
        uint8_t now_boot[16];
        uint64_t now_start = 0;

        if (pid <= 0)
                return false;
        if (boot_id(now_boot) < 0 || memcmp(now_boot, boot, 16) != 0)
                return false;
        if (proc_start_time(pid, &now_start) < 0)
                return false;
        return now_start == start;
}

bool vigil_session_writer_alive(const vigil_session_info *i)
{
        return owner_alive(i->writer_pid, i->writer_start, i->boot_id);
}
