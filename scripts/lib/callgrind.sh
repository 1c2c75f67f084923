# An example server under valgrind's callgrind, and the instructions it runs for a piece of
# work: what scripts/count-http-instructions and scripts/count-dpop-instructions share.

# Starts BINARY under callgrind on a fresh SQLite file in `dir` (set by the caller), one
# tokio worker, rate limits off, with any further VAR=value settings; sets `pid` and `base`,
# and stops the server and removes `dir` on exit.
start_under_callgrind() {
  local binary=$1 port
  shift
  command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
  port=$(free_port)
  env TD_ADDR="127.0.0.1:$port" TD_DATABASE_URL="sqlite:$dir/db" TD_RATE_LIMITS=off \
    TD_SECRET="bench-secret-of-at-least-32-bytes!!" RUST_LOG=warn TOKIO_WORKER_THREADS=1 "$@" \
    valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.%p" "$binary" \
    >"$dir/out" 2>"$dir/err" &
  pid=$!
  trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
  for _ in $(seq 600); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.1; done
  base="http://127.0.0.1:$port"
}

# Runs `warm-up` then, with the counters zeroed, `measured` (two commands, each a string);
# prints the instructions the server ran for `measured`, summed over the dump's threads.
instructions_of() {
  eval "$1"
  callgrind_control --zero "$pid" >/dev/null
  eval "$2"
  callgrind_control --dump "$pid" >/dev/null
  # The newest dump file is this one.
  local file
  file=$(ls -t "$dir"/callgrind.*.* | head -1)
  awk '/^summary:/ {sum += $2} /^totals:/ {totals += $2} END {print (sum ? sum : totals)}' "$file"
  rm -f "$file"
}
