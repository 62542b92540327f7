"""RUN as a build step: its argv, the ARGs it sees and its cache key; on a cache miss the
command runs through the OCI runtime (`run_container`) on an overlay of the parent's
snapshots, and the overlay's upper folder becomes the layer.

The key is the parent's key, the command after substitution (with the ARGs it sees, as
Docker's history shows them), the network, the `--mount`s and the content of the bind mounts
(the context's files there, or the other stage's key). A cached step therefore never loads
the container code (the runtime config, subprocess).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from porter_image.build.cache import step_key
from porter_image.build.state import StageState
from porter_image.dockerfile import instructions as ins
from porter_image.dockerfile.lines import Heredoc, heredoc_markers

if TYPE_CHECKING:
    from porter_image.build.rootfs import StepRootfs
    from porter_image.build.steps import StageRunner

# the predefined proxy ARGs: given with --build-arg, a RUN sees them without an ARG, and
# (unless an ARG declares them) they stay out of the history and the cache key, as Docker has it
PROXY_ARGS = frozenset(
    name
    for base in ("HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY")
    for name in (base, base.lower())
)


SCRIPTS = "/dev/pipes"  # where BuildKit puts the file of a `RUN <<EOF` script with a `#!`


def script_heredoc(run: ins.Run) -> Heredoc | None:
    """The heredoc of a `RUN <<EOF` whose body is the whole command, if there is one."""
    if not isinstance(run.command, ins.ShellForm) or not run.heredocs:
        return None
    markers = heredoc_markers(run.command.text)
    if len(markers) == 1 and run.command.text.strip() == markers[0].group(0):
        return run.heredocs[0]
    return None


def run_argv(run: ins.Run, shell: tuple[str, ...]) -> list[str]:
    """The argv of a RUN: exec form as is; shell form (with its heredocs) through SHELL; a
    `RUN <<EOF` body is the script, run as a file of its own when it starts with `#!`."""
    if isinstance(run.command, ins.ExecForm):
        return list(run.command.args)
    script = script_heredoc(run)
    if script is not None:
        if script.content.startswith("#!"):
            return [f"{SCRIPTS}/{script.name}"]
        return [*shell, script.content]
    text = run.command.text
    for doc in run.heredocs:
        text += "\n" + doc.content + doc.name
    return [*shell, text]


def build_arg_env(state: StageState) -> list[str]:
    """The ARGs in scope that ENV does not set, as a RUN sees them (and its history shows)."""
    env_names = {entry.partition("=")[0] for entry in state.env}
    return [f"{k}={v}" for k, v in sorted(state.args.items()) if k not in env_names]


def proxy_env(state: StageState, build_args: dict[str, str]) -> list[str]:
    """The predefined proxy ARGs given with --build-arg that no ARG of the stage declared
    and ENV does not set: in the RUN's environment only."""
    taken = {entry.partition("=")[0] for entry in state.env} | set(state.args)
    names = sorted(PROXY_ARGS.intersection(build_args) - taken)
    return [f"{name}={build_args[name]}" for name in names]


def run_step(runner: StageRunner, run: ins.Run) -> None:
    state = runner.state
    argv = run_argv(run, state.shell)
    arg_env = build_arg_env(state)
    run_env = arg_env + proxy_env(state, runner.builder.options.build_args)
    network = run.network or runner.builder.options.network
    if network == "default":
        network = runner.builder.options.network
    if run.security and run.security != "sandbox":
        raise runner.fail(f"--security={run.security} is not supported by this builder")
    prefix = f"|{len(arg_env)} {' '.join(arg_env)} " if arg_env else ""
    created_by = "RUN " + prefix + " ".join(argv)
    script = script_heredoc(run)
    if script is not None and script.content.startswith("#!"):
        created_by += "\n" + script.content  # the file's content is part of the step and key
    mounts = [tuple(sorted(m.options)) for m in run.mounts]
    sources = [_bind_content(runner, m) for m in run.mounts if m.type == "bind"]
    key = step_key(state.key, created_by, network, json.dumps(mounts), *sources)

    created: list[str] = []

    def action(step: StepRootfs) -> None:
        from porter_image.build.run_container import run_container

        script_file = script if argv[0].startswith(SCRIPTS + "/") else None
        created.extend(run_container(runner, step, run, argv, run_env, network, script_file))

    def prune(step: StepRootfs) -> None:
        from porter_image.build.run_container import prune_copied_up

        prune_copied_up(step, {os.path.dirname(path) for path in created})

    runner.filesystem_step(key, created_by, action, after_unmount=prune)


def _bind_content(runner: StageRunner, mount: ins.Mount) -> str:
    """What a bind mount shows, for the cache key: the other stage's key, or a digest of the
    context's files there (BuildKit keys a RUN on the content of its bind mounts)."""
    from porter_image.build.copy_step import other_stage

    from_name = runner.expand(mount.get("from"))
    if from_name:
        return other_stage(runner, from_name).key
    source = runner.expand(mount.get("source") or mount.get("src") or "/")
    context = runner.builder.context
    return context.digest(context.resolve(source, runner.where), runner.builder.file_digests)
