"""The two directions of `cp`: a tar from the container extracted safely (no entry may land
outside the destination), and a local path sent as a tar streamed while it is written."""

from __future__ import annotations

import base64
import json
import os
import posixpath
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from porter_cli.client.api import Client, path_part
from porter_cli.errors import CliError

CHUNK = 1 << 16


def path_stat(client: Client, container: str, path: str) -> dict[str, Any] | None:
    """The container path's stat (name, size, mode, mtime, linkTarget), None when missing."""
    from porter_cli.client.errors import APIError

    try:
        response = client.request(
            "HEAD", f"/containers/{path_part(container)}/archive", {"path": path}
        )
    except APIError as error:
        if error.not_found:
            return None
        raise
    response.close()
    return decode_stat(response.headers.get("X-Docker-Container-Path-Stat"))


def decode_stat(header: str | None) -> dict[str, Any]:
    if not header:
        return {}
    try:
        return dict(json.loads(base64.b64decode(header)))
    except (ValueError, TypeError):
        return {}


def is_dir_mode(mode: int) -> bool:
    return bool(mode & (1 << 31))  # Go's os.ModeDir


def copy_from(client: Client, container: str, src: str, dest: str) -> None:
    response = client.request("GET", f"/containers/{path_part(container)}/archive", {"path": src})
    with response:
        if dest == "-":
            out = sys.stdout.buffer
            while chunk := response.read1(CHUNK):
                out.write(chunk)
            out.flush()
            return
        stat = decode_stat(response.headers.get("X-Docker-Container-Path-Stat"))
        source_name = stat.get("name") or posixpath.basename(src.rstrip("/")) or "."
        target = Path(dest)
        if target.is_dir():
            into, rename = target, None
        else:
            if dest.endswith("/"):
                raise CliError(f"destination directory {dest} does not exist")
            if not target.parent.is_dir():
                raise CliError(f"destination directory {target.parent} does not exist")
            if target.exists() and is_dir_mode(int(stat.get("mode") or 0)):
                raise CliError(f"cannot copy a directory to the file {dest}")
            into, rename = target.parent, target.name
        with tarfile.open(fileobj=response.raw, mode="r|") as archive:  # type: ignore[arg-type]
            extract(archive, into, source_name, rename)


def safe_name(name: str, top: str, rename: str | None) -> str | None:
    """The entry's path below the destination (the top entry renamed), None if it would
    leave the destination."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts or name.startswith("/"):
        return None if parts else "."
    if rename is not None and parts[0] == top:
        parts[0] = rename
    return "/".join(parts)


def extract(archive: tarfile.TarFile, into: Path, top: str, rename: str | None) -> None:
    links: set[str] = set()
    for member in archive:
        name = safe_name(member.name, top, rename)
        if name is None or any(name == link or name.startswith(link + "/") for link in links):
            raise CliError(f"refusing to extract {member.name!r}: it leaves the destination")
        if member.islnk():
            link = safe_name(member.linkname, top, rename)
            if link is None:
                raise CliError(
                    f"refusing to extract {member.name!r}: its link leaves the destination"
                )
            member.linkname = link
        if member.issym():
            links.add(name)
        member.name = name
        if member.isdev():
            continue
        archive.extract(member, into, set_attrs=True, numeric_owner=True)


def copy_to(client: Client, container: str, dest: str, src: str) -> None:
    endpoint = f"/containers/{path_part(container)}/archive"
    if src == "-":
        chunks = iter(lambda: sys.stdin.buffer.read(CHUNK), b"")
        client.request("PUT", endpoint, {"path": dest}, data=chunks).close()
        return
    local = Path(src)
    if not local.exists() and not local.is_symlink():
        raise CliError(f"could not find the file {src} in the local filesystem")
    stat = path_stat(client, container, dest)
    if stat is not None and is_dir_mode(int(stat.get("mode") or 0)):
        into, name = dest, local.resolve().name if src in (".", "..") else local.name
    else:
        if stat is None and dest.endswith("/"):
            raise CliError(f"destination directory {dest} does not exist in the container")
        if stat is not None and local.is_dir():
            raise CliError(f"cannot copy a directory to the file {dest}")
        into, name = (
            posixpath.dirname(dest.rstrip("/")) or "/",
            posixpath.basename(dest.rstrip("/")),
        )
    client.request("PUT", endpoint, {"path": into}, data=tar_stream(local, name)).close()


def tar_stream(path: Path, name: str) -> Iterator[bytes]:
    """A tar of `path` stored under `name`, produced by a thread into a pipe and read here
    in chunks."""
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def write() -> None:
        try:
            with (
                os.fdopen(write_fd, "wb") as pipe,
                tarfile.open(fileobj=pipe, mode="w|", format=tarfile.PAX_FORMAT) as archive,
            ):
                archive.add(str(path), arcname=name)
        except BaseException as error:  # reported by the reading side
            failure.append(error)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    with os.fdopen(read_fd, "rb") as pipe:
        while chunk := pipe.read(CHUNK):
            yield chunk
    writer.join()
    if failure:
        raise CliError(f"cannot read {path}: {failure[0]}")
