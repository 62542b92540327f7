#!/usr/bin/env bash
# Builds Porter's demo base image from Debian's busybox-static:
#   bash scripts/make-busybox-image.sh LAYOUT:TAG
# The rootfs holds /bin/busybox with a symlink for every applet (`busybox --list-full`),
# /etc/passwd and /etc/group, /tmp, /root and the usual empty mount points. It is imported
# with porter-image (reproducibly: fixed mtimes, so the same busybox gives the same digest)
# and configured with Cmd ["sh"] and a PATH.
set -euo pipefail

if [ $# -ne 1 ] || [[ "$1" != *:* ]]; then
    echo "usage: $0 LAYOUT:TAG" >&2
    exit 2
fi
image="$1"
repo="$(cd "$(dirname "$0")/.." && pwd)"
porter_image="${PORTER_IMAGE:-$repo/.venv/bin/porter-image}"
busybox="${BUSYBOX:-/bin/busybox}"
if [ ! -x "$busybox" ]; then
    echo "$0: $busybox not found (apt-get install busybox-static)" >&2
    exit 1
fi

# Fixed dates everywhere (entries, config, history) unless the caller chose one.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-0}"

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
chmod 0755 "$rootfs"

mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,run,var/tmp,home}
install -d -m 0700 "$rootfs/root"
install -d -m 1777 "$rootfs/tmp"
chmod 1777 "$rootfs/var/tmp"
install -m 0755 "$busybox" "$rootfs/bin/busybox"

# One relative symlink per applet, so the tree works wherever it is unpacked.
"$busybox" --list-full | while read -r applet; do
    [ "$applet" = "bin/busybox" ] && continue
    dir="$(dirname "$applet")"
    if [ "$dir" = . ]; then up=.; else up="$(echo "$dir" | sed -E 's#[^/]+#..#g')"; fi
    mkdir -p "$rootfs/$dir"
    ln -sfn "$up/bin/busybox" "$rootfs/$applet"
done

cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"
if [ "$(id -u)" = 0 ]; then
    chown -R 0:0 "$rootfs"
fi

"$porter_image" import --reproducible \
    --annotation "org.opencontainers.image.title=busybox" \
    --annotation "org.opencontainers.image.description=Porter demo base image (Debian busybox-static)" \
    "$rootfs" "$image" >/dev/null
"$porter_image" config \
    --cmd sh \
    --env PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    "$image"
