"""COPY and ADD as build steps: sources, the cache key from their content, the copy itself.

Sources come from the build context, from an earlier stage or an image (`--from`), from
heredocs (`COPY <<EOF /path`), or for ADD from a URL; ADD unpacks a local tar. The cache key
is the parent's key, the instruction after substitution and a digest of what the sources
hold (for `--from`, the other stage's own key stands for its content).
"""

from __future__ import annotations

import contextlib
import hashlib
import posixpath
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from porter_image.build.archive import is_archive
from porter_image.build.cache import step_key
from porter_image.build.context import BuildContext, Source
from porter_image.build.copier import (
    CopyOptions,
    copy_sources,
    destination_is_folder,
    extract_archive,
    write_file,
)
from porter_image.build.errors import BuildError
from porter_image.build.rootfs import StepRootfs
from porter_image.build.state import StageState
from porter_image.dockerfile import instructions as ins
from porter_image.errors import RuntimeConfigError
from porter_image.exec_user import resolve_user

if TYPE_CHECKING:
    from pathlib import Path

    from porter_image.build.steps import StageRunner

_HEREDOC_SOURCE = re.compile(r"^<<-?(['\"]?)([A-Za-z0-9_.\-]+)\1$")
_WILDCARD = re.compile(r"[*?\[]")


def _owner(runner: StageRunner, chown: str, rootfs: Path) -> tuple[int, int]:
    if not chown:
        return (0, 0)
    user, _, group = chown.partition(":")
    if user.isdigit() and (not group or group.isdigit()):
        return int(user), int(group or user)
    try:
        resolved = resolve_user(rootfs, chown if group else user)
    except RuntimeConfigError as exc:
        raise runner.fail(f"invalid --chown={chown}: {exc}") from exc
    return resolved.uid, resolved.gid


def _chmod(runner: StageRunner, chmod: str) -> int | None:
    if not chmod:
        return None
    try:
        mode = int(chmod, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        raise runner.fail(f"invalid --chmod={chmod}: use an octal mode such as 0755")
    return mode


def other_stage(runner: StageRunner, name: str) -> StageState:
    builder = runner.builder
    earlier = builder.stage_by_name(runner.dockerfile, name, runner.stage.index)
    if earlier is not None:
        return builder.stages[earlier.index]
    if name.isdigit():
        raise runner.fail(f"--from={name}: no such stage")
    return builder.image_state(name, runner.where)


@contextlib.contextmanager
def _source_context(runner: StageRunner, other: StageState | None) -> Iterator[BuildContext]:
    if other is None:
        yield runner.builder.context
        return
    with StepRootfs(runner.builder.workspace, runner.lowerdirs(other)) as view:
        yield BuildContext(view.rootfs, scoped=True)


def copy_step(runner: StageRunner, copy: ins.Copy) -> None:
    state = runner.state
    workdir = state.runtime.get("WorkingDir") or "/"
    dest_word = runner.expand(copy.dest)
    dest = posixpath.join(workdir, dest_word)
    if dest_word.endswith("/") and not dest.endswith("/"):
        dest += "/"
    chown, chmod_text = runner.expand(copy.chown), runner.expand(copy.chmod)
    chmod = _chmod(runner, chmod_text)
    heredocs = iter(copy.heredocs)
    inline: list[tuple[str, bytes]] = []
    patterns: list[str] = []
    for word in copy.sources:
        match = _HEREDOC_SOURCE.match(word)
        if match:
            doc = next(heredocs)
            body = runner.expand_heredoc(doc)
            inline.append((doc.name, body.encode()))
        else:
            patterns.append(runner.expand(word))
    urls = [p for p in patterns if copy.add and re.match(r"^https?://", p)]
    patterns = [p for p in patterns if p not in urls]
    from_name = runner.expand(copy.from_) if copy.from_ else ""
    other = other_stage(runner, from_name) if from_name else None
    if other is None:
        sources = [s for p in patterns for s in runner.builder.context.resolve(p, runner.where)]
        content = runner.builder.context.digest(sources)
    else:
        content = other.key + "\0" + "\0".join(patterns)
    digest = hashlib.sha256(content.encode())
    for name, data in inline:
        digest.update(f"\0{name}\0".encode() + data)
    from porter_image.build.fetch import fetch_urls

    downloads = fetch_urls(runner, urls, copy.checksum)
    for url, path in downloads:
        digest.update(f"\0{url}\0".encode() + path.read_bytes())
    flags = [f"--from={from_name}"] * bool(from_name) + [f"--chown={chown}"] * bool(chown)
    flags += [f"--chmod={chmod_text}"] * bool(chmod_text)
    words = [*flags, *(n for n, _ in inline), *urls, *patterns, dest]
    created_by = f"{copy.keyword} " + " ".join(words)
    key = step_key(state.key, created_by, digest.hexdigest())
    many = len(inline) + len(urls) + len(patterns) > 1 or any(_WILDCARD.search(p) for p in patterns)

    def action(step: StepRootfs) -> None:
        options = CopyOptions(_owner(runner, chown, step.rootfs), chmod)
        into = destination_is_folder(step.rootfs, dest, many)
        for name, data in inline:
            write_file(
                step.rootfs, posixpath.join(dest, name) if into else dest, data, options, 0o644
            )
        for url, path in downloads:
            name = posixpath.basename(url.split("?")[0].rstrip("/")) or "index.html"
            target = posixpath.join(dest, name) if into else dest
            write_file(step.rootfs, target, path.read_bytes(), options, 0o600)
        if not patterns:
            return
        with _source_context(runner, other) as context:
            sources = [s for p in patterns for s in context.resolve(p, runner.where)]
            _copy_local(copy, context, sources, step.rootfs, dest, options, into)

    runner.filesystem_step(key, created_by, action)


def _copy_local(
    copy: ins.Copy,
    context: BuildContext,
    sources: list[Source],
    rootfs: Path,
    dest: str,
    options: CopyOptions,
    into: bool,
) -> None:
    plain = []
    for source in sources:
        if copy.add and not context.scoped and is_archive(source.path):
            extract_archive(source.path, rootfs, dest, options.owner)
        else:
            plain.append(source)
    try:
        copy_sources(context, plain, rootfs, dest, options, into)
    except OSError as exc:
        raise BuildError(f"{copy.keyword} {dest}", f"cannot copy: {exc}") from exc
