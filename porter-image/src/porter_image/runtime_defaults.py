"""The parts of a bundle's config.json that do not come from the image: `runc spec`'s defaults.

`unpack` fills in the process, annotations and volumes from the image config
(`porter_image.convert`); everything else is `porter_specs.runtime_defaults` (what `runc spec`
writes) as models, so that a bundle from `porter-image unpack` behaves like one from
`runc spec` or `umoci unpack`. One choice of its own: no ambient capabilities.

`rootless()` turns such a config into one for a user namespace, as `umoci unpack --rootless`
does. It is not `runc spec --rootless`'s config (`porter_specs.runtime_defaults` with
rootless=True) because it rewrites a finished config, volumes and the image user's groups
included, rather than writing a fresh one, and binds /sys with type "bind" as umoci does
where runc writes "none".
"""

from __future__ import annotations

from dataclasses import replace

from porter_specs import runtime_defaults as runc
from porter_specs.runtime_config import (
    Capabilities,
    IDMapping,
    Linux,
    Mount,
    Namespace,
    Rlimit,
    RuntimeConfig,
)

HOSTNAME = runc.HOSTNAME
DEFAULT_ENV = runc.DEFAULT_ENV
NOFILE = Rlimit("RLIMIT_NOFILE", hard=runc.NOFILE_LIMIT, soft=runc.NOFILE_LIMIT)
MOUNTS = tuple(Mount.from_json(mount) for mount in runc.default_mounts())
# What a rootless container gets instead of the mounts under /sys: sysfs cannot be mounted
# in a user namespace that does not own the network namespace, so the host's is bound.
ROOTLESS_SYS = Mount("/sys", "bind", "/sys", ("rbind", "nosuid", "noexec", "nodev", "ro"))


def capabilities() -> Capabilities:
    """runc's default sets; no inheritable (CVE-2022-29162) or ambient ones."""
    caps = runc.DEFAULT_CAPABILITIES
    return Capabilities(bounding=caps, effective=caps, permitted=caps)


def default_linux() -> Linux:
    return Linux.from_json(runc.default_linux())


def rootless(config: RuntimeConfig, uid: int, gid: int) -> RuntimeConfig:
    """`config` for a user namespace where container root is host `uid`:`gid` (size 1).

    As umoci's ToRootless: a user namespace instead of a network one (an unprivileged user
    cannot configure a new one), no supplementary groups (setgroups is denied), no uid=/gid=
    mount options, the host's /sys bound read-only, and no cgroup resources.
    """
    assert config.linux is not None and config.process is not None
    namespaces = [ns for ns in config.linux.namespaces if ns.type not in ("network", "user")]
    mounts = [
        replace(m, options=tuple(o for o in m.options if not o.startswith(("uid=", "gid="))))
        for m in config.mounts
        if not m.destination.startswith("/sys")
    ]
    linux = replace(
        config.linux,
        namespaces=(*namespaces, Namespace("user")),
        uid_mappings=(IDMapping(container_id=0, host_id=uid, size=1),),
        gid_mappings=(IDMapping(container_id=0, host_id=gid, size=1),),
        resources=None,
    )
    process = replace(config.process, user=replace(config.process.user, additional_gids=()))
    return replace(config, process=process, mounts=(*mounts, ROOTLESS_SYS), linux=linux)


# dockerd's default capability set (moby oci/caps/defaults.go): what a `docker run` container
# and a Dockerfile's RUN step get, wider than `runc spec`'s three.
DOCKER_CAPABILITY_NAMES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)


def docker_capabilities() -> Capabilities:
    caps = DOCKER_CAPABILITY_NAMES
    return Capabilities(bounding=caps, effective=caps, permitted=caps)
