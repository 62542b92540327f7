"""The container of a RUN step that missed the cache: its runtime config (the image's Env,
User and WorkingDir with the build's ARGs, the step's `--mount`s), the run through the OCI
runtime's command line, and the cleanup of what the runtime made for its mounts.

The container gets the host's network unless `--network none` (or `RUN --network=none`), and
the step's `--mount`s: `type=cache` (a folder kept with the layout between builds, never in a
layer), `type=bind` (the context, or an earlier stage with `from=`, read-only unless `rw`)
and `type=tmpfs`. Paths the runtime had to create for its mounts are removed again before the
upper folder is read, so they never reach the layer. Whatever happens, including Ctrl-C, the
container is deleted (its cgroup with it) and the mounts are undone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from porter_specs.models import ImageConfig

from porter_image.build.errors import RunFailedError
from porter_image.dockerfile import instructions as ins
from porter_image.dockerfile.lines import Heredoc
from porter_image.errors import RuntimeConfigError
from porter_image.exec_user import scoped_path

if TYPE_CHECKING:
    from porter_specs.runtime_config import Mount, RuntimeConfig

    from porter_image.build.rootfs import StepRootfs
    from porter_image.build.steps import StageRunner


def run_container(
    runner: StageRunner,
    step: StepRootfs,
    run: ins.Run,
    argv: list[str],
    arg_env: list[str],
    network: str,
    script: Heredoc | None,
) -> list[str]:
    """Run the step's command in `step`'s rootfs with the step's mounts (and `script` bound
    as the file argv names); the paths made for its mounts, removed again, are returned."""
    from porter_image.build.session_mounts import SESSION_TYPES, session_mounts

    with contextlib.ExitStack() as stack:
        extra = [_mount(runner, stack, m) for m in run.mounts if m.type not in SESSION_TYPES]
        session = session_mounts(runner, stack, run.mounts)
        extra += session.mounts
        if script is not None:
            extra.append(_script_mount(runner, script, argv[0]))
        env = [*arg_env, *session.env]
        return _run_container(runner, step, argv, env, network, extra, session.folder)


def _script_mount(runner: StageRunner, script: Heredoc, target: str) -> Mount:
    """The heredoc as an executable file, bound read-only at `target` under /dev (never in a
    layer)."""
    from porter_specs.runtime_config import Mount

    path = runner.builder.workspace / f"script-{uuid.uuid4().hex[:12]}"
    path.write_text(script.content)
    path.chmod(0o755)
    return Mount(target, "bind", str(path), ("rbind", "ro"))


def _mount(runner: StageRunner, stack: contextlib.ExitStack, mount: ins.Mount) -> Mount:
    from porter_specs.runtime_config import Mount

    from porter_image.build.session_mounts import mount_ownership

    target = mount.get("target") or mount.get("dst") or mount.get("destination")
    target = os.path.join(runner.state.runtime.get("WorkingDir") or "/", runner.expand(target))
    readonly = mount.get("ro", mount.get("readonly", "")) in ("true", "1")
    if mount.type == "tmpfs":
        return Mount(target, "tmpfs", "tmpfs", ("nosuid", "nodev"))
    if mount.type == "cache":
        ident = runner.expand(mount.get("id") or target)
        folder = runner.builder.root / "cache-mounts" / hashlib.sha256(ident.encode()).hexdigest()
        folder.mkdir(parents=True, exist_ok=True)
        mode, uid, gid = mount_ownership(runner, mount, "0755")
        if mount.get("mode"):
            os.chmod(folder, mode)
        if mount.get("uid") or mount.get("gid"):
            os.chown(folder, uid, gid)
        return Mount(target, "bind", str(folder), ("rbind", "ro" if readonly else "rw"))
    if mount.type != "bind":
        raise runner.fail(f"--mount type={mount.type} is not supported by this builder")
    from porter_image.build.copy_step import other_stage
    from porter_image.build.rootfs import StepRootfs

    source = runner.expand(mount.get("source") or mount.get("src") or "/")
    from_name = runner.expand(mount.get("from"))
    writable = mount.get("rw", mount.get("readwrite", "")) in ("true", "1")
    workspace = runner.builder.workspace
    if from_name:
        # an overlay of the stage: what the step writes there is discarded with it
        lowerdirs = runner.lowerdirs(other_stage(runner, from_name))
        host = scoped_path(stack.enter_context(StepRootfs(workspace, lowerdirs)).rootfs, source)
    else:
        (found,) = runner.builder.context.resolve(source, runner.where)[:1]
        host = found.path
        if writable and found.is_dir:  # never write into the user's context
            host = stack.enter_context(StepRootfs(workspace, [found.path])).rootfs
        elif writable:
            raise runner.fail(f"--mount {source}: a writable bind of a file is not supported")
    return Mount(target, "bind", str(host), ("rbind", "rw" if writable else "ro"))


def _process_config(
    runner: StageRunner, step: StepRootfs, argv: list[str], arg_env: list[str]
) -> RuntimeConfig:
    from porter_image.convert import merged_env, runtime_config
    from porter_image.runtime_defaults import docker_capabilities

    image = ImageConfig.from_json(runner.state.config)
    image = replace(image, config=replace(image.config, volumes=()))
    try:
        config = runtime_config(image, step.rootfs)
    except RuntimeConfigError as exc:
        raise runner.fail(str(exc)) from exc
    assert config.process is not None
    env = merged_env(config.process.env, tuple(arg_env))
    process = replace(
        config.process,
        args=tuple(argv),
        env=env,
        terminal=False,
        capabilities=docker_capabilities(),
        no_new_privileges=False,
    )
    return replace(config, process=process, root=replace(config.root, path=str(step.rootfs)))


def _run_container(
    runner: StageRunner,
    step: StepRootfs,
    argv: list[str],
    arg_env: list[str],
    network: str,
    extra: list[Mount],
    bundle: Path | None,
) -> list[str]:
    """Run the step's container, its config.json in `bundle` (default: the step's folder);
    the paths made for its mounts, removed again, are returned."""
    from porter_specs.runtime_config import Mount

    config = _process_config(runner, step, argv, arg_env)
    assert config.linux is not None and config.process is not None
    mounts = list(config.mounts)
    if network == "host":
        namespaces = tuple(ns for ns in config.linux.namespaces if ns.type != "network")
        config = replace(config, linux=replace(config.linux, namespaces=namespaces))
        for name in ("/etc/resolv.conf", "/etc/hosts"):
            if os.path.isfile(name):
                mounts.append(Mount(name, "bind", name, ("rbind", "ro")))
    elif network != "none":
        raise runner.fail(f"network mode {network!r} is not supported (use host or none)")
    mounts += extra
    config = replace(config, mounts=tuple(mounts))
    created = _missing_paths(step.rootfs, [config.process.cwd, *(m.destination for m in mounts)])
    scoped_path(step.rootfs, config.process.cwd).mkdir(parents=True, exist_ok=True)
    from porter_image.convert import write_runtime_config

    bundle = bundle or step.folder
    write_runtime_config(bundle, config)
    runtime = runner.builder.options.runtime
    output = runner.builder.options.output
    output = sys.stderr.fileno() if output is None else output
    state_root = runner.builder.workspace / "runtime"
    ident = f"porter-build-{uuid.uuid4().hex[:12]}"
    base = [runtime, "--root", str(state_root)]
    try:
        status = subprocess.run(
            [*base, "run", "--bundle", str(bundle), ident],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            check=False,
        ).returncode
    except OSError as exc:
        raise runner.fail(f"cannot start the runtime {runtime}: {exc.strerror}") from exc
    finally:
        subprocess.run(
            [*base, "delete", "--force", ident],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    _remove_created(step.rootfs, created, keep=config.process.cwd)
    if status != 0:
        raise RunFailedError(runner.where, " ".join(argv), status)
    return created


def _missing_paths(rootfs: Path, paths: list[str]) -> list[str]:
    """The paths (and their parents) that do not exist in the rootfs yet, deepest first."""
    missing: set[str] = set()
    for path in paths:
        current = os.path.normpath(path)
        while current not in ("/", "") and not os.path.lexists(scoped_path(rootfs, current)):
            missing.add(current)
            current = os.path.dirname(current)
    return sorted(missing, key=lambda p: -p.count("/"))


def _remove_created(rootfs: Path, created: list[str], keep: str) -> None:
    keep_chain = set()
    current = os.path.normpath(keep)
    while current not in ("/", ""):
        keep_chain.add(current)
        current = os.path.dirname(current)
    for path in created:
        if path in keep_chain:
            continue
        host = scoped_path(rootfs, path)
        with contextlib.suppress(OSError):
            if host.is_dir() and not host.is_symlink():
                host.rmdir()  # only when the command left it empty
            elif host.is_file() and host.stat().st_size == 0:
                host.unlink()


def prune_copied_up(step: StepRootfs, folders: set[str]) -> None:
    """Drop folders that overlay copied up only because a mount point was made in them: empty
    in the upper folder, not opaque, and with the owner and mode they have below."""
    for folder in sorted(folders, key=lambda p: -p.count("/")):
        upper = step.upper / folder.lstrip("/")
        if folder in ("/", "") or not upper.is_dir() or upper.is_symlink() or any(upper.iterdir()):
            continue
        lower = next(
            (d / folder.lstrip("/") for d in step.lowerdirs if (d / folder.lstrip("/")).exists()),
            None,
        )
        if lower is None:
            continue
        up, low = upper.lstat(), lower.lstat()
        opaque = "trusted.overlay.opaque" in os.listxattr(upper, follow_symlinks=False)
        if not opaque and (up.st_mode, up.st_uid, up.st_gid) == (
            low.st_mode,
            low.st_uid,
            low.st_gid,
        ):
            upper.rmdir()
