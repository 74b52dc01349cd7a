#!/usr/bin/env bash
# Packs a release as install.sh expects it: bulwark.linux-<arch>.tar.gz (bin/, lib/systemd/system/,
# share/doc/bulwark/) and sha256sum-<arch>.txt, plus install.sh itself, into OUT_DIR.
#   scripts/release.sh BINARY OUT_DIR [ARCH]
set -euo pipefail
binary=$1
out=$2
arch=${3:-amd64}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
stage=$(mktemp -d)
chmod 0755 "$stage"
trap 'rm -rf "$stage"' EXIT
install -D -m 0755 "$binary" "$stage/bin/bulwark"
install -D -m 0755 "$here/bulwark-killall.sh" "$stage/bin/bulwark-killall.sh"
install -D -m 0755 "$here/bulwark-uninstall.sh" "$stage/bin/bulwark-uninstall.sh"
for unit in bulwark-server.service bulwark-agent.service; do
  install -D -m 0644 "$here/systemd/$unit" "$stage/lib/systemd/system/$unit"
done
install -D -m 0644 "$root/README.md" "$stage/share/doc/bulwark/README.md"
install -D -m 0644 "$root/SECURITY.md" "$stage/share/doc/bulwark/SECURITY.md"
mkdir -p "$out"
tarball="bulwark.linux-$arch.tar.gz"
tar --owner=0 --group=0 --numeric-owner --sort=name -czf "$out/$tarball.tmp" -C "$stage" .
mv -f "$out/$tarball.tmp" "$out/$tarball"
(cd "$out" && sha256sum "$tarball" > "sha256sum-$arch.txt")
install -m 0755 "$here/install.sh" "$out/install.sh"
echo "release: $out/$tarball ($(du -h "$out/$tarball" | cut -f1)), $out/sha256sum-$arch.txt, $out/install.sh"
