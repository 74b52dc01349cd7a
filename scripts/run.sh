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
