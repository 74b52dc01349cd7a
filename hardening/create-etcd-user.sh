#!/bin/sh
# Creates the etcd system account the CIS profile requires (CIS 1.1.11, 1.1.12):
# a system user and group named etcd, no login shell, no home directory.
# Idempotent. `bulwark hardening apply` does the same; this script is for hosts
# prepared by configuration management before Bulwark is installed.
set -eu
if ! getent group etcd >/dev/null; then
    groupadd --system etcd
fi
if ! getent passwd etcd >/dev/null; then
    useradd --system --gid etcd --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "etcd user" etcd
fi
id etcd
