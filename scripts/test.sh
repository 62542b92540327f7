#!/usr/bin/env bash
# Runs the whole test suite (unit, integration, conformance) after setting up the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
