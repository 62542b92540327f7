#!/usr/bin/env bash
# Installs everything Porter and its tests need on Debian 12 as root, idempotently:
# the peer tools from Debian (for interop tests and benchmarks) and a venv at .venv
# with Porter installed in editable mode.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
    busybox-static skopeo umoci runc crun podman conmon docker-registry
    zstd apache2-utils iproute2 nftables hyperfine time libseccomp2 wrk
    python3.11-venv git uidmap docker.io etcd-server etcd-client buildah
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    /usr/bin/python3.11 -m venv .venv
fi
stamp=.venv/.porter-installed
wheelhouse=.venv/wheelhouse
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ ! -d "$wheelhouse" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[test]'
    # Wheels of Porter's dependencies, so that tests can install Porter's own wheel into a
    # fresh venv (as users do) without reaching a package index (setuptools: to build it).
    rm -rf "$wheelhouse"
    .venv/bin/python -m pip wheel -q -w "$wheelhouse" . setuptools
    rm -f "$wheelhouse"/porter-*.whl
    touch "$stamp"
fi

# setuptools' editable finder (__editable__.porter-*.pth) imports pathlib, urllib and ipaddress
# at every interpreter start (~10 ms), before any of Porter's code runs, so no package can avoid
# it; plain path entries for the src folders import the same packages for free (and, unlike
# `editable_mode=strict`, see new modules without a reinstall). The porter-runtime command
# itself is the package's own script (porter-runtime/bin/porter-runtime), fast however
# Porter is installed.
purelib=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf '%s\n' "$PWD"/specs/src "$PWD"/porter-image/src "$PWD"/porter-registry/src \
    "$PWD"/porter-runtime/src "$PWD"/porterd/src > "$purelib/porter-src.pth"
rm -f "$purelib"/__editable__.porter-*.pth

# Bytecode for every src folder, so that imports never compile even where
# PYTHONDONTWRITEBYTECODE is set (as in CI).
.venv/bin/python -m compileall -q specs/src porter-image/src porter-registry/src \
    porter-runtime/src porterd/src >/dev/null
