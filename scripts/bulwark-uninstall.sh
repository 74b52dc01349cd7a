#!/bin/sh
# Removes Bulwark from this node: killall, then binaries, units, data and CNI files, as
# rke2-uninstall.sh does. Arguments pass to `bulwark uninstall` (e.g. --yes).
set -eu
bin=$(dirname "$(readlink -f "$0")")
exec "$bin/bulwark" uninstall --prefix "$(dirname "$bin")" "$@"
