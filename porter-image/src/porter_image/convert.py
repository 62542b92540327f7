"""Image config to runtime config: the `config.json` that `unpack` writes beside the rootfs.

The rules are the image-spec's conversion.md, and umoci's (oci/config/convert) where the
spec leaves a choice, so a bundle from `porter-image unpack` runs as one from `umoci unpack`:

- process.args = Entrypoint + Cmd (runc spec's `sh` when both are empty); cwd = WorkingDir
  or "/"; terminal on, as `runc spec` and umoci write it.
- process.env = runc spec's PATH and TERM, each replaced by the image's variable of the same
  name, then the image's other variables in order, then HOME from /etc/passwd unless the
  image sets HOME (umoci overwrites it; the spec says an added default SHOULD NOT change a
  variable the image sets).
- process.user from the rootfs's /etc/passwd and /etc/group (`porter_image.exec_user`).
- annotations: org.opencontainers.image.{os,architecture,variant,os.version,os.features,
  author,created,stopSignal,exposedPorts} from the config, each only when it has a value;
  the image's labels win over them, as the spec requires (umoci lets the config win).
- every Volume is a tmpfs mount, as umoci does, so data never lands in the rootfs.
- the rest is `runc spec`'s defaults (`porter_image.runtime_defaults`).
"""

from __future__ import annotations

import json
from pathlib import Path

from porter_specs.models import ImageConfig
from porter_specs.runtime_config import OCI_VERSION, Mount, Process, Root, RuntimeConfig, User
from porter_specs.validate import validate

from porter_image.errors import RuntimeConfigError
from porter_image.exec_user import resolve_user
from porter_image.layout.atomic import write_file_atomic
from porter_image.runtime_defaults import (
    DEFAULT_ENV,
    HOSTNAME,
    MOUNTS,
    NOFILE,
    capabilities,
    default_linux,
    rootless,
)

CONFIG = "config.json"
ANNOTATION = "org.opencontainers.image."
VOLUME_OPTIONS = ("rw", "nosuid", "nodev", "noexec", "relatime")


def runtime_config(
    image: ImageConfig, rootfs: Path, rootless_ids: tuple[int, int] | None = None
) -> RuntimeConfig:
    """The config.json of a bundle whose root is `rootfs` (its last part becomes root.path).

    With `rootless_ids` (host uid, gid), the config is for a user namespace in which
    container root is that host user, as with `umoci unpack --rootless`.
    """
    if image.os != "linux":
        raise RuntimeConfigError(f"image for {image.os}", "only linux images convert to a bundle")
    container = image.config
    user = resolve_user(rootfs, container.user)
    env = merged_env(DEFAULT_ENV, container.env)
    if user.home and not any(entry.startswith("HOME=") for entry in container.env):
        env = merged_env(env, (f"HOME={user.home}",))
    process = Process(
        cwd=container.working_dir or "/",
        args=(*(container.entrypoint or ()), *(container.cmd or ())) or ("sh",),
        env=env,
        terminal=True,
        user=User(user.uid, user.gid, additional_gids=user.additional_gids),
        capabilities=capabilities(),
        rlimits=(NOFILE,),
        no_new_privileges=True,
    )
    volumes = tuple(Mount(v, "tmpfs", "none", VOLUME_OPTIONS) for v in container.volumes)
    config = RuntimeConfig(
        oci_version=OCI_VERSION,
        root=Root(rootfs.name),
        mounts=(*MOUNTS, *volumes),
        process=process,
        hostname=HOSTNAME,
        annotations={**image_annotations(image), **container.labels},
        linux=default_linux(),
    )
    return rootless(config, *rootless_ids) if rootless_ids is not None else config


def merged_env(base: tuple[str, ...], overrides: tuple[str, ...]) -> tuple[str, ...]:
    """`base` with each of `overrides` replacing the entry of its name, or appended."""
    env = list(base)
    for entry in overrides:
        name, sep, _ = entry.partition("=")
        if not sep or not name:
            raise RuntimeConfigError(f"image Env entry {entry!r}", "is not NAME=VALUE")
        index = next((i for i, old in enumerate(env) if old.startswith(f"{name}=")), None)
        if index is None:
            env.append(entry)
        else:
            env[index] = entry
    return tuple(env)


def image_annotations(image: ImageConfig) -> dict[str, str]:
    """The conversion.md annotations of the config's own fields, those that have a value."""
    values = {
        "os": image.os,
        "architecture": image.architecture,
        "variant": image.variant,
        "os.version": image.os_version,
        "os.features": ",".join(image.os_features),
        "author": image.author,
        "created": image.created,
        "stopSignal": image.config.stop_signal,
        "exposedPorts": ",".join(sorted(image.config.exposed_ports)),
    }
    return {ANNOTATION + key: value for key, value in values.items() if value}


def write_runtime_config(bundle: Path, config: RuntimeConfig) -> None:
    """Validate `config` against the runtime-spec schema, then write bundle/config.json."""
    document = config.to_json()
    validate(document, "runtime-config", what=str(bundle / CONFIG))
    data = json.dumps(document, indent=2).encode() + b"\n"  # people edit it: keep it readable
    write_file_atomic(bundle / CONFIG, data)
