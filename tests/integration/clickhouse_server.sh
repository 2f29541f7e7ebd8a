# clickhouse_server.sh - a throwaway clickhouse-server on loopback, sourced by
# tests/integration/test_clickhouse.sh and bench/run.sh (section (i)).
#
#   ns_ch_start DIR SERVER...   start SERVER... (e.g. /usr/sbin/clickhouse-server, or
#                               clickhouse server) with its configuration, data and logs in DIR
#                               (created; kept across restarts), on fresh ports of 127.0.0.1;
#                               sets NS_CH_PORT (HTTP) and NS_CH_PID. Returns 1 when it did not
#                               answer within 20 s, three times (DIR/server.err.log says why).
#   ns_ch_stop                  stop it by PID (SIGTERM, then wait); safe when none runs.
#
# The configuration is the smallest that 18.16 accepts: UTC, the default user without a
# password and reachable from loopback only, no uncompressed cache.

ns_ch_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

NS_CH_PID=
ns_ch_start() {
  local d=$1 tcp_port
  shift
  mkdir -p "$d/data" "$d/tmp" "$d/user_files" "$d/format_schemas"
  for _ in 1 2 3; do
    NS_CH_PORT=$(ns_ch_free_port) tcp_port=$(ns_ch_free_port)
    [[ $NS_CH_PORT != "$tcp_port" ]] || continue
    cat >"$d/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>information</level><log>$d/server.log</log><errorlog>$d/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$NS_CH_PORT</http_port>
  <tcp_port>$tcp_port</tcp_port>
  <path>$d/data/</path>
  <tmp_path>$d/tmp/</tmp_path>
  <user_files_path>$d/user_files/</user_files_path>
  <format_schema_path>$d/format_schemas/</format_schema_path>
  <users_config>$d/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>0</uncompressed_cache_size>
  <timezone>UTC</timezone>
</yandex>
EOF
    cat >"$d/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
EOF
    "$@" --config-file="$d/config.xml" >"$d/stdout.log" 2>&1 &
    NS_CH_PID=$!
    for _ in $(seq 400); do
      [[ $(curl -s "http://127.0.0.1:$NS_CH_PORT/?query=SELECT%201" 2>/dev/null) == 1 ]] && return 0
      kill -0 "$NS_CH_PID" 2>/dev/null || break
      sleep 0.05
    done
    ns_ch_stop
  done
  return 1
}

ns_ch_stop() {
  [[ -n $NS_CH_PID ]] || return 0
  kill -TERM "$NS_CH_PID" 2>/dev/null || true
  wait "$NS_CH_PID" 2>/dev/null || true
  NS_CH_PID=
}
