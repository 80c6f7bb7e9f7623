# Shell helpers (POSIX sh) for tests that need the test identity provider.
#
#   IDP_HOME=$VIGIL_SOURCE_ROOT/tests/idp     # optional; this is the default
#   . "$VIGIL_SOURCE_ROOT/tests/idp/lib.sh"
#   trap 'idp_stop; rm -rf "$tmp"' EXIT
#   idp_setup || exit 1                        # never skip: fail clearly
#   idp_start "$tmp/idp" --accounts "$tmp/accounts.json" [provider.js options]
#       -> IDP_URL (the issuer), IDP_CA (CA file to trust), IDP_PID, IDP_LOG
#   "$IDP_HOME/approve" --url "$IDP_URL" --ca "$IDP_CA" --code CODE --login NAME approve
#   idp_stop [PID]                             # one provider, or all started here
#
# idp_start makes the test CA in DIR/ca (tests/idp/mkca) unless it is there
# already, so two providers started on one DIR share a CA. It returns
# non-zero with one line on stderr (and the provider's log) if the provider
# does not come up within 30 s.

# shellcheck disable=SC2034 # IDP_URL, IDP_CA, IDP_LOG are for the caller
IDP_HOME=${IDP_HOME:-${VIGIL_SOURCE_ROOT:-.}/tests/idp}
IDP_PIDS=${IDP_PIDS:-}

# _idp_alive PID: running, and not a zombie waiting to be reaped.
_idp_alive() {
    [ -r "/proc/$1/stat" ] || return 1
    read -r _idp_x _idp_x _idp_st _idp_x <"/proc/$1/stat" 2>/dev/null || return 1
    [ "$_idp_st" != Z ]
}

idp_setup() {
    "$IDP_HOME/setup"
}

idp_start() {
    _idp_dir=$1
    shift
    mkdir -p "$_idp_dir" || return 1
    if [ ! -f "$_idp_dir/ca/server.pem" ]; then
        "$IDP_HOME/mkca" "$_idp_dir/ca" || return 1
    fi
    _idp_n=0
    while [ -e "$_idp_dir/provider$_idp_n.out" ]; do _idp_n=$((_idp_n + 1)); done
    _idp_out=$_idp_dir/provider$_idp_n.out
    IDP_LOG=$_idp_dir/provider$_idp_n.log
    : >"$_idp_out"
    node "$IDP_HOME/provider.js" --certs "$_idp_dir/ca" "$@" >"$_idp_out" 2>"$IDP_LOG" &
    IDP_PID=$!
    IDP_PIDS="$IDP_PIDS $IDP_PID"
    IDP_CA=$_idp_dir/ca/ca.pem
    IDP_URL=
    _idp_i=0
    while [ "$_idp_i" -lt 600 ]; do
        IDP_URL=$(sed -n 's/^ready //p' "$_idp_out")
        [ -n "$IDP_URL" ] && return 0
        if ! _idp_alive "$IDP_PID"; then
            echo "idp_start: the provider exited before it was ready: $(grep -v WARNING "$IDP_LOG" | head -n 1)" >&2
            return 1
        fi
        sleep 0.1
        _idp_i=$((_idp_i + 1))
    done
    echo "idp_start: the provider was not ready within 60 s; its log:" >&2
    cat "$IDP_LOG" >&2
    return 1
}

# idp_stop [PID]: SIGTERM, wait up to 30 s, then SIGKILL. Returns the
# provider's exit status (0 after a clean SIGTERM) for a single PID.
idp_stop() {
    _idp_rc=0
    for _idp_p in ${1:-$IDP_PIDS}; do
        kill -TERM "$_idp_p" 2>/dev/null || continue
        _idp_i=0
        while _idp_alive "$_idp_p" && [ "$_idp_i" -lt 300 ]; do
            sleep 0.1
            _idp_i=$((_idp_i + 1))
        done
        kill -KILL "$_idp_p" 2>/dev/null || :
        _idp_rc=0
        wait "$_idp_p" 2>/dev/null || _idp_rc=$?
    done
    if [ -z "${1:-}" ]; then
        IDP_PIDS=
    fi
    return "$_idp_rc"
}
