"""Where `porter-image build` takes its context and its Dockerfile from.

CONTEXT is a folder, or `-` for stdin: an archive there (a tar, plain or gzip, bzip2, xz or
zstd compressed, told by its first bytes as docker tells them) is the context, and anything
else is the Dockerfile itself, built with an empty context (`build -t L:T - < Dockerfile`).
`-f -` reads the Dockerfile from stdin, which then cannot be the context as well.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import click

from porter_image.build.errors import BuildError

STDIN = "-"


@dataclass(frozen=True)
class BuildInputs:
    root: Path  # the context folder
    text: str  # the Dockerfile
    file_path: Path | None  # where the Dockerfile was read, None for stdin
    name: str  # the Dockerfile's name in error lines
    temporary: bool = False  # the context is a folder made for this build (stdin), removed after


def read_inputs(context: str, dockerfile: str | None, scratch: contextlib.ExitStack) -> BuildInputs:
    """The context folder (unpacked into a folder of `scratch` when it comes on stdin) and
    the Dockerfile; a bad combination or a missing file is a usage error."""
    if context == STDIN and dockerfile == STDIN:
        raise click.UsageError(
            "invalid argument: can't use stdin for both build context and dockerfile"
        )
    if context == STDIN:
        return _from_stdin(dockerfile, scratch)
    root = Path(context)
    if not root.is_dir():
        raise click.BadParameter(f"{context}: not a folder", param_hint="CONTEXT")
    if dockerfile == STDIN:
        return BuildInputs(root, _text(sys.stdin.buffer), None, "Dockerfile")
    return _from_file(root, Path(dockerfile) if dockerfile else root / "Dockerfile")


def _from_stdin(dockerfile: str | None, scratch: contextlib.ExitStack) -> BuildInputs:
    import tempfile

    from porter_image.build.archive import sniff_archive
    from porter_image.build.context import BuildContext

    temp = Path(scratch.enter_context(tempfile.TemporaryDirectory(prefix="porter-build-")))
    is_archive, stream = sniff_archive(sys.stdin.buffer)
    if not is_archive:
        (temp / "context").mkdir()
        return BuildInputs(temp / "context", _text(stream), None, dockerfile or "Dockerfile", True)
    root = BuildContext.from_tar(stream, temp / "context").root
    inputs = _from_file(root, root / (dockerfile or "Dockerfile"))  # -f names a file in the tar
    return replace(inputs, temporary=True)


def _from_file(root: Path, path: Path) -> BuildInputs:
    if not path.is_file():
        raise click.BadParameter(f"{path}: no such file", param_hint="--file")
    with open(path, "rb") as src:
        return BuildInputs(root, _text(src, str(path)), path, path.name)


def _text(stream: BinaryIO, name: str = "stdin") -> str:
    try:
        return stream.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BuildError(name, f"the Dockerfile is not UTF-8 text ({exc.reason})") from exc
