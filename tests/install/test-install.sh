#!/bin/sh
# The install test: build the .deb packages, make a fresh Debian 12 root
# with debootstrap (cached as a tarball of the finished root, so a second
# run in one CI run unpacks instead of bootstrapping), install the packages
# there with apt, and check what installing did: the files and modes the
# maintainer scripts create, `vigil doctor` on the fresh system, a
# supervised session (once `vigil run` is in the build), and that removal
# keeps the recordings and purge deletes them.
#
# Everything that mounts runs in a private mount namespace (unshare), so no
# mount outlives the test whatever happens; the tree is removed on every exit
# path, and only after checking that nothing is mounted below it.
#
# Environment: VIGIL_DEB_DIR (prebuilt .debs; default: build them now),
# VIGIL_INSTALL_CACHE (default $VIGIL_BUILD_ROOT/install-cache).
set -eu
. "$VIGIL_SOURCE_ROOT/tests/integration/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: the install test needs root (debootstrap, chroot)"; exit 77; }
for t in debootstrap unshare chroot dpkg-buildpackage; do
    command -v "$t" >/dev/null || fail "'$t' is missing (scripts/deps installs it)"
done

now() { date +%s; }
t_start=$(now)
cache=${VIGIL_INSTALL_CACHE:-$VIGIL_BUILD_ROOT/install-cache}
arch=$(dpkg --print-architecture)
mkdir -p "$cache"

tmp=$(mktemp -d /var/tmp/vigil-install.XXXXXX)
root=$tmp/root
cleanup() {
    # Mounts live in the unshare'd namespace only; should one be visible
    # here anyway, leave the tree rather than delete through it.
    if grep -q " $tmp/" /proc/self/mountinfo; then
        echo "install test: mounts left under $tmp; not removing it" >&2
        return
    fi
    rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT INT TERM

# ---- the packages --------------------------------------------------------------------
debs=${VIGIL_DEB_DIR:-}
if [ -z "$debs" ]; then
    debs=$tmp/debs
    t0=$(now)
    "$VIGIL_SOURCE_ROOT/packaging/build-deb" "$debs" >"$tmp/build-deb.log" 2>&1 ||
        { tail -40 "$tmp/build-deb.log"; fail "packaging/build-deb failed"; }
    echo "install test: deb build took $(($(now) - t0))s"
fi
ls "$debs"/vigil_*_"$arch".deb >/dev/null 2>&1 || fail "no vigil .deb in $debs"

# ---- a fresh Debian 12 root --------------------------------------------------------------
# The mirror this machine's apt uses (deb822 .sources or one-line lists).
mirror=$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
rootball=$cache/bookworm-$arch-root.tar
mkdir -p "$root"
t0=$(now)
if [ -s "$rootball" ]; then
    tar -C "$root" -xpf "$rootball"
    echo "install test: Debian 12 root unpacked from the cache in $(($(now) - t0))s"
else
    # openssh-server: so that vigil doctor has a real sshd to examine.
    debootstrap --variant=minbase --include=openssh-server bookworm "$root" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
        { tail -30 "$tmp/debootstrap.log"; fail "debootstrap from $mirror failed"; }
    rm -f "$root"/etc/ssh/ssh_host_*
    tar -C "$root" -cpf "$rootball.new" . && mv "$rootball.new" "$rootball"
    echo "install test: debootstrap (bookworm, $mirror) took $(($(now) - t0))s; cached as $rootball"
fi

mkdir -p "$root/tmp/debs"
cp "$debs"/*.deb "$root/tmp/debs/"
rm -f "$root"/tmp/debs/*-dbgsym_*.deb
cp /etc/resolv.conf "$root/etc/resolv.conf"
# No service may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
have_run=0
"$VIGIL" help 2>/dev/null | grep -q '^  run ' && have_run=1

# ---- inside the root -----------------------------------------------------------------------
cat >"$root/tmp/inside.sh" <<'EOS'
#!/bin/sh
# Runs in the chroot as root.
set -eu
fail() { echo "FAIL (inside): $*" >&2; exit 1; }
mode() { stat -c '%a %U:%G' "$1"; }
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin

apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends /tmp/debs/*.deb >/tmp/apt.log 2>&1 ||
    { tail -30 /tmp/apt.log; fail "apt-get install of the packages failed"; }

[ "$(mode /etc/vigil)" = "755 root:root" ] || fail "/etc/vigil: $(mode /etc/vigil)"
[ "$(mode /etc/vigil/vigil.conf)" = "600 root:root" ] || fail "vigil.conf: $(mode /etc/vigil/vigil.conf)"
[ "$(mode /etc/vigil/policy.conf)" = "644 root:root" ] || fail "policy.conf: $(mode /etc/vigil/policy.conf)"
[ "$(mode /etc/vigil/host.key)" = "600 root:root" ] || fail "host.key: $(mode /etc/vigil/host.key)"
[ "$(mode /var/lib/vigil)" = "700 root:root" ] || fail "/var/lib/vigil: $(mode /var/lib/vigil)"
openssl pkey -in /etc/vigil/host.key -noout -text | grep -q 'ED25519 Private-Key' || fail "host.key is not Ed25519"
vigil policy check /etc/vigil/policy.conf || fail "the installed policy does not check"
man -w vigil >/dev/null 2>&1 || [ -f /usr/share/man/man1/vigil.1.gz ] || fail "vigil(1) is not installed"
if [ -x /usr/sbin/vigil-shell ]; then
    grep -qx /usr/sbin/vigil-shell /etc/shells || fail "vigil-shell is not in /etc/shells"
fi
if [ -e /usr/share/pam-configs/vigil ]; then
    ! grep -q pam_vigil /etc/pam.d/common-auth || fail "the pam-auth-update profile was enabled by default"
fi

# vigil doctor on the fresh system: findings (nothing is configured yet),
# valid JSON, and none about what the maintainer scripts set up.
# What the ssh service would have made had it started: host keys, /run/sshd.
ssh-keygen -A >/dev/null 2>&1 || true
mkdir -p -m 0755 /run/sshd
set +e
vigil doctor --json --skip clock >/tmp/doctor.json 2>/tmp/doctor.err
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat /tmp/doctor.json /tmp/doctor.err; fail "vigil doctor exited $rc on a fresh install"; }
grep -q '"check":"dropin"' /tmp/doctor.json || fail "vigil doctor did not suggest enabling the sshd drop-in"
grep -q '"check":"sshd"' /tmp/doctor.json || fail "vigil doctor did not examine Debian's default sshd_config"
if grep -q 'sshd cannot read its configuration' /tmp/doctor.json; then
    fail "sshd -T failed in the installed system"
fi
if grep -E '"check":"(files|policy)"' /tmp/doctor.json; then
    fail "vigil doctor finds fault with what the package installed"
fi
echo "inside: vigil doctor reported $(wc -l </tmp/doctor.json) findings on the fresh install"

if [ "$1" = 1 ]; then
    printf 'default allow\n' >/tmp/allow.policy
    out=$(vigil run --user root --no-pty --policy /tmp/allow.policy -- /bin/echo supervised-hello) ||
        fail "vigil run failed inside the installed system"
    [ "$out" = supervised-hello ] || fail "vigil run printed '$out'"
    echo "inside: a supervised session ran"

    # An upgrade while a session runs: the running supervisor keeps its
    # (replaced) binary and goes on; a session started after it runs the
    # new version. The new version is these packages with a higher version.
    mkdir /tmp/v2
    for d in /tmp/debs/*.deb; do
        dpkg-deb -R "$d" /tmp/v2/x
        v=$(sed -n 's/^Version: //p' /tmp/v2/x/DEBIAN/control)
        sed -i "s/$v/$v+up1/g" /tmp/v2/x/DEBIAN/control
        dpkg-deb -b /tmp/v2/x /tmp/v2/ >/dev/null
        rm -rf /tmp/v2/x
    done
    mkfifo /tmp/upgrade.go
    vigil run --user root --no-pty --policy /tmp/allow.policy -- \
        /bin/sh -c ': >/tmp/upgrade.started; read x </tmp/upgrade.go; echo "after-upgrade $x"' \
        >/tmp/upgrade.out 2>&1 &
    running=$!
    i=0
    while [ ! -e /tmp/upgrade.started ]; do
        i=$((i + 1))
        [ $i -lt 600 ] || fail "the session before the upgrade did not start: $(cat /tmp/upgrade.out)"
        sleep 0.1
    done
    apt-get install -y -qq --no-install-recommends /tmp/v2/*.deb >/tmp/apt2.log 2>&1 ||
        { tail -30 /tmp/apt2.log; fail "the upgrade failed"; }
    dpkg-query -W -f='${Version}\n' vigil | grep -q '+up1$' || fail "the upgrade did not install the new version"
    out=$(vigil run --user root --no-pty --policy /tmp/allow.policy -- /bin/echo new-session) ||
        fail "a session after the upgrade failed"
    [ "$out" = new-session ] || fail "the session after the upgrade printed '$out'"
    echo ok >/tmp/upgrade.go
    wait "$running" || fail "the session that ran across the upgrade failed: $(cat /tmp/upgrade.out)"
    [ "$(cat /tmp/upgrade.out)" = "after-upgrade ok" ] || fail "across the upgrade: '$(cat /tmp/upgrade.out)'"
    vigil verify >/dev/null || fail "vigil verify after the upgrade"
    echo "inside: a session ran on across an upgrade; a new one ran the new version"
fi

# Removal keeps recordings, configuration and key; purge deletes them.
: >/var/lib/vigil/recording-marker
apt-get remove -y -qq vigil $(dpkg-query -W -f='${Package}\n' libpam-vigil 2>/dev/null || true) >/dev/null 2>&1 ||
    fail "apt-get remove failed"
[ -e /var/lib/vigil/recording-marker ] || fail "remove deleted the recordings"
[ -e /etc/vigil/host.key ] || fail "remove deleted the signing key"
! grep -qx /usr/sbin/vigil-shell /etc/shells || fail "remove left vigil-shell in /etc/shells"
dpkg --purge vigil >/dev/null
[ ! -e /var/lib/vigil ] || fail "purge kept /var/lib/vigil"
[ ! -e /etc/vigil ] || fail "purge kept /etc/vigil"
echo "inside: remove kept the recordings, purge deleted them"
EOS
chmod 0755 "$root/tmp/inside.sh"

t0=$(now)
# A private mount namespace: /proc, /dev, /sys and /run exist for the chroot only, and
# vanish with the namespace on any exit.
unshare --mount --propagation private sh -eu -c '
    root=$1
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    # /sys with the cgroup hierarchy: the supervisor bounds and ends sessions there.
    mount --rbind /sys "$root/sys"
    mount -t tmpfs tmpfs "$root/run"
    chroot "$root" /tmp/inside.sh "$2"
' sh "$root" "$have_run" || fail "the installed packages did not pass (see above)"
echo "install test: install and checks took $(($(now) - t0))s"
# The doctor's --json output, validated here (the root has no python3).
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert sorted(o) == ["check", "fix", "message"], line
    print("install test: doctor:", o["check"] + ":", o["message"][:110])
' "$root/tmp/doctor.json" || fail "vigil doctor --json in the installed system is not JSON lines"
[ "$have_run" = 1 ] || echo "install test: 'vigil run' is not in this build yet: no supervised session run"
echo "install test: total $(($(now) - t_start))s"
