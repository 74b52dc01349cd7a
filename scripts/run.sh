#!/usr/bin/env bash
# `make run`: Bulwark's main job on this host with the embedded default configuration,
# in a local data directory, printing what it does.
set -euo pipefail
bin=$1
run_dir=$2
mkdir -p "$run_dir"
config="$run_dir/config.yaml"
cat > "$config" <<YAML
# make run's default: a local data dir, the CIS profile's preflight.
data-dir: $run_dir/data
profile: cis-1.23
YAML

echo "== bulwark version"
"$bin" version
echo
echo "== host preflight for the CIS profile (bulwark hardening check --profile cis-1.23)"
"$bin" hardening check --config "$config" || echo "(the host is not hardened; 'bulwark hardening apply' fixes it)"
echo
echo "== effective configuration (bulwark config print --config $config)"
"$bin" config print --config "$config"

# ---- bulwark server: an etcd-only node in the local data dir, a snapshot, a clean stop ----
server_dir="$run_dir/server"
server_config="$run_dir/server.yaml"
free_ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(3)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
read -r client_port peer_port metrics_port <<<"$free_ports"
cat > "$server_config" <<YAML
# make run's server: etcd-only roles on loopback ports picked at run time. No profile here, because the
# CIS preflight above fails on an unhardened host (and bulwark server refuses to start on one).
data-dir: $server_dir
node-name: make-run
node-ip: 127.0.0.1
etcd-client-port: $client_port
etcd-peer-port: $peer_port
etcd-metrics-port: $metrics_port
disable-apiserver: true
disable-controller-manager: true
disable-scheduler: true
YAML
echo
echo "== bulwark server --config $server_config"
server_log="$run_dir/server.out"
"$bin" server --config "$server_config" >"$server_log" 2>&1 &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  grep -q '^\[ready\]' "$server_log" && break
  kill -0 $server_pid 2>/dev/null || break
  sleep 0.1
done
cat "$server_log"
grep -q '^\[ready\]' "$server_log" || { echo "bulwark server did not become ready"; exit 1; }
echo
echo "== bulwark etcd-snapshot save --config $server_config"
"$bin" etcd-snapshot save --config "$server_config"
echo
echo "== bulwark etcd-snapshot list --config $server_config"
"$bin" etcd-snapshot list --config "$server_config"
echo
echo "== stopping the server (SIGTERM)"
kill -TERM $server_pid
status=0
wait $server_pid || status=$?
trap - EXIT
tail -n 2 "$server_log"
echo "bulwark server exited with code $status"
