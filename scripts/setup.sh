#!/usr/bin/env bash
# Installs everything Porter and its tests need on Debian 12 as root, idempotently:
# the peer tools from Debian (for interop tests and benchmarks) and a venv at .venv
# with Porter installed in editable mode.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
    busybox-static skopeo umoci runc crun podman conmon docker-registry
    zstd apache2-utils iproute2 nftables hyperfine time libseccomp2 wrk
    python3.11-venv git uidmap docker.io etcd-server etcd-client
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
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[test]'
    touch "$stamp"
fi

# pip's editable finder (__editable__.porter-*.pth) imports pathlib, urllib and ipaddress at
# every interpreter start (~10 ms); plain path entries for the src folders import the same
# packages for free, which the runtime's start-up time depends on.
purelib=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf '%s\n' "$PWD"/specs/src "$PWD"/porter-image/src "$PWD"/porter-registry/src \
    "$PWD"/porter-runtime/src "$PWD"/porterd/src > "$purelib/porter-src.pth"
rm -f "$purelib"/__editable__.porter-*.pth

# Bytecode for every src folder, so that imports never compile even where
# PYTHONDONTWRITEBYTECODE is set (as in CI).
.venv/bin/python -m compileall -q specs/src porter-image/src porter-registry/src \
    porter-runtime/src porterd/src >/dev/null

# porter-runtime runs once per container operation, so its start-up is on everyone's hot
# path: this launcher replaces pip's console script with `python -I -S` (no site module,
# no .pth processing, no sitecustomize) and the src folders added by hand, and leaves
# through os._exit once its output is flushed (interpreter teardown costs milliseconds
# and there is nothing to tear down). It names the venv's base interpreter itself: started
# through the venv's symlink, Python reads pyvenv.cfg and searches for its prefix, a
# millisecond that buys nothing when sys.path is set here.
cat > .venv/bin/porter-runtime <<LAUNCHER
#!$(readlink -f .venv/bin/python) -IS
import os
import sys

sys.path[:0] = ["$PWD/porter-runtime/src", "$PWD/specs/src"]  # ours first: found at once
sys.path.append("$purelib")
from porter_runtime.cli import main

code = main()
try:
    sys.stdout.flush()
    sys.stderr.flush()
except OSError:
    code = code or 1
os._exit(code)
LAUNCHER
chmod 755 .venv/bin/porter-runtime
