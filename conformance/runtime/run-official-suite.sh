#!/bin/sh
# Runs the official OCI runtime validation suite (opencontainers/runtime-tools,
# validation/) against a runtime, at acceptance.  The suite is Go and is not
# installable from our package registries: build it first in a checkout of
# runtime-tools with `make runtimetest validation-executables`.
#
# usage: run-official-suite.sh RUNTIME_TOOLS_CHECKOUT [RUNTIME] [REPORT_DIR]
#   RUNTIME defaults to porter-runtime next to the Python in PATH's .venv, or
#   `porter-runtime` on PATH.  Each validation/*/*.t runs from the checkout (the
#   tests copy ./runtimetest into their bundles), with a time limit, and its TAP
#   output is kept in REPORT_DIR (default: ./runtime-tools-report).
set -eu

checkout=$(cd "${1:?usage: run-official-suite.sh RUNTIME_TOOLS_CHECKOUT [RUNTIME] [REPORT_DIR]}" && pwd)
runtime=${2:-$(command -v porter-runtime || echo porter-runtime)}
report=${3:-./runtime-tools-report}
limit=${VALIDATION_TIMEOUT:-120}

[ -x "$checkout/runtimetest" ] || {
    echo "run-official-suite: $checkout/runtimetest missing; run 'make runtimetest validation-executables' there" >&2
    exit 2
}
mkdir -p "$report"
report=$(cd "$report" && pwd)

passed=0
failed=0
for test in "$checkout"/validation/*/*.t; do
    name=$(basename "$test" .t)
    if (cd "$checkout" && RUNTIME="$runtime" timeout "$limit" "$test") >"$report/$name.tap" 2>&1 \
        && ! grep -q '^not ok' "$report/$name.tap"; then
        passed=$((passed + 1))
        echo "ok      $name"
    else
        failed=$((failed + 1))
        echo "FAILED  $name ($(grep -c '^not ok' "$report/$name.tap" || true) not ok; $report/$name.tap)"
    fi
done
echo "runtime-tools validation with $runtime: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
