"""A container's mounts: HostConfig's Binds, Mounts and Tmpfs and the image's VOLUMEs,
resolved once at create into the mount points `inspect` shows, and turned into runtime-spec
mounts at each start.

As dockerd: a Binds source that is an absolute path is a bind mount whose missing source is
created; any other source is a named volume (created on first use); `Mounts` of type bind
refuse a missing source; an image VOLUME not covered by another mount gets an anonymous volume.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Protocol

from porter_image.errors import RuntimeConfigError
from porter_image.exec_user import scoped_path
from porterd.errors import InvalidParameter

BIND_OPTIONS = ("ro", "rw", "z", "Z", "private", "rprivate", "shared", "rshared", "slave")
PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")


class Volumes(Protocol):
    def mountpoint_for(self, name: str, *, create: bool) -> Path: ...

    def create_anonymous(self) -> str: ...


def resolve_mounts(
    host_config: dict[str, Any], image_volumes: list[str], volumes: Volumes | None
) -> list[dict[str, Any]]:
    """The mount points of a new container, in inspect's shape (Type, Source, Destination...)."""
    points = [_from_bind(spec, volumes) for spec in host_config.get("Binds") or []]
    points += [_from_mount(spec, volumes) for spec in host_config.get("Mounts") or []]
    for target, options in (host_config.get("Tmpfs") or {}).items():
        points.append(_point("tmpfs", "", _absolute(target), True, options=options or ""))
    taken = {point["Destination"] for point in points}
    if len(taken) != len(points):
        raise InvalidParameter("Duplicate mount point: a destination is mounted twice")
    for target in image_volumes:
        if target not in taken:
            points.append(_volume_point(_anonymous(volumes), _absolute(target), True, volumes))
    return points


def _from_bind(spec: str, volumes: Volumes | None) -> dict[str, Any]:
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise InvalidParameter(f"invalid volume specification: '{spec}'")
    source, target = parts[0], _absolute(parts[1])
    mode = parts[2] if len(parts) == 3 else ""
    flags = [flag for flag in mode.split(",") if flag]
    if any(flag not in BIND_OPTIONS for flag in flags):
        raise InvalidParameter(f"invalid mode: {mode}")
    writable = "ro" not in flags
    propagation = next((flag for flag in flags if flag in PROPAGATIONS), "rprivate")
    if source.startswith("/"):
        os.makedirs(source, exist_ok=True)  # dockerd's legacy Binds behaviour
        return _point("bind", source, target, writable, mode=mode, propagation=propagation)
    if volumes is None:
        raise InvalidParameter(f"named volume {source!r}: this porterd has no volume service")
    return _volume_point(source, target, writable, volumes, mode=mode)


def _from_mount(spec: dict[str, Any], volumes: Volumes | None) -> dict[str, Any]:
    kind = spec.get("Type") or "volume"
    target = spec.get("Target") or ""
    if not target:
        raise InvalidParameter(
            f'invalid mount config for type "{kind}": field Target must not be empty'
        )
    target = _absolute(target)
    writable = not spec.get("ReadOnly")
    source = spec.get("Source") or ""
    if kind == "bind":
        if not source.startswith("/"):
            raise InvalidParameter(
                f'invalid mount config for type "bind": invalid mount path: {source!r}'
                " mount path must be absolute"
            )
        if not os.path.exists(source):
            raise InvalidParameter(
                f'invalid mount config for type "bind": bind source path does not exist: {source}'
            )
        propagation = (spec.get("BindOptions") or {}).get("Propagation") or "rprivate"
        return _point("bind", source, target, writable, propagation=propagation)
    if kind == "volume":
        if volumes is None:
            raise InvalidParameter("volume mounts: this porterd has no volume service")
        return _volume_point(source or _anonymous(volumes), target, writable, volumes)
    if kind == "tmpfs":
        if source:
            raise InvalidParameter(
                'invalid mount config for type "tmpfs": field Source must not be specified'
            )
        return _point(
            "tmpfs", "", target, writable, options=_tmpfs_options(spec.get("TmpfsOptions") or {})
        )
    raise InvalidParameter(f"mount type unknown: {kind!r}")


def _tmpfs_options(options: dict[str, Any]) -> str:
    parts = []
    if options.get("SizeBytes"):
        parts.append(f"size={int(options['SizeBytes'])}")
    if options.get("Mode"):
        parts.append(f"mode={int(options['Mode']):o}")
    return ",".join(parts)


def _anonymous(volumes: Volumes | None) -> str:
    if volumes is None:
        return ""  # an image VOLUME without a volume service: a tmpfs, as porter-image unpack does
    return volumes.create_anonymous()


def _volume_point(
    name: str, target: str, writable: bool, volumes: Volumes | None, mode: str = ""
) -> dict[str, Any]:
    if not name or volumes is None:
        return _point("tmpfs", "", target, writable)
    source = str(volumes.mountpoint_for(name, create=True))
    point = _point("volume", source, target, writable, mode=mode)
    return {**point, "Name": name, "Driver": "local"}


def _point(
    kind: str,
    source: str,
    target: str,
    writable: bool,
    *,
    mode: str = "",
    propagation: str = "",
    options: str = "",
) -> dict[str, Any]:
    point: dict[str, Any] = {
        "Type": kind,
        "Source": source,
        "Destination": target,
        "Mode": mode,
        "RW": writable,
        "Propagation": propagation,
    }
    if options:
        point["Options"] = options
    return point


def _absolute(target: str) -> str:
    if not target.startswith("/"):
        raise InvalidParameter(f"invalid mount config: mount path must be absolute: {target}")
    return os.path.normpath(target)


def oci_mounts(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runtime-spec mounts of `points`, in order."""
    mounts = []
    for point in points:
        readonly = [] if point["RW"] else ["ro"]
        if point["Type"] == "tmpfs":
            extra = [o for o in (point.get("Options") or "").split(",") if o]
            options = ["nosuid", "nodev", "noexec", *extra, *readonly]
            mounts.append(
                {
                    "destination": point["Destination"],
                    "type": "tmpfs",
                    "source": "tmpfs",
                    "options": options,
                }
            )
            continue
        options = ["rbind", point.get("Propagation") or "rprivate", *readonly]
        mounts.append(
            {
                "destination": point["Destination"],
                "type": "bind",
                "source": point["Source"],
                "options": options,
            }
        )
    return mounts


def populate_volumes(points: list[dict[str, Any]], rootfs: Path) -> None:
    """Copy what the image holds at a volume's destination into the volume while the volume
    is empty (its first use), owners and modes kept, as dockerd does."""
    for point in points:
        source = Path(point.get("Source") or "")
        if point["Type"] != "volume" or not source.is_dir() or any(source.iterdir()):
            continue
        try:
            inside = scoped_path(rootfs, point["Destination"])
        except RuntimeConfigError:
            continue
        if inside.is_dir() and not inside.is_symlink() and any(inside.iterdir()):
            subprocess.run(["cp", "-a", f"{inside}/.", str(source)], check=True, timeout=600)
