#!/bin/sh
# Stops everything Bulwark started on this node (processes, containerd shims and pods, mounts,
# CNI interfaces and iptables chains), as rke2-killall.sh does. Arguments pass to `bulwark killall`.
set -eu
exec "$(dirname "$(readlink -f "$0")")/bulwark" killall "$@"
