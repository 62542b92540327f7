"""porter-runtime features: the runtime-spec features document."""

from __future__ import annotations

import sys

from porter_runtime.cli.args import Command

COMMAND = Command(
    "features", "Print what this runtime supports (runtime-spec features.md).", args=()
)


def run(ctx: object, opts: object) -> int:
    import json

    from porter_runtime.spec import features

    sys.stdout.write(json.dumps(features(), indent=2) + "\n")
    return 0
