/* Foreign system call ABIs from a 64-bit process: i386 through int $0x80,
 * and x32 (syscall numbers with bit 30 set). The session's filter must kill
 * the process (SIGSYS) before the call does anything: here an execve of
 * /bin/echo that would print "FOREIGN-ABI-EXEC-RAN". */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char path[] = "/bin/echo";
static char arg1[] = "FOREIGN-ABI-EXEC-RAN";
static unsigned int args32[3];

int main(int argc, char **argv)
{
        long ret;

        if (argc < 2)
                return 2;
        if (strcmp(argv[1], "i386") == 0) {
                /* i386 execve is 11; its pointers are 32 bits: static data of a
                 * non-PIE build has such addresses, so unfiltered it would run */
                args32[0] = (unsigned int)(uintptr_t)path;
                args32[1] = (unsigned int)(uintptr_t)arg1;
                args32[2] = 0;
                __asm__ volatile("int $0x80"
                                 : "=a"(ret)
                                 : "a"(11), "b"(path), "c"(args32), "d"(0)
                                 : "memory");
                printf("i386 syscall returned %ld\n", ret);
                return 1;
        }
        if (strcmp(argv[1], "x32") == 0) {
                char *args[] = {path, arg1, NULL};

                /* x32 execve: 0x40000000 | 520 */
                __asm__ volatile("syscall"
                                 : "=a"(ret)
                                 : "a"(0x40000000L | 520), "D"(path), "S"(args), "d"(0)
                                 : "rcx", "r11", "memory");
                printf("x32 syscall returned %ld\n", ret);
                return 1;
        }
        if (strcmp(argv[1], "i386-getpid") == 0) {
                __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
                printf("i386 getpid returned %ld\n", ret);
                return 1;
        }
        return 2;
}
