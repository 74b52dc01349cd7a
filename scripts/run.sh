#!/usr/bin/env bash
# `make run`: Bulwark's main job on this host with an embedded default configuration, in a local
# data directory (.run/), printing what it does: host preflight, a real server (PKI, embedded etcd,
# the rendered hardened control plane, containerd with a pod run through CRI by the node check), a
# snapshot, an audit of the node, and a clean stop.
set -euo pipefail
bin=$1
run_dir=$2
mkdir -p "$run_dir"
# etcd runs as the etcd account under a profile; it must be able to pass through to its folders.
chmod 711 "$run_dir"

echo "== bulwark version"
"$bin" version

echo
echo "== host preflight (bulwark hardening check --profile cis-1.23)"
if "$bin" hardening check --profile cis-1.23; then
  profile="profile: cis-1.23"
  echo "(the host is hardened: the server runs with the CIS profile)"
else
  profile="# profile: cis-1.23   (off: this host is not hardened; 'bulwark hardening apply' fixes it)"
  echo "(the host is not hardened, so this demo server runs without the CIS profile; 'bulwark hardening apply' fixes the host)"
fi

# Three free loopback ports for etcd, found with ss (iproute2), starting at 32379.
in_use=$(ss -Htln | awk '{print $4}' | sed -E 's/.*:([0-9]+)$/\1/' | sort -u)
ports=()
for port in $(seq 32379 32999); do
  grep -qx "$port" <<<"$in_use" || ports+=("$port")
  [ ${#ports[@]} -eq 3 ] && break
done

echo
echo "== bulwark node pause-image (the upstream pause image cannot be pulled offline: a stand-in from busybox)"
install -d -m 0700 "$run_dir/data" "$run_dir/data/agent" "$run_dir/data/agent/images"
pause=bulwark.local/pause:busybox-demo
"$bin" node pause-image --output-file "$run_dir/data/agent/images/pause-demo.tar" --image "$pause"

mkdir -p "$run_dir/etc"
config="$run_dir/etc/config.yaml"
cat > "$config" <<YAML
# make run's server: all roles (the control plane is rendered; its upstream binaries are not
# installed here, so etcd and containerd run), loopback addresses, ports picked at run time.
data-dir: $run_dir/data
$profile
node-name: make-run
node-ip: 127.0.0.1
bind-address: 127.0.0.1
# One host only: the apiserver advertises loopback (refused without this, see README).
single-host-demo: true
etcd-client-port: ${ports[0]}
etcd-peer-port: ${ports[1]}
etcd-metrics-port: ${ports[2]}
supervisor-port: 39345
write-kubeconfig: $run_dir/etc/bulwark.yaml
# Prove the node before ready: a real pod sandbox and container through CRI (bulwark node check).
pause-image: $pause
node-check: true
YAML

echo
echo "== bulwark server --config $config"
server_log="$run_dir/server.out"
"$bin" server --config "$config" >"$server_log" 2>&1 &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  grep -q '^\[ready\]' "$server_log" && break
  kill -0 $server_pid 2>/dev/null || break
  sleep 0.1
done
cat "$server_log"
grep -q '^\[ready\]' "$server_log" || { echo "bulwark server did not become ready"; exit 1; }

echo
echo "== bulwark etcd-snapshot save --config $config"
"$bin" etcd-snapshot save --config "$config"
echo
echo "== bulwark etcd-snapshot list --config $config"
"$bin" etcd-snapshot list --config "$config"

echo
echo "== bulwark audit --config $config (CIS 1.12 + DISA STIG; HTML report in $run_dir/audit.html)"
# Exit 1 means a check failed (reported above), not that the audit did not run.
audit_status=0
"$bin" audit --config "$config" -o text -o html --output-file "$run_dir/audit.html" >"$run_dir/audit.txt" || audit_status=$?
tail -n 25 "$run_dir/audit.txt"
[ "$audit_status" -le 1 ] || { echo "bulwark audit did not run (exit $audit_status)"; exit 1; }

echo
echo "== stopping the server (SIGTERM)"
kill -TERM $server_pid
status=0
wait $server_pid || status=$?
trap - EXIT
tail -n 3 "$server_log"
echo "bulwark server exited with code $status"
exit $status
