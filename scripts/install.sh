#!/bin/sh
# Bulwark installer. Installs the bulwark binary, its systemd units and helper scripts from a
# release tarball, after checking the tarball's sha256 against the release's checksum file.
# It never starts or enables a service unless asked (INSTALL_BULWARK_ENABLE / _START).
#
#   curl -sfL https://<release host>/install.sh | INSTALL_BULWARK_VERSION=v0.1.0 sh -
#   INSTALL_BULWARK_ARTIFACT_PATH=/media/bulwark sh install.sh            # air-gapped
#
# Variables (RKE2's installer uses the same names with RKE2 in place of BULWARK):
#   INSTALL_BULWARK_VERSION        release to install, e.g. v0.1.0 (online installs; required there)
#   INSTALL_BULWARK_URL            base URL of the release files (online installs)
#   INSTALL_BULWARK_ARTIFACT_PATH  folder holding bulwark.linux-<arch>.tar.gz and sha256sum-<arch>.txt
#                                  (air-gap; *.tar, *.tar.gz, *.tar.zst image archives there are
#                                  copied to the agent images dir)
#   INSTALL_BULWARK_METHOD         tar (the only method)
#   INSTALL_BULWARK_TYPE           server or agent: the unit to enable/start when asked (default server)
#   INSTALL_BULWARK_TAR_PREFIX     install prefix (default /usr/local)
#   INSTALL_BULWARK_SYSTEMD_DIR    where units go (default <prefix>/lib/systemd/system)
#   INSTALL_BULWARK_AGENT_IMAGES_DIR  (default /var/lib/bulwark/agent/images)
#   INSTALL_BULWARK_SKIP_RELOAD    true: no systemctl daemon-reload
#   INSTALL_BULWARK_ENABLE         true: systemctl enable the unit of INSTALL_BULWARK_TYPE
#   INSTALL_BULWARK_START          true: systemctl start it (implies enable)
set -eu

fatal() { echo "[ERROR] $*" >&2; exit 1; }
info() { echo "[INFO]  $*"; }

ARCH=
TMP_DIR=
cleanup() { if [ -n "$TMP_DIR" ]; then rm -rf "$TMP_DIR"; fi; }
trap cleanup EXIT INT TERM

setup_env() {
    METHOD=${INSTALL_BULWARK_METHOD:-tar}
    [ "$METHOD" = tar ] || fatal "INSTALL_BULWARK_METHOD=$METHOD is not supported; use tar"
    TYPE=${INSTALL_BULWARK_TYPE:-server}
    case "$TYPE" in server|agent) ;; *) fatal "INSTALL_BULWARK_TYPE must be server or agent, not '$TYPE'" ;; esac
    PREFIX=${INSTALL_BULWARK_TAR_PREFIX:-/usr/local}
    case "$PREFIX" in /*) ;; *) fatal "INSTALL_BULWARK_TAR_PREFIX must be an absolute path, not '$PREFIX'" ;; esac
    SYSTEMD_DIR=${INSTALL_BULWARK_SYSTEMD_DIR:-$PREFIX/lib/systemd/system}
    IMAGES_DIR=${INSTALL_BULWARK_AGENT_IMAGES_DIR:-/var/lib/bulwark/agent/images}
    ARTIFACT_PATH=${INSTALL_BULWARK_ARTIFACT_PATH:-}
    VERSION=${INSTALL_BULWARK_VERSION:-}
    if [ "$(id -u)" != 0 ]; then fatal "run as root (the units, binaries and /var/lib/bulwark are root's)"; fi
}

setup_arch() {
    case "$(uname -m)" in
        x86_64|amd64) ARCH=amd64 ;;
        aarch64|arm64) ARCH=arm64 ;;
        *) fatal "unsupported architecture $(uname -m)" ;;
    esac
    TARBALL=bulwark.linux-$ARCH.tar.gz
    CHECKSUMS=sha256sum-$ARCH.txt
}

# Puts the tarball and checksum file in $TMP_DIR, from the artifact folder or the release URL.
fetch_artifacts() {
    TMP_DIR=$(mktemp -d)
    if [ -n "$ARTIFACT_PATH" ]; then
        [ -d "$ARTIFACT_PATH" ] || fatal "INSTALL_BULWARK_ARTIFACT_PATH=$ARTIFACT_PATH is not a folder"
        for f in "$TARBALL" "$CHECKSUMS"; do
            [ -f "$ARTIFACT_PATH/$f" ] || fatal "$ARTIFACT_PATH/$f is missing; copy it from the release next to the tarball"
            cp "$ARTIFACT_PATH/$f" "$TMP_DIR/$f"
        done
        info "using artifacts from $ARTIFACT_PATH"
        return
    fi
    [ -n "$VERSION" ] || fatal "set INSTALL_BULWARK_VERSION (online) or INSTALL_BULWARK_ARTIFACT_PATH (air-gap)"
    URL=${INSTALL_BULWARK_URL:-}
    [ -n "$URL" ] || fatal "set INSTALL_BULWARK_URL to the base URL of the $VERSION release files"
    for f in "$CHECKSUMS" "$TARBALL"; do
        info "downloading $URL/$VERSION/$f"
        if command -v curl >/dev/null 2>&1; then
            curl -fsSL --proto '=https' --tlsv1.2 -o "$TMP_DIR/$f" "$URL/$VERSION/$f" || fatal "download of $f failed"
        elif command -v wget >/dev/null 2>&1; then
            wget -q --https-only -O "$TMP_DIR/$f" "$URL/$VERSION/$f" || fatal "download of $f failed"
        else
            fatal "neither curl nor wget is installed; use INSTALL_BULWARK_ARTIFACT_PATH"
        fi
    done
}

# Refuses the tarball unless its sha256 is the one the checksum file names for it.
verify_tarball() {
    expected=$(awk -v f="$TARBALL" '$2 == f || $2 == "*" f { print $1 }' "$TMP_DIR/$CHECKSUMS")
    [ -n "$expected" ] || fatal "$CHECKSUMS has no line for $TARBALL; nothing was installed"
    actual=$(sha256sum "$TMP_DIR/$TARBALL" | awk '{print $1}')
    if [ "$expected" != "$actual" ]; then
        fatal "$TARBALL sha256 $actual does not match $CHECKSUMS ($expected): the file is corrupt or was tampered with; nothing was installed"
    fi
    info "$TARBALL sha256 verified"
}

# Unpacks into a scratch folder, checks the layout, then moves each file into place with
# a rename, so an interrupted install never leaves a half-written binary.
install_files() {
    mkdir "$TMP_DIR/root"
    tar -xzf "$TMP_DIR/$TARBALL" -C "$TMP_DIR/root" --no-same-owner
    for f in bin/bulwark bin/bulwark-killall.sh bin/bulwark-uninstall.sh \
             lib/systemd/system/bulwark-server.service lib/systemd/system/bulwark-agent.service; do
        [ -f "$TMP_DIR/root/$f" ] || fatal "$TARBALL lacks $f; is it a Bulwark release tarball?"
    done
    place "$TMP_DIR/root/bin/bulwark" "$PREFIX/bin/bulwark" 0755
    place "$TMP_DIR/root/bin/bulwark-killall.sh" "$PREFIX/bin/bulwark-killall.sh" 0755
    place "$TMP_DIR/root/bin/bulwark-uninstall.sh" "$PREFIX/bin/bulwark-uninstall.sh" 0755
    for unit in bulwark-server.service bulwark-agent.service; do
        sed "s|/usr/local|$PREFIX|g" "$TMP_DIR/root/lib/systemd/system/$unit" > "$TMP_DIR/$unit"
        place "$TMP_DIR/$unit" "$SYSTEMD_DIR/$unit" 0644
    done
    if [ -d "$TMP_DIR/root/share" ]; then
        (cd "$TMP_DIR/root" && find share -type f) | while read -r f; do place "$TMP_DIR/root/$f" "$PREFIX/$f" 0644; done
    fi
    info "installed bulwark into $PREFIX/bin and its units into $SYSTEMD_DIR"
}

place() {
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2.bulwark-new"
    chmod "$3" "$2.bulwark-new"
    mv -f "$2.bulwark-new" "$2"
    echo "$2" >> "$TMP_DIR/installed"
}

# The list of every file placed, which `bulwark uninstall --prefix` reads to remove exactly these.
write_manifest() {
    manifest=$PREFIX/share/bulwark/install-manifest
    echo "$manifest" >> "$TMP_DIR/installed"
    sort -u "$TMP_DIR/installed" > "$TMP_DIR/manifest"
    place "$TMP_DIR/manifest" "$manifest" 0644
}

copy_images() {
    [ -n "$ARTIFACT_PATH" ] || return 0
    for f in "$ARTIFACT_PATH"/*.tar "$ARTIFACT_PATH"/*.tar.gz "$ARTIFACT_PATH"/*.tar.zst; do
        [ -f "$f" ] || continue
        [ "$(basename "$f")" = "$TARBALL" ] && continue
        mkdir -p "$IMAGES_DIR"
        chmod 0700 "$IMAGES_DIR"
        place "$f" "$IMAGES_DIR/$(basename "$f")" 0600
        info "air-gap images $(basename "$f") → $IMAGES_DIR"
    done
}

systemd_running() { [ -d /run/systemd/system ]; }

services() {
    unit=bulwark-$TYPE.service
    if ! systemd_running; then
        info "systemd is not running here: $unit was written but not loaded"
        return
    fi
    if [ "${INSTALL_BULWARK_SKIP_RELOAD:-false}" != true ]; then systemctl daemon-reload; fi
    if [ "${INSTALL_BULWARK_START:-false}" = true ]; then
        systemctl enable --now "$unit"
        info "$unit enabled and started"
    elif [ "${INSTALL_BULWARK_ENABLE:-false}" = true ]; then
        systemctl enable "$unit"
        info "$unit enabled (not started)"
    else
        info "nothing started; when ready: systemctl enable --now $unit"
    fi
}

setup_env
setup_arch
fetch_artifacts
verify_tarball
install_files
copy_images
write_manifest
services
