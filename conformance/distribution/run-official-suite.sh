#!/usr/bin/env bash
# Runs the official distribution-spec conformance binary (built from upstream's conformance/
# folder, see conformance/README.md) with every workflow enabled.
#
#   run-official-suite.sh PATH/TO/conformance.test
#
# With OCI_ROOT_URL set it tests that registry; otherwise it starts porter-registry on a free
# loopback port with a temporary data folder and stops it (and removes the folder) on exit.
# Reports (junit.xml, report.html) land in OCI_REPORT_DIR, by default the current folder.
set -euo pipefail

binary=${1:?usage: run-official-suite.sh PATH/TO/conformance.test}
binary=$(realpath "$binary")
here=$(cd "$(dirname "$0")" && pwd)
venv_bin="$here/../../.venv/bin"

export OCI_NAMESPACE=${OCI_NAMESPACE:-conformance/official}
export OCI_CROSSMOUNT_NAMESPACE=${OCI_CROSSMOUNT_NAMESPACE:-conformance/official-crossmount}
export OCI_TEST_PULL=${OCI_TEST_PULL:-1}
export OCI_TEST_PUSH=${OCI_TEST_PUSH:-1}
export OCI_TEST_CONTENT_DISCOVERY=${OCI_TEST_CONTENT_DISCOVERY:-1}
export OCI_TEST_CONTENT_MANAGEMENT=${OCI_TEST_CONTENT_MANAGEMENT:-1}
export OCI_REPORT_DIR=${OCI_REPORT_DIR:-$PWD}

if [[ -z "${OCI_ROOT_URL:-}" ]]; then
    workdir=$(mktemp -d -t porter-registry-official-XXXXXX)
    port=$("$venv_bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$venv_bin/porter-registry" serve --listen "127.0.0.1:$port" --data "$workdir/data" \
        >"$workdir/registry.log" 2>&1 &
    registry_pid=$!
    trap 'kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null; rm -rf "$workdir"' EXIT
    export OCI_ROOT_URL="http://127.0.0.1:$port"
    for _ in $(seq 1 300); do
        if curl -fs -o /dev/null "$OCI_ROOT_URL/v2/"; then break; fi
        if ! kill -0 "$registry_pid" 2>/dev/null; then
            echo "porter-registry exited before answering /v2/:" >&2
            cat "$workdir/registry.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    curl -fs -o /dev/null "$OCI_ROOT_URL/v2/" || { echo "porter-registry did not answer $OCI_ROOT_URL/v2/ in 30 s" >&2; exit 1; }
fi

echo "official conformance suite against $OCI_ROOT_URL (namespace $OCI_NAMESPACE)" >&2
"$binary"
