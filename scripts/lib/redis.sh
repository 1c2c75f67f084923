# Starts throwaway Redis servers for the tests unless the variables are already set: one
# node (TD_TEST_REDIS_URL) and a 3-node cluster (TD_TEST_REDIS_CLUSTER_URLS), on free
# loopback ports, persistence off, stopped and removed on exit.
# Sourced by scripts/test; uses its `cleanups` array and free_port.

redis_node() { # dir port [extra args...]
  local dir=$1 port=$2
  shift 2
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "$@"
  cleanups+=("redis-cli -p $port shutdown nosave >/dev/null 2>&1 || true")
  local _
  for _ in $(seq 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$dir/redis.log"
  return 1
}

start_throwaway_redis() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "Redis: not installed; its tests will say they were skipped (they fail under CI)"
    return 0
  fi
  local dir
  dir=$(mktemp -d /tmp/td-redis.XXXXXX)
  cleanups+=("rm -rf '$dir'")
  if [ -z "${TD_TEST_REDIS_URL:-}" ]; then
    local port
    port=$(free_port)
    redis_node "$dir/single" "$port"
    export TD_TEST_REDIS_URL="redis://127.0.0.1:$port"
    echo "Redis: throwaway node on 127.0.0.1:$port"
  fi
  if [ -z "${TD_TEST_REDIS_CLUSTER_URLS:-}" ]; then
    local nodes=() urls=() port
    for node in 1 2 3; do
      port=$(free_port)
      redis_node "$dir/cluster-$node" "$port" --cluster-enabled yes \
        --cluster-config-file "$dir/cluster-$node/nodes.conf" --cluster-port "$(free_port)" \
        --cluster-node-timeout 5000
      nodes+=("127.0.0.1:$port")
      urls+=("redis://127.0.0.1:$port")
    done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 \
      || { cat "$dir/create.log"; return 1; }
    local _
    for _ in $(seq 100); do
      redis-cli -p "${nodes[0]#*:}" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
      sleep 0.1
    done
    TD_TEST_REDIS_CLUSTER_URLS=$(IFS=,; echo "${urls[*]}")
    export TD_TEST_REDIS_CLUSTER_URLS
    echo "Redis: throwaway 3-node cluster on ${nodes[*]}"
  fi
}
