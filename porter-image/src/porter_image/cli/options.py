"""Options and argument types shared by several subcommands."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click
from porter_specs.errors import PorterError
from porter_specs.models import Platform

from porter_image.progress import Progress
from porter_image.ref import ImageRef, parse_ref

F = TypeVar("F", bound=Callable[..., Any])


class ImageRefType(click.ParamType):
    """`LAYOUT:TAG` (or just `LAYOUT` when the tag is optional)."""

    name = "LAYOUT:TAG"

    def __init__(self, tag_required: bool = True) -> None:
        self.tag_required = tag_required
        if not tag_required:
            self.name = "LAYOUT[:TAG]"

    def convert(self, value: Any, param: Any, ctx: Any) -> ImageRef:
        if isinstance(value, ImageRef):
            return value
        try:
            return parse_ref(value, self.tag_required)
        except PorterError as exc:
            self.fail(str(exc), param, ctx)


IMAGE = ImageRefType()
IMAGE_OPTIONAL_TAG = ImageRefType(tag_required=False)


def key_values(ctx: Any, param: Any, values: tuple[str, ...]) -> dict[str, str]:
    """Parse repeated `key=value` options into a dict."""
    result = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not key=value", ctx, param)
        result[key] = value
    return result


def platform_value(ctx: Any, param: Any, value: str | None) -> Platform | None:
    if value is None:
        return None
    try:
        return Platform.parse(value)
    except PorterError as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc


def argv_value(ctx: Any, param: Any, values: tuple[str, ...]) -> tuple[str, ...] | None:
    """Repeated `--cmd ARG` options, each one argument; a JSON array gives several at once."""
    if not values:
        return None
    result: list[str] = []
    for value in values:
        if value.startswith("["):
            try:
                parsed = json.loads(value)
            except ValueError as exc:
                raise click.BadParameter(f"{value!r} is not a JSON array: {exc}") from exc
            if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
                raise click.BadParameter(f"{value!r} is not a JSON array of strings")
            result.extend(parsed)
        else:
            result.append(value)
    return tuple(result)


def format_option(f: F) -> F:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Output for people (text) or for scripts (json).",
    )(f)


def platform_option(f: F) -> F:
    return click.option(
        "--platform",
        callback=platform_value,
        metavar="OS/ARCH[/VARIANT]",
        help="Platform to pick from a multi-platform index (default: this host's).",
    )(f)


def progress_option(f: F) -> F:
    return click.option(
        "--progress/--no-progress",
        default=None,
        help="Show progress on stderr (default: only when stderr is a terminal).",
    )(f)


def layer_options(f: F) -> F:
    """--compression, --mtime and --reproducible, for commands that write a layer."""
    f = click.option(
        "--reproducible",
        is_flag=True,
        help="Fixed timestamps: SOURCE_DATE_EPOCH if set, else 0 (the epoch).",
    )(f)
    f = click.option(
        "--mtime",
        type=int,
        metavar="EPOCH",
        help="Set every entry's mtime and the created times to EPOCH seconds "
        "(default: SOURCE_DATE_EPOCH when set, else keep mtimes and use the current time).",
    )(f)
    return click.option(
        "--compression",
        type=click.Choice(["gzip", "zstd", "none"]),
        default="gzip",
        show_default=True,
        help="Compression of the new layer.",
    )(f)


def fixed_mtime(mtime: int | None, reproducible: bool) -> int | None:
    """The mtime to use: --mtime, else SOURCE_DATE_EPOCH, else 0 with --reproducible."""
    if mtime is not None:
        return mtime
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return int(epoch)
        except ValueError:
            raise click.BadParameter(f"SOURCE_DATE_EPOCH={epoch!r} is not an integer") from None
    return 0 if reproducible else None


def compression_name(value: str) -> str:
    return "" if value == "none" else value


def progress_for(flag: bool | None) -> Progress:
    return Progress.auto(flag)


def print_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, sort_keys=True))
