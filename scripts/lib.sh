# shellcheck shell=bash
# Shared helpers for scripts/*: sourced, never executed. Safe under `set -euo pipefail`.
#
# Knobs (all optional):
#   SENTINEL_DATA_DIR    where private servers and generated files live (default: <repo>/.data)
#   SENTINEL_PG_PORT     port of the local Postgres to use or start (default: 5432)
#   SENTINEL_REDIS_PORT  port of the local Redis to use or start (default: 6379)
# SENTINEL_DATABASE_URL / SENTINEL_REDIS_URL, when set, mean "use that server, start nothing".

SENTINEL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SENTINEL_VENV="$SENTINEL_ROOT/.venv"
SENTINEL_UV_VERSION="0.13.9"
SENTINEL_DATA_DIR="${SENTINEL_DATA_DIR:-$SENTINEL_ROOT/.data}"
# Private servers outlive the current directory (and run as another user): paths must be absolute.
[[ "$SENTINEL_DATA_DIR" == /* ]] || SENTINEL_DATA_DIR="$PWD/$SENTINEL_DATA_DIR"
SENTINEL_PG_PORT="${SENTINEL_PG_PORT:-5432}"
SENTINEL_REDIS_PORT="${SENTINEL_REDIS_PORT:-6379}"
export SENTINEL_DATA_DIR SENTINEL_PG_PORT SENTINEL_REDIS_PORT
# Compiled bytecode under .data/, also where the environment says not to write any: every
# `sentinel` process the tests and benchmarks start otherwise re-compiles the model SDKs
# (seconds of CPU each).
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX="${PYTHONPYCACHEPREFIX:-$SENTINEL_DATA_DIR/pycache}"

# Set to 1 only in the process that started (or adopted) a private server, so a second script
# running alongside never stops a server it merely connected to.
_SENTINEL_PG_OURS=0
_SENTINEL_REDIS_OURS=0
_SENTINEL_APT_UPDATED=0
SENTINEL_BG_PIDS=()

log() {
    printf '==> %s\n' "$*" >&2
}

die() {
    printf '==> error: %s\n' "$*" >&2
    exit 1
}

# --- generic helpers -------------------------------------------------------------------------

_as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run '$*' (run as root, or install sudo)"
    fi
}

# Installs Debian packages. Returns non-zero on failure so callers can clean up first.
_apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        printf '==> error: apt-get not found; install these packages yourself: %s\n' "$*" >&2
        return 1
    fi
    log "installing Debian packages: $*"
    if [[ $_SENTINEL_APT_UPDATED -eq 0 ]]; then
        _as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1
        _SENTINEL_APT_UPDATED=1
    fi
    _as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "$@" || return 1
}

# True when something accepts TCP connections on host:port.
_tcp_open() {
    # shellcheck disable=SC2016  # expanded by the inner shell, from its arguments
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1
}

_pid_alive() {
    [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null
}

# Reads key=value from a marker file written by this library.
_marker_get() {
    local file="$1" key="$2"
    [[ -f "$file" ]] || return 0
    sed -n "s/^${key}=//p" "$file" | head -n 1
}

# --- uv and the virtual environment --------------------------------------------------------

_find_uv() {
    local candidate user_base
    if command -v uv >/dev/null 2>&1; then
        command -v uv
        return 0
    fi
    user_base="$(python3 -c 'import site; print(site.USER_BASE)' 2>/dev/null || true)"
    for candidate in "${user_base:+$user_base/bin/uv}" "$HOME/.local/bin/uv" \
        "$SENTINEL_DATA_DIR/tools-venv/bin/uv"; do
        if [[ -n "$candidate" && -x "$candidate" ]]; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}

_install_uv() {
    command -v python3 >/dev/null 2>&1 || die "python3 not found: install Python 3.11+ first"
    log "uv not found; installing uv==$SENTINEL_UV_VERSION"
    if python3 -m pip install --user --quiet "uv==$SENTINEL_UV_VERSION" 2>/dev/null; then
        return 0
    fi
    # PEP 668 ("externally managed environment") systems refuse --user installs by default.
    if python3 -m pip install --user --quiet --break-system-packages \
        "uv==$SENTINEL_UV_VERSION" 2>/dev/null; then
        return 0
    fi
    # No usable pip (Debian's python3 ships without it): a private venv just for uv.
    local tools="$SENTINEL_DATA_DIR/tools-venv"
    mkdir -p "$SENTINEL_DATA_DIR"
    if ! python3 -m venv "$tools" >/dev/null 2>&1; then
        rm -rf "$tools"
        log "python3 -m venv is unavailable; installing Debian's python3-venv"
        _apt_install python3-venv || die "could not install python3-venv"
        python3 -m venv "$tools" || die "python3 -m venv failed"
    fi
    "$tools/bin/python" -m pip install --quiet "uv==$SENTINEL_UV_VERSION" ||
        die "could not install uv into $tools"
}

ensure_venv() {
    local uv
    if ! uv="$(_find_uv)"; then
        _install_uv
        uv="$(_find_uv)" || die "uv was installed but cannot be found; add it to PATH"
    fi
    log "syncing .venv with uv.lock ($("$uv" --version 2>/dev/null || echo uv))"
    # The contract puts the environment at .venv whatever the caller's uv settings say.
    (cd "$SENTINEL_ROOT" && UV_PROJECT_ENVIRONMENT="$SENTINEL_VENV" "$uv" sync --frozen) ||
        die "uv sync --frozen failed"
    [[ -x "$SENTINEL_VENV/bin/sentinel" ]] ||
        die "uv sync finished but $SENTINEL_VENV/bin/sentinel is missing"
}

# --- the web console -------------------------------------------------------------------------

# The console's front-end packages (console/package-lock.json pins them): `npm ci` from the npm
# registry, again only when the lock file changed.
ensure_console_assets() {
    local folder="$SENTINEL_ROOT/console" stamp="$SENTINEL_ROOT/console/node_modules/.sentinel-lock"
    if ! command -v npm >/dev/null 2>&1; then
        _apt_install nodejs npm || die "npm is needed for the console's packages"
    fi
    if [[ -f "$stamp" ]] && cmp -s "$stamp" "$folder/package-lock.json"; then
        return 0
    fi
    log "installing the console's npm packages (npm ci)"
    (cd "$folder" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in console/"
    cp "$folder/package-lock.json" "$stamp"
}

# Debian's Chromium, for the console's browser tests (Playwright drives it; no browser download).
ensure_chromium() {
    if command -v chromium >/dev/null 2>&1; then
        return 0
    fi
    _apt_install chromium || die "could not install Debian's chromium (needed by the console tests)"
}

# --- Postgres --------------------------------------------------------------------------------

# Directory holding initdb and pg_ctl, preferring the newest Debian-packaged version.
_pg_bindir() {
    local dir
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
        sort -V | tail -n 1)"
    if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
        printf '%s\n' "$dir"
        return 0
    fi
    return 1
}

# initdb and postgres refuse to run as root, so as root they run as this OS user.
_pg_os_user() {
    if [[ $EUID -ne 0 ]]; then
        id -un
    elif getent passwd postgres >/dev/null 2>&1; then
        echo postgres
    else
        echo sentinel-pg
    fi
}

_pg_as_user() {
    local user="$1"
    shift
    if [[ $EUID -eq 0 ]]; then
        runuser -u "$user" -- "$@"
    else
        "$@"
    fi
}

# Where the private cluster lives. Normally $SENTINEL_DATA_DIR, but when we run as root and the
# postgres user cannot reach that directory (a checkout under /root, say), a per-checkout
# directory under /var/tmp instead.
_pg_home() {
    local user="$1"
    if [[ $EUID -ne 0 ]] || runuser -u "$user" -- test -x "$SENTINEL_DATA_DIR" 2>/dev/null; then
        printf '%s\n' "$SENTINEL_DATA_DIR"
    else
        printf '/var/tmp/sentinel-pg-%s\n' \
            "$(printf '%s' "$SENTINEL_DATA_DIR" | md5sum | cut -c1-12)"
    fi
}

_pg_server_url() {
    printf 'postgresql://postgres@127.0.0.1:%s/postgres\n' "$SENTINEL_PG_PORT"
}

# Fails with a clear message when the server at $1 does not let us in without a password.
_pg_check_login() {
    local url="$1" err
    [[ -x "$SENTINEL_VENV/bin/python" ]] || return 0
    if ! err="$("$SENTINEL_VENV/bin/python" - "$url" 2>&1 <<'PY'
import sys

import psycopg

try:
    psycopg.connect(sys.argv[1], connect_timeout=5).close()
except psycopg.Error as exc:
    print(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    sys.exit(1)
PY
    )"; then
        die "cannot log in to the Postgres on 127.0.0.1:$SENTINEL_PG_PORT as 'postgres' without a password ($err). Set SENTINEL_DATABASE_URL to a database you can use, or free the port (SENTINEL_PG_PORT picks another)."
    fi
}

_pg_install() {
    # Debian's package creates and starts a "main" cluster on 5432 that only trusts peer logins;
    # we want our own trust-auth cluster instead, so suppress the main cluster for this install.
    local dropin=/etc/postgresql-common/createcluster.d/99-sentinel-no-main-cluster.conf rc=0
    _as_root mkdir -p "$(dirname "$dropin")"
    echo 'create_main_cluster = false' | _as_root tee "$dropin" >/dev/null
    _apt_install postgresql || rc=$?
    _as_root rm -f "$dropin"
    [[ $rc -eq 0 ]] || die "could not install PostgreSQL (apt-get install postgresql failed)"
}

_pg_start_private() {
    local bindir user home pgdata sockdir logfile marker
    marker="$SENTINEL_DATA_DIR/postgres.started-by-us"
    if ! bindir="$(_pg_bindir)"; then
        log "no local Postgres on 127.0.0.1:$SENTINEL_PG_PORT and no initdb; installing PostgreSQL"
        _pg_install
        # Should the package have started a cluster on our port after all, use it.
        if _tcp_open 127.0.0.1 "$SENTINEL_PG_PORT"; then
            log "the installed PostgreSQL answers on 127.0.0.1:$SENTINEL_PG_PORT; using it"
            _pg_check_login "$(_pg_server_url)"
            export SENTINEL_PG_SERVER_URL
            SENTINEL_PG_SERVER_URL="$(_pg_server_url)"
            return 0
        fi
        bindir="$(_pg_bindir)" || die "PostgreSQL installed but initdb/pg_ctl not found"
    fi

    user="$(_pg_os_user)"
    if [[ $EUID -eq 0 ]] && ! getent passwd "$user" >/dev/null 2>&1; then
        log "creating system user $user to run the private Postgres"
        useradd --system --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$user" || die "could not create user $user"
    fi
    mkdir -p "$SENTINEL_DATA_DIR"
    home="$(_pg_home "$user")"
    pgdata="$home/postgres"
    sockdir="$home/postgres-run"
    logfile="$home/postgres.log"
    # Unix socket paths are limited to ~107 bytes; we only ever connect over TCP anyway.
    if [[ $(( ${#sockdir} + 20 )) -gt 100 ]]; then
        sockdir=""
    fi

    mkdir -p "$home" "$pgdata" ${sockdir:+"$sockdir"}
    touch "$logfile"
    if [[ $EUID -eq 0 ]]; then
        chown "$user" "$pgdata" "$logfile" ${sockdir:+"$sockdir"}
        [[ "$home" == "$SENTINEL_DATA_DIR" ]] || chmod 755 "$home"
    fi
    chmod 700 "$pgdata"

    if [[ ! -f "$pgdata/PG_VERSION" ]]; then
        log "initialising a private Postgres cluster in $pgdata"
        (cd "$home" && _pg_as_user "$user" "$bindir/initdb" -D "$pgdata" -A trust -U postgres \
            -E UTF8 --locale=C.UTF-8 >>"$logfile" 2>&1) ||
            (cd "$home" && _pg_as_user "$user" "$bindir/initdb" -D "$pgdata" -A trust \
                -U postgres -E UTF8 --locale=C >>"$logfile" 2>&1) ||
            die "initdb failed; see $logfile"
    fi

    log "starting a private Postgres on 127.0.0.1:$SENTINEL_PG_PORT (data: $pgdata)"
    local opts="-c listen_addresses=127.0.0.1 -p $SENTINEL_PG_PORT"
    opts+=" -c unix_socket_directories='${sockdir}'"
    if ! (cd "$home" && _pg_as_user "$user" "$bindir/pg_ctl" -D "$pgdata" -l "$logfile" \
        -o "$opts" -w -t 30 start >/dev/null); then
        tail -n 20 "$logfile" >&2 || true
        die "the private Postgres did not start within 30 s; see $logfile"
    fi
    printf 'pid=%s\npgdata=%s\nuser=%s\nbindir=%s\n' "$$" "$pgdata" "$user" "$bindir" >"$marker"
    _SENTINEL_PG_OURS=1

    local deadline=$((SECONDS + 30))
    until _tcp_open 127.0.0.1 "$SENTINEL_PG_PORT"; do
        ((SECONDS < deadline)) ||
            die "the private Postgres is not accepting connections on 127.0.0.1:$SENTINEL_PG_PORT after 30 s; see $logfile"
        sleep 0.5
    done
    export SENTINEL_PG_SERVER_URL
    SENTINEL_PG_SERVER_URL="$(_pg_server_url)"
    _pg_check_login "$SENTINEL_PG_SERVER_URL"
}

# A private server from an earlier run that died without cleaning up is ours to reuse and stop.
_pg_adopt_orphan() {
    local marker="$SENTINEL_DATA_DIR/postgres.started-by-us" owner pgdata user bindir
    [[ -f "$marker" ]] || return 1
    owner="$(_marker_get "$marker" pid)"
    pgdata="$(_marker_get "$marker" pgdata)"
    user="$(_marker_get "$marker" user)"
    bindir="$(_marker_get "$marker" bindir)"
    _pid_alive "$owner" && return 1
    [[ -n "$pgdata" && -x "$bindir/pg_ctl" ]] || return 1
    _pg_as_user "$user" "$bindir/pg_ctl" -D "$pgdata" status >/dev/null 2>&1 || return 1
    # Line 4 of postmaster.pid is the port the server listens on.
    [[ "$(sed -n 4p "$pgdata/postmaster.pid" 2>/dev/null)" == "$SENTINEL_PG_PORT" ]] || return 1
    printf 'pid=%s\npgdata=%s\nuser=%s\nbindir=%s\n' "$$" "$pgdata" "$user" "$bindir" >"$marker"
    _SENTINEL_PG_OURS=1
    log "reusing the private Postgres left running by an earlier run (data: $pgdata)"
}

ensure_postgres() {
    if [[ -n "${SENTINEL_DATABASE_URL:-}" ]]; then
        log "using SENTINEL_DATABASE_URL; not starting Postgres"
        return 0
    fi
    export SENTINEL_PG_SERVER_URL
    if _tcp_open 127.0.0.1 "$SENTINEL_PG_PORT"; then
        _pg_adopt_orphan || log "using the Postgres already running on 127.0.0.1:$SENTINEL_PG_PORT"
        SENTINEL_PG_SERVER_URL="$(_pg_server_url)"
        _pg_check_login "$SENTINEL_PG_SERVER_URL"
        return 0
    fi
    rm -f "$SENTINEL_DATA_DIR/postgres.started-by-us"
    _pg_start_private
}

# The admin URL of the Postgres server in use, for tests and benchmarks that create (and drop)
# their own databases: SENTINEL_TEST_PG_SERVER_URL if set, else the server of
# SENTINEL_DATABASE_URL with its `postgres` maintenance database, else the local server.
pg_admin_url() {
    if [[ -n "${SENTINEL_TEST_PG_SERVER_URL:-}" ]]; then
        printf '%s\n' "$SENTINEL_TEST_PG_SERVER_URL"
    elif [[ -n "${SENTINEL_DATABASE_URL:-}" ]]; then
        "$SENTINEL_VENV/bin/python" -c '
import sys
from urllib.parse import urlsplit, urlunsplit

print(urlunsplit(urlsplit(sys.argv[1])._replace(path="/postgres")))
' "$SENTINEL_DATABASE_URL"
    else
        printf '%s\n' "${SENTINEL_PG_SERVER_URL:-$(_pg_server_url)}"
    fi
}

_pg_stop_private() {
    local marker="$SENTINEL_DATA_DIR/postgres.started-by-us" pgdata user bindir
    [[ $_SENTINEL_PG_OURS -eq 1 && -f "$marker" ]] || return 0
    pgdata="$(_marker_get "$marker" pgdata)"
    user="$(_marker_get "$marker" user)"
    bindir="$(_marker_get "$marker" bindir)"
    log "stopping the private Postgres on 127.0.0.1:$SENTINEL_PG_PORT"
    (cd / && _pg_as_user "$user" "$bindir/pg_ctl" -D "$pgdata" -m fast -w -t 30 stop \
        >/dev/null 2>&1) || log "warning: pg_ctl stop failed for $pgdata"
    rm -f "$marker"
    _SENTINEL_PG_OURS=0
}

# --- Redis -----------------------------------------------------------------------------------

_redis_ping() {
    # shellcheck disable=SC2016  # expanded by the inner shell, from its arguments
    timeout 2 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "PING\r\n" >&3
        IFS= read -r reply <&3 || exit 1
        [[ "$reply" == "+PONG"* ]]
    ' _ "$1" >/dev/null 2>&1
}

ensure_redis_binary() {
    command -v redis-server >/dev/null 2>&1 && return 0
    log "redis-server not found; installing Debian's redis-server"
    _apt_install redis-server || die "could not install redis-server"
    command -v redis-server >/dev/null 2>&1 || die "redis-server installed but not on PATH"
}

_redis_paths() {
    _REDIS_DIR="$SENTINEL_DATA_DIR/redis"
    _REDIS_PIDFILE="$SENTINEL_DATA_DIR/redis.pid"
    _REDIS_LOGFILE="$SENTINEL_DATA_DIR/redis.log"
    _REDIS_MARKER="$SENTINEL_DATA_DIR/redis.started-by-us"
}

_redis_adopt_orphan() {
    _redis_paths
    [[ -f "$_REDIS_MARKER" ]] || return 1
    local owner pid port
    owner="$(_marker_get "$_REDIS_MARKER" pid)"
    pid="$(_marker_get "$_REDIS_MARKER" server_pid)"
    port="$(_marker_get "$_REDIS_MARKER" port)"
    _pid_alive "$owner" && return 1
    [[ "$port" == "$SENTINEL_REDIS_PORT" ]] && _pid_alive "$pid" || return 1
    printf 'pid=%s\nserver_pid=%s\nport=%s\n' "$$" "$pid" "$port" >"$_REDIS_MARKER"
    _SENTINEL_REDIS_OURS=1
    log "reusing the private Redis left running by an earlier run (pid $pid)"
}

ensure_redis() {
    if [[ -n "${SENTINEL_REDIS_URL:-}" ]]; then
        log "using SENTINEL_REDIS_URL; not starting Redis"
        return 0
    fi
    _redis_paths
    if _tcp_open 127.0.0.1 "$SENTINEL_REDIS_PORT"; then
        _redis_adopt_orphan || log "using the Redis already running on 127.0.0.1:$SENTINEL_REDIS_PORT"
        export SENTINEL_REDIS_URL="redis://127.0.0.1:$SENTINEL_REDIS_PORT/0"
        return 0
    fi
    rm -f "$_REDIS_MARKER"
    ensure_redis_binary
    # Debian's package may have started its own service on our port: use it if so.
    if _tcp_open 127.0.0.1 "$SENTINEL_REDIS_PORT"; then
        log "the installed Redis answers on 127.0.0.1:$SENTINEL_REDIS_PORT; using it"
        export SENTINEL_REDIS_URL="redis://127.0.0.1:$SENTINEL_REDIS_PORT/0"
        return 0
    fi

    log "starting a private Redis on 127.0.0.1:$SENTINEL_REDIS_PORT (data: $_REDIS_DIR)"
    mkdir -p "$_REDIS_DIR"
    rm -f "$_REDIS_PIDFILE"
    # Nothing persisted: the queue is a hint Postgres can rebuild, so no dump or AOF files.
    redis-server --daemonize yes --bind 127.0.0.1 --port "$SENTINEL_REDIS_PORT" \
        --save "" --appendonly no --dir "$_REDIS_DIR" \
        --pidfile "$_REDIS_PIDFILE" --logfile "$_REDIS_LOGFILE" ||
        die "redis-server failed to start; see $_REDIS_LOGFILE"

    local deadline=$((SECONDS + 30))
    until [[ -s "$_REDIS_PIDFILE" ]] && _redis_ping "$SENTINEL_REDIS_PORT"; do
        if ((SECONDS >= deadline)); then
            tail -n 20 "$_REDIS_LOGFILE" >&2 || true
            die "the private Redis did not answer on 127.0.0.1:$SENTINEL_REDIS_PORT within 30 s; see $_REDIS_LOGFILE"
        fi
        sleep 0.2
    done
    printf 'pid=%s\nserver_pid=%s\nport=%s\n' "$$" "$(cat "$_REDIS_PIDFILE")" \
        "$SENTINEL_REDIS_PORT" >"$_REDIS_MARKER"
    _SENTINEL_REDIS_OURS=1
    export SENTINEL_REDIS_URL="redis://127.0.0.1:$SENTINEL_REDIS_PORT/0"
}

_redis_stop_private() {
    _redis_paths
    [[ $_SENTINEL_REDIS_OURS -eq 1 && -f "$_REDIS_MARKER" ]] || return 0
    local pid deadline
    pid="$(_marker_get "$_REDIS_MARKER" server_pid)"
    if _pid_alive "$pid"; then
        log "stopping the private Redis on 127.0.0.1:$SENTINEL_REDIS_PORT"
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 10))
        while _pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
        if _pid_alive "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$_REDIS_MARKER"
    _SENTINEL_REDIS_OURS=0
}

# --- processes started by a script ---------------------------------------------------------

# Runs a command in the background and remembers it for stop_background_processes.
start_background() {
    "$@" &
    SENTINEL_BG_PIDS+=("$!")
}

stop_background_processes() {
    local pid deadline
    for pid in "${SENTINEL_BG_PIDS[@]}"; do
        if _pid_alive "$pid"; then
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    deadline=$((SECONDS + 15))
    for pid in "${SENTINEL_BG_PIDS[@]}"; do
        while _pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
        if _pid_alive "$pid"; then
            log "process $pid ignored SIGTERM; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    SENTINEL_BG_PIDS=()
}

# Stops only the Postgres and Redis that this process started (or adopted), never others.
stop_private_services() {
    _redis_stop_private
    _pg_stop_private
}

# For `trap sentinel_cleanup EXIT`: stops everything this script started, keeps the exit code.
sentinel_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_background_processes
    stop_private_services
    exit "$rc"
}

# Installs the traps every entry script wants: Ctrl-C/TERM exit, and exit cleans up.
install_cleanup_traps() {
    trap sentinel_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# --- lint --------------------------------------------------------------------------------------

# Runs every lint step even when an earlier one fails, so one run shows all problems.
run_lint() {
    local failed=()
    log "ruff check"
    (cd "$SENTINEL_ROOT" && "$SENTINEL_VENV/bin/ruff" check .) || failed+=("ruff check")
    log "ruff format --check"
    (cd "$SENTINEL_ROOT" && "$SENTINEL_VENV/bin/ruff" format --check .) || failed+=("ruff format")
    log "mypy app reviewers"
    (cd "$SENTINEL_ROOT" && "$SENTINEL_VENV/bin/mypy" app reviewers) || failed+=("mypy")
    if [[ ${#failed[@]} -gt 0 ]]; then
        log "lint failed: $(IFS=,; echo "${failed[*]}")"
        return 1
    fi
    log "lint passed"
}
