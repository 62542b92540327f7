"""The default config.json of `porter-runtime spec` (runc's defaults, and its rootless
variant, from `porter_specs.runtime_defaults`), and the runtime-spec features document of
`porter-runtime features`."""

from __future__ import annotations

import os

from porter_runtime import capabilities, mountopts
from porter_runtime.namespaces import FLAGS

SPEC_VERSION = "1.2.0"


def default_config(rootless: bool = False) -> dict:
    """A bundle config that runs `sh` from ./rootfs, as `runc spec` writes it (rootless: as
    `runc spec --rootless`, with container root mapped to the caller)."""
    from porter_specs.runtime_defaults import default_runtime_config

    return default_runtime_config(SPEC_VERSION, rootless)


def features() -> dict:
    """What this runtime supports, in the shape of the runtime-spec's features.md."""
    from porter_runtime.hooks import KINDS
    from porter_runtime.process import apparmor_enabled

    options = sorted({*mountopts.FLAGS, *mountopts.PROPAGATION, *mountopts.RECURSIVE, "tmpcopyup"})
    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": SPEC_VERSION,
        "hooks": list(KINDS),
        "mountOptions": options,
        "linux": {
            "namespaces": sorted(FLAGS),
            "capabilities": list(capabilities.NAMES[: capabilities.last_cap() + 1]),
            "cgroup": {
                "v1": True,
                "v2": True,
                "systemd": False,
                "systemdUser": False,
                "rdma": False,
            },
            "seccomp": _seccomp_features(),
            "apparmor": {"enabled": apparmor_enabled()},
            "selinux": {"enabled": os.path.isdir("/sys/fs/selinux")},
            "intelRdt": {"enabled": False},
            "mountExtensions": {"idmap": {"enabled": False}},
        },
        "annotations": {
            "org.opencontainers.runtime-spec.features.implementation": "porter-runtime",
        },
    }


def _seccomp_features() -> dict:
    try:
        from porter_runtime.seccomp import tables
    except ImportError:
        return {"enabled": False}
    return {
        "enabled": True,
        "actions": sorted(tables.ACTIONS),
        "operators": sorted(tables.OPS),
        "archs": sorted(tables.ARCHES),
        "knownFlags": sorted(tables.FLAGS),
        "supportedFlags": sorted(tables.FLAGS),
    }
