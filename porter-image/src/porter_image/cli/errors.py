"""The one place where porter-image's errors become a message line and an exit code.

  0  success
  1  any other error (bad input, I/O failure)
  2  usage error: a bad option or argument, an unknown command (one line, naming the
     --help to read)
  3  not found: an unknown tag or a missing blob (in a layout or a registry)
  4  integrity: a digest or size mismatch, or problems found by fsck/validate
  5  a layer was refused (hostile entries, corrupt or truncated compression)
130  interrupted
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click
from click.exceptions import NoArgsIsHelpError
from porter_specs.errors import DigestMismatchError, PorterError, SizeMismatchError

from porter_image.distribution.errors import RegistryNotFoundError
from porter_image.errors import BlobNotFoundError, ProblemsFoundError, TagNotFoundError
from porter_image.layer.errors import LayerError

PROG = "porter-image"
USAGE_EXIT = 2
INTERRUPTED_EXIT = 130

EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (TagNotFoundError, 3),
    (BlobNotFoundError, 3),
    (RegistryNotFoundError, 3),
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


def usage_message(error: click.UsageError) -> str:
    """click's message as one line, pointing at the --help of the command it is about.

    click's own rendering is a usage block, a "Try ... --help" line and the message; a
    script reading stderr wants one line, like the rest of porter-image's errors.
    """
    text = " ".join(error.format_message().split()).rstrip(".")
    if text[:1].isupper() and text[1:2].islower():
        text = text[0].lower() + text[1:]
    command = error.ctx.command_path if error.ctx is not None else PROG
    return f"{text} (see '{command} --help')"


def usage_fail(error: click.UsageError) -> NoReturn:
    click.echo(f"{PROG}: error: {usage_message(error)}", err=True)
    sys.exit(USAGE_EXIT)


class ErrorMappingGroup(click.Group):
    """A click group that turns every error into one line and the exit codes above.

    Usage errors surface in two places: parsing the group's own options (`make_context`)
    and everything after it, the subcommand's lookup, parsing and run (`invoke`).
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except NoArgsIsHelpError:
            raise  # bare `porter-image`: click prints the help, which is what was asked for
        except click.UsageError as error:
            usage_fail(error)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            usage_fail(error)
        except (PorterError, OSError) as error:
            fail(error)
        except KeyboardInterrupt:
            click.echo(f"{PROG}: interrupted", err=True)
            sys.exit(INTERRUPTED_EXIT)
