"""The `RUN --mount`s of what the build was given rather than what it built: `type=secret`
and `type=ssh` (BuildKit's session mounts), shown to one RUN and never to a layer.

A secret's bytes are written into a private folder on a tmpfs (/dev/shm when there is one)
with the mount's mode (default 0400), uid and gid (default 0), and that file is bound
read-only at the target (default /run/secrets/ID). `env=NAME` sets NAME to the secret in the
RUN's environment too, or instead when no target is given; the RUN's bundle, whose
config.json holds that environment, is made in the same private folder. An ssh mount binds
a socket that forwards to the agent given with `--ssh` (see ssh_forward) at the target
(default /run/buildkit/ssh_agent.N, N counting the RUN's ssh mounts) and sets SSH_AUTH_SOCK
to the first one unless the image's Env has it. The folder goes when the RUN ends.

A mount whose secret or ssh id the build was not given is left out, unless it says
`required=true`: then the step fails with one line saying what to pass.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from porter_image.dockerfile import instructions as ins

if TYPE_CHECKING:
    from porter_specs.runtime_config import Mount

    from porter_image.build.steps import StageRunner

SESSION_TYPES = frozenset({"secret", "ssh"})
TRUE = frozenset({"1", "t", "true"})  # Go's strconv.ParseBool, as BuildKit reads it


@dataclass
class SessionMounts:
    mounts: list[Mount] = field(default_factory=list)
    env: list[str] = field(default_factory=list)  # NAME=VALUE the RUN's process gets
    # the private folder, when there are session mounts: the RUN's bundle goes there too, as
    # its config.json holds the env= secrets, which must not be written to the layout's disk
    folder: Path | None = None


def private_folder(stack: contextlib.ExitStack) -> Path:
    """A folder only root can enter, on a tmpfs when the host has /dev/shm, removed when
    `stack` closes."""
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK | os.X_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="porter-build-", dir=shm))
    stack.callback(shutil.rmtree, folder, ignore_errors=True)
    return folder


def session_mounts(
    runner: StageRunner, stack: contextlib.ExitStack, mounts: tuple[ins.Mount, ...]
) -> SessionMounts:
    """The secret and ssh mounts of a RUN, set up until `stack` closes."""
    result = SessionMounts()
    wanted = [mount for mount in mounts if mount.type in SESSION_TYPES]
    if not wanted:
        return result
    folder = result.folder = private_folder(stack)
    for index, mount in enumerate(m for m in wanted if m.type == "secret"):
        _secret(runner, folder / f"secret-{index}", mount, result)
    ssh_socket = ""
    for index, mount in enumerate(m for m in wanted if m.type == "ssh"):
        target = _ssh(runner, stack, folder / f"ssh-{index}.sock", mount, index, result)
        ssh_socket = ssh_socket or target
    image_env = {entry.partition("=")[0] for entry in runner.state.env}
    if ssh_socket and "SSH_AUTH_SOCK" not in image_env:
        result.env.append(f"SSH_AUTH_SOCK={ssh_socket}")
    return result


def _target(runner: StageRunner, mount: ins.Mount, default: str) -> str:
    target = runner.expand(mount.get("target") or mount.get("dst") or mount.get("destination"))
    if not target:
        return default
    return posixpath.join(runner.state.runtime.get("WorkingDir") or "/", target)


MAX_ID = (1 << 32) - 2  # 2**32 - 1 is chown's "leave it as it is"


def mount_ownership(runner: StageRunner, mount: ins.Mount, mode: str) -> tuple[int, int, int]:
    """The mount's (mode, uid, gid): octal mode, numeric ids in the range chown takes (one
    out of it is an error line, as BuildKit has it, rather than chown's OverflowError)."""
    try:
        found = (
            int(mount.get("mode") or mode, 8),
            int(mount.get("uid") or 0),
            int(mount.get("gid") or 0),
        )
    except ValueError:
        found = (-1, -1, -1)
    if found[0] < 0 or not (0 <= found[1] <= MAX_ID and 0 <= found[2] <= MAX_ID):
        raise runner.fail(f"--mount type={mount.type}: invalid mode, uid or gid")
    return found


def _missing(runner: StageRunner, mount: ins.Mount, what: str, flag: str) -> None:
    """A mount of something the build was not given: an error when it is required."""
    if mount.get("required").lower() in TRUE:
        raise runner.fail(f"{what} is required but was not given to the build ({flag})")


def _secret(runner: StageRunner, path: Path, mount: ins.Mount, result: SessionMounts) -> None:
    from porter_specs.runtime_config import Mount

    env_name = runner.expand(mount.get("env"))
    ident = runner.expand(mount.get("id"))
    explicit = mount.get("target") or mount.get("dst") or mount.get("destination")
    ident = ident or posixpath.basename(runner.expand(explicit))
    if not ident:
        raise runner.fail("--mount type=secret needs an id= or a target=")
    source = runner.builder.options.secrets.get(ident)
    if source is None:
        _missing(runner, mount, f"secret {ident!r}", f"--secret id={ident},src=PATH")
        return
    try:
        value = source.read()
    except ValueError as exc:
        raise runner.fail(str(exc)) from exc
    if env_name:
        try:
            result.env.append(f"{env_name}={value.decode()}")
        except UnicodeDecodeError as exc:
            raise runner.fail(f"secret {ident!r} is not UTF-8 text, as env= needs") from exc
        if not explicit:
            return
    mode, uid, gid = mount_ownership(runner, mount, "0400")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value)
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    target = _target(runner, mount, f"/run/secrets/{ident}")
    result.mounts.append(Mount(target, "bind", str(path), ("rbind", "ro", "nosuid", "nodev")))


def _ssh(
    runner: StageRunner,
    stack: contextlib.ExitStack,
    path: Path,
    mount: ins.Mount,
    index: int,
    result: SessionMounts,
) -> str:
    """Bind a forwarder to the agent of the mount's id; its target, or "" when left out."""
    from porter_specs.runtime_config import Mount

    from porter_image.build.ssh_forward import AgentError, forward_agent

    ident = runner.expand(mount.get("id")) or "default"
    paths = runner.builder.options.ssh.get(ident)
    if not paths:
        _missing(runner, mount, f"ssh agent {ident!r}", f"--ssh {ident}[=SOCKET|KEY]")
        return ""
    mode, uid, gid = mount_ownership(runner, mount, "0600")
    try:
        stack.enter_context(forward_agent(paths, path, path.parent))
    except (OSError, AgentError) as exc:
        raise runner.fail(f"ssh agent {ident!r}: {exc}") from exc
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    target = _target(runner, mount, f"/run/buildkit/ssh_agent.{index}")
    result.mounts.append(Mount(target, "bind", str(path), ("rbind", "nosuid", "nodev")))
    return target
