# Starts and stops a throw-away PostgreSQL in a temporary directory (sourced by
# scripts/cluster-demo.sh and bench/compare). As root the server runs as the `postgres`
# user (it refuses root); Debian keeps initdb and pg_ctl off PATH, in pg_config --bindir.
#   postgres_start [OWNER_PID]  sets POSTGRES_DIR, POSTGRES_PORT, POSTGRES_URL
#   postgres_stop               stops it and deletes the directory
# A watchdog (a session of its own, so a signal to the caller's process group does not reach
# it) stops the server and deletes its directory once OWNER_PID (default: the shell that
# called postgres_start) is gone however it ended: Ctrl-C, a kill of its process group, kill
# -9, an exception. Servers left running were found from callers that died without reaching
# postgres_stop (a Python caller killed by SIGTERM runs no `finally`).

postgres_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# postgres_halt DIR BIN: stops the server of DIR at once, if one runs, and deletes DIR.
postgres_halt() {
    [ ! -f "$1/data/postmaster.pid" ] || postgres_as_owner "$2/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$1"
}

postgres_start() {
    local bin owner="${1:-$$}"
    bin="$(pg_config --bindir)"
    POSTGRES_DIR="$(mktemp -d /tmp/sprout-pg-XXXXXX)"
    # Watching from before the server exists: a caller killed during initdb or pg_ctl start
    # leaves nothing either. It ends on its own once postgres_stop has deleted the directory.
    setsid bash -c "$(declare -f postgres_as_owner postgres_halt)"'
        trap "" INT HUP TERM
        while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 0.5; done
        [ ! -d "$2" ] || postgres_halt "$2" "$3"' sprout-pg-watchdog "$owner" "$POSTGRES_DIR" "$bin" </dev/null >/dev/null 2>&1 &
    # mktemp makes it 0700: the postgres user must be able to reach the data directory.
    chmod 711 "$POSTGRES_DIR"
    mkdir "$POSTGRES_DIR/data"
    [ "$(id -u)" -ne 0 ] || chown postgres "$POSTGRES_DIR/data"
    POSTGRES_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    postgres_as_owner "$bin/initdb" -D "$POSTGRES_DIR/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
    postgres_as_owner "$bin/pg_ctl" -D "$POSTGRES_DIR/data" -w -l "$POSTGRES_DIR/data/server.log" \
        -o "-p $POSTGRES_PORT -k $POSTGRES_DIR/data -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    POSTGRES_URL="postgresql://postgres@127.0.0.1:$POSTGRES_PORT/postgres"
}

postgres_stop() {
    [ -n "${POSTGRES_DIR:-}" ] || return 0
    postgres_as_owner "$(pg_config --bindir)/pg_ctl" -D "$POSTGRES_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$POSTGRES_DIR"
    POSTGRES_DIR=""
}
