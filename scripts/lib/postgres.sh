# Starts a throwaway PostgreSQL for the tests unless TD_TEST_POSTGRES_URL is already set:
# initdb into a temporary folder, a free loopback port, stopped and removed on exit.
# Sourced by scripts/test; uses its `cleanups` array.

postgres_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)" && return 0
  return 1
}

# Runs a PostgreSQL binary, as the postgres user when we are root (initdb refuses root).
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_throwaway_postgres() {
  if [ -n "${TD_TEST_POSTGRES_URL:-}" ]; then
    echo "PostgreSQL: using TD_TEST_POSTGRES_URL"
    return 0
  fi
  local bin
  if ! bin=$(postgres_bin); then
    echo "PostgreSQL: not installed; its tests will say they were skipped (they fail under CI)"
    return 0
  fi
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "PostgreSQL: running as root without a postgres user; its tests will be skipped"
    return 0
  fi
  local dir port
  dir=$(mktemp -d /tmp/td-postgres.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  port=$(free_port)
  as_postgres "$bin/initdb" -D "$dir/data" -A trust -U td --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log"; return 1; }
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
    "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$dir/server.log"; return 1; }
  cleanups+=("as_postgres '$bin/pg_ctl' -D '$dir/data' -m immediate stop >/dev/null 2>&1; rm -rf '$dir'")
  export TD_TEST_POSTGRES_URL="postgres://td@127.0.0.1:$port/postgres"
  echo "PostgreSQL: throwaway server on 127.0.0.1:$port"
}
