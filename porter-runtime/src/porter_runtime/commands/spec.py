"""porter-runtime spec: write a default config.json into a bundle."""

from __future__ import annotations

import os

from porter_runtime.cli.args import FLAG, VALUE, Command, Option

COMMAND = Command(
    "spec",
    "Write a default config.json (runc's defaults) into the bundle directory.",
    (
        Option("bundle", ("-b", "--bundle"), VALUE, ".", "the bundle directory", "dir"),
        Option("rootless", ("--rootless",), FLAG, help="a config for an unprivileged user"),
    ),
    args=(),
)


def run(ctx: object, opts: object) -> int:
    from porter_runtime.errors import ConfigError
    from porter_runtime.spec import default_config

    path = os.path.join(opts.bundle, "config.json")
    if os.path.exists(path):
        raise ConfigError(path, "already exists; remove it first")
    if not os.path.isdir(opts.bundle):
        raise ConfigError(f"bundle {opts.bundle}", "is not a directory")
    import json

    with open(path, "w") as f:
        json.dump(default_config(opts.rootless), f, indent=2)
        f.write("\n")
    return 0
