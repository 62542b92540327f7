"""COPY and ADD as build steps: sources, the cache key from their content, the copy itself.

Sources come from the build context, from an earlier stage or an image (`--from`), from
heredocs (`COPY <<EOF /path`), or for ADD from a URL or a git repository; ADD unpacks a local
tar. The cache key is the parent's key, the instruction after substitution and a digest of
what the sources hold (for `--from`, the other stage's own key stands for its content; for a
repository, the commit its ref names now).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from porter_image.build.cache import step_key
from porter_image.build.context import _MAGIC, BuildContext, Source
from porter_image.build.errors import BuildError
from porter_image.dockerfile import instructions as ins
from porter_image.dockerfile.errors import IgnorePatternError
from porter_image.dockerfile.ignore import IgnoreRules, compile_glob, compile_patterns
from porter_image.errors import RuntimeConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from porter_image.build.copier import CopyOptions
    from porter_image.build.fetch import Download
    from porter_image.build.git_source import GitSource, Resolved
    from porter_image.build.rootfs import StepRootfs
    from porter_image.build.state import StageState
    from porter_image.build.steps import StageRunner

_HEREDOC_SOURCE = re.compile(r"^<<-?(['\"]?)([A-Za-z0-9_.\-]+)\1$")
_WILDCARD = re.compile(r"[*?\[]")


def owner_of(runner: StageRunner, chown: str, rootfs: Path) -> tuple[int, int]:
    """uid and gid of a `--chown` (or USER) spec: ids as given, names from the rootfs's
    /etc/passwd and /etc/group; 0:0 when empty."""
    if not chown:
        return (0, 0)
    user, _, group = chown.partition(":")
    if user.isdigit() and (not group or group.isdigit()):
        return int(user), int(group or user)
    from porter_image.exec_user import resolve_user

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
def _source_context(runner: StageRunner, plan: _Plan) -> Iterator[BuildContext]:
    if plan.other is None:
        yield plan.context(runner.builder.context)
        return
    from porter_image.build.rootfs import StepRootfs

    with StepRootfs(runner.builder.workspace, runner.lowerdirs(plan.other)) as view:
        yield plan.context(BuildContext(view.rootfs, scoped=True))


@dataclass
class _Plan:
    """What one COPY/ADD will do, with every word expanded and every source found."""

    dest: str
    chown: str
    chmod_text: str
    chmod: int | None
    from_name: str = ""
    other: StageState | None = None
    inline: list[tuple[str, bytes]] = field(default_factory=list)  # heredocs: name, body
    patterns: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    downloads: list[Download] = field(default_factory=list)
    excludes: tuple[str, ...] = ()  # --exclude patterns, as .dockerignore lines
    parents: bool = False  # --parents: sources keep their folders below the `/./` pivot
    repositories: list[tuple[GitSource, Resolved]] = field(default_factory=list)
    keep_git_dir: bool = False

    def context(self, base: BuildContext) -> BuildContext:
        """`base` seen through this step's --exclude patterns too."""
        if not self.excludes:
            return base
        excludes = IgnoreRules(compile_patterns(list(self.excludes)))
        return BuildContext(base.root, base.ignore, base.scoped, excludes)

    @property
    def many(self) -> bool:
        count = len(self.inline) + len(self.urls) + len(self.patterns) + len(self.repositories)
        return count > 1 or any(_WILDCARD.search(p) for p in self.patterns)

    def created_by(self, keyword: str) -> str:
        flags = ["--parents"] * self.parents
        flags += [f"--from={self.from_name}"] * bool(self.from_name)
        flags += [f"--chown={self.chown}"] * bool(self.chown)
        flags += [f"--chmod={self.chmod_text}"] * bool(self.chmod_text)
        flags += [f"--exclude={pattern}" for pattern in self.excludes]
        words = [*flags, *(n for n, _ in self.inline), *(g.word for g, _ in self.repositories)]
        words += [*self.urls, *self.patterns, self.dest]
        return f"{keyword} " + " ".join(words)


def _plan(runner: StageRunner, copy: ins.Copy) -> _Plan:
    dest_word = runner.expand(copy.dest)
    dest = posixpath.join(runner.state.runtime.get("WorkingDir") or "/", dest_word)
    if dest_word.endswith("/") and not dest.endswith("/"):
        dest += "/"
    chmod_text = runner.expand(copy.chmod)
    plan = _Plan(dest, runner.expand(copy.chown), chmod_text, _chmod(runner, chmod_text))
    plan.parents, plan.keep_git_dir = copy.parents, copy.keep_git_dir
    plan.excludes = tuple(runner.expand(pattern) for pattern in copy.excludes)
    heredocs = iter(copy.heredocs)
    for word in copy.sources:
        if _HEREDOC_SOURCE.match(word):
            doc = next(heredocs)
            plan.inline.append((doc.name, runner.expand_heredoc(doc).encode()))
            continue
        expanded = runner.expand(word)
        if _git_source(runner, plan, copy, expanded):
            continue
        is_url = copy.add and re.match(r"^https?://", expanded)
        (plan.urls if is_url else plan.patterns).append(expanded)
    if copy.checksum and (plan.patterns or plan.inline):  # BuildKit's refusal, word for word
        raise runner.fail("checksum can't be specified for non-HTTP(S) sources")
    plan.from_name = runner.expand(copy.from_) if copy.from_ else ""
    plan.other = other_stage(runner, plan.from_name) if plan.from_name else None
    if plan.urls:
        from porter_image.build.fetch import fetch_urls

        plan.downloads = fetch_urls(runner, plan.urls, copy.checksum)
    return plan


def _git_source(runner: StageRunner, plan: _Plan, copy: ins.Copy, word: str) -> bool:
    """Whether `word` names a git repository; ADD's are resolved to their commit now."""
    from porter_image.build.git_source import check_fragment, parse_git_source, resolve_commit

    source = parse_git_source(word)
    if source is None:
        return False
    if not copy.add:
        raise runner.fail(f"{word}: COPY cannot take a git repository (ADD can)")
    if copy.checksum:
        raise runner.fail("--checksum is not for a git source")
    check_fragment(source, runner.where)
    plan.repositories.append((source, resolve_commit(source, runner.where)))
    return True


def _content_digest(runner: StageRunner, plan: _Plan) -> str:
    """What the sources hold: the context's files, or for --from the other stage's key."""
    if plan.other is None:
        context = plan.context(runner.builder.context)
        resolve = _parents_sources if plan.parents else BuildContext.resolve
        sources = [s for p in plan.patterns for s in resolve(context, p, runner.where)]
        content = context.digest(sources, runner.builder.file_digests)
    else:
        content = plan.other.key + "\0" + "\0".join(plan.patterns)
    digest = hashlib.sha256(content.encode())
    for name, data in plan.inline:
        digest.update(f"\0{name}\0".encode() + data)
    for download in plan.downloads:
        digest.update(f"\0{download.url}\0{download.digest}".encode())
    for source, resolved in plan.repositories:
        keep = plan.keep_git_dir or source.keep_git_dir
        digest.update(f"\0{source.remote}\0{resolved.commit}\0{source.subdir}\0{keep}".encode())
    return digest.hexdigest()


def copy_step(runner: StageRunner, copy: ins.Copy) -> None:
    plan = _plan(runner, copy)
    created_by = plan.created_by(copy.keyword)
    key = step_key(runner.state.key, created_by, _content_digest(runner, plan))

    def action(step: StepRootfs) -> None:
        from porter_image.build.copier import CopyOptions, destination_is_folder, write_file

        options = CopyOptions(owner_of(runner, plan.chown, step.rootfs), plan.chmod)
        into = destination_is_folder(step.rootfs, plan.dest, plan.many)
        for name, data in plan.inline:
            target = posixpath.join(plan.dest, name) if into else plan.dest
            write_file(step.rootfs, target, io.BytesIO(data), options, 0o644)
        for download in plan.downloads:
            target = posixpath.join(plan.dest, download.name) if into else plan.dest
            with open(download.path, "rb") as data:
                write_file(step.rootfs, target, data, options, 0o600)
        for source, resolved in plan.repositories:
            _copy_repository(runner, plan, source, resolved, step.rootfs, options)
        if not plan.patterns:
            return
        with _source_context(runner, plan) as context:
            try:
                if plan.parents:
                    _copy_parents(runner, copy, plan, context, step.rootfs, options)
                    return
                sources = [s for p in plan.patterns for s in context.resolve(p, runner.where)]
                _copy_local(copy, context, sources, step.rootfs, plan.dest, options, into)
            except OSError as exc:
                raise BuildError(f"{copy.keyword} {plan.dest}", f"cannot copy: {exc}") from exc

    runner.filesystem_step(key, created_by, action)


def _copy_repository(
    runner: StageRunner,
    plan: _Plan,
    source: GitSource,
    resolved: Resolved,
    rootfs: Path,
    options: CopyOptions,
) -> None:
    """The repository's tree at the resolved commit into the destination folder."""
    from porter_image.build.copier import copy_sources
    from porter_image.build.git_source import checkout

    workspace = runner.builder.workspace
    keep = plan.keep_git_dir or source.keep_git_dir
    with checkout(source, resolved, keep, workspace, runner.where) as tree:
        context = plan.context(BuildContext(tree))
        try:
            copy_sources(context, [Source("", context.root)], rootfs, plan.dest, options, False)
        except OSError as exc:
            raise runner.fail(f"cannot copy {source.shown}: {exc}") from exc


def _copy_local(
    copy: ins.Copy,
    context: BuildContext,
    sources: list[Source],
    rootfs: Path,
    dest: str,
    options: CopyOptions,
    into: bool,
) -> None:
    from porter_image.build.archive import is_archive
    from porter_image.build.copier import copy_sources, extract_archive

    plain = []
    for source in sources:
        if copy.add and not context.scoped and is_archive(source.path):
            extract_archive(source.path, rootfs, dest, options.owner)
        else:
            plain.append(source)
    copy_sources(context, plain, rootfs, dest, options, into)


def _copy_parents(
    runner: StageRunner,
    copy: ins.Copy,
    plan: _Plan,
    context: BuildContext,
    rootfs: Path,
    options: CopyOptions,
) -> None:
    from porter_image.build.copier import copy_with_parents

    pairs = [pair for p in plan.patterns for pair in _below_pivot(context, p, runner.where)]
    copy_with_parents(context, pairs, rootfs, plan.dest, options, unpack=copy.add)


def _below_pivot(context: BuildContext, pattern: str, where: str) -> list[tuple[str, Source]]:
    """A `--parents` source's matches, each with its path below the pattern's first `/./`
    (the pivot) or, without one, below the context's root."""
    before, pivoted, _ = pattern.partition("/./")
    pivot = posixpath.normpath(before).lstrip("/") if pivoted else "."
    pairs = []
    for source in _parents_sources(context, pattern, where):
        below = posixpath.relpath(source.rel or ".", pivot or ".")
        if below == ".." or below.startswith("../"):
            raise BuildError(where, f"{pattern}: the path leaves the folder before its /./")
        pairs.append(("" if below == "." else below, source))
    return pairs


def _parents_sources(context: BuildContext, pattern: str, where: str) -> list[Source]:
    """A `--parents` source's matches. With `**` in it, BuildKit's include-pattern rules:
    every path below the pattern's leading plain folders that matches, `**` standing for
    any number of folders, a folder that matches taken whole (what it holds is not matched
    again); without, filepath.Match's one path segment at a time."""
    clean = posixpath.normpath(pattern).lstrip("/")
    if "**" not in clean:
        return context.resolve(pattern, where)
    segments = clean.split("/")
    plain = next(i for i, segment in enumerate(segments) if _WILDCARD.search(segment))
    base = "/".join(segments[:plain])
    try:
        regex = compile_glob(clean)
    except IgnorePatternError as exc:
        raise BuildError(where, str(exc)) from exc
    sources, taken = [], None
    for root in context.resolve(base or ".", where):
        for rel, _, _ in context.walk(root):
            name = posixpath.join(base, rel) if base else rel
            if not rel or (taken and name.startswith(taken + "/")) or not regex.match(name):
                continue
            taken = name
            # the path as a pattern that names only it, so that resolve checks it as any source
            sources += context.resolve(_MAGIC.sub(r"\\\g<0>", name), where)
    if not sources:
        raise BuildError(where, f"{pattern}: not found in the build context")
    return sources
