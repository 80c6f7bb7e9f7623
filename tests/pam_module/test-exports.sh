#!/bin/sh
# pam_vigil.so's dynamic symbol table holds exactly the PAM entry points,
# and the module keeps no mutable state of its own (no writable .data/.bss
# objects besides the toolchain's), as a guest in sshd and sudo must.
set -u
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
so=${PAM_VIGIL_SO:?}
got=$(nm -D --defined-only "$so" | awk '{print $3}' | sort | tr '\n' ' ')
want="pam_sm_acct_mgmt pam_sm_authenticate pam_sm_close_session pam_sm_open_session pam_sm_setcred "
[ "$got" = "$want" ] || fail "exported: '$got', expected '$want'"

# What a guest in sshd and sudo must not call (it could not, without
# importing it): ending the process, printing to its stdout/stderr, changing
# signal dispositions, running programs. A sanitizer's runtime lives in the
# executable, not here, so this holds in both builds.
forbidden=' exit _exit _Exit quick_exit abort stdout stderr printf vprintf __printf_chk __vprintf_chk puts putchar
 perror warn warnx err errx error signal sigaction sigset bsd_signal sysv_signal sigprocmask system popen fork vfork
 execv execve execvp execvpe execl execlp execle posix_spawn posix_spawnp setlocale '
imports=$(nm -D --undefined-only "$so" | awk '{ sub(/@.*/, "", $2); print $2 }')
[ -n "$imports" ] || fail "nm found no imports in $so"
for sym in $imports; do
    case $forbidden in *" $sym "* | *" $sym
"*) fail "the module imports '$sym'" ;; esac
done

if [ -n "${PV_SANITIZED:-}" ]; then
    # ASan and UBSan put their own writable metadata into every object.
    echo "exports: ok; writable data is checked in the build without sanitizers"
    exit 0
fi
# Writable objects: .data and .bss (not .data.rel.ro, which is read-only
# after relocation). completed.0, __dso_handle and __TMC_END__ come from
# the C runtime's startup files; nothing of vigil's own may be here.
allowed=' completed.0 __dso_handle __TMC_END__ '
objdump -t "$so" | awk '$4 == ".data" || $4 == ".bss" { print $NF }' | sort -u >"${TMPDIR:-/tmp}/pv-objs.$$"
while read -r sym; do
    case $allowed in *" $sym "*) ;; *)
        rm -f "${TMPDIR:-/tmp}/pv-objs.$$"
        fail "writable object '$sym' in the module"
        ;;
    esac
done <"${TMPDIR:-/tmp}/pv-objs.$$"
rm -f "${TMPDIR:-/tmp}/pv-objs.$$"
echo "exports and writable data: ok"
