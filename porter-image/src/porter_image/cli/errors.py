"""The one place where porter-image's errors become a message line and an exit code.

  0  success
  1  any other error (bad input, I/O failure)
  2  usage error (click)
  3  not found: an unknown tag or a missing blob
  4  integrity: a digest or size mismatch, or problems found by fsck/validate
  5  a layer was refused (hostile entries, corrupt or truncated compression)
130  interrupted
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click
from porter_specs.errors import DigestMismatchError, PorterError, SizeMismatchError

from porter_image.errors import BlobNotFoundError, ProblemsFoundError, TagNotFoundError
from porter_image.layer.errors import LayerError

PROG = "porter-image"

EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (TagNotFoundError, 3),
    (BlobNotFoundError, 3),
    (DigestMismatchError, 4),
    (SizeMismatchError, 4),
    (ProblemsFoundError, 4),
    (LayerError, 5),
    (PorterError, 1),
    (OSError, 1),
)


def exit_code(error: BaseException) -> int:
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return 1


def message(error: BaseException) -> str:
    """The one line a user sees."""
    if isinstance(error, OSError) and error.strerror:
        where = error.filename if error.filename is not None else ""
        return f"{where}: {error.strerror}" if where else error.strerror
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def fail(error: BaseException) -> NoReturn:
    click.echo(f"{PROG}: error: {message(error)}", err=True)
    sys.exit(exit_code(error))


class ErrorMappingGroup(click.Group):
    """A click group that turns Porter's errors into one line and the exit codes above."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (PorterError, OSError) as error:
            fail(error)
        except KeyboardInterrupt:
            click.echo(f"{PROG}: interrupted", err=True)
            sys.exit(130)
