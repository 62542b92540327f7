"""porter build / porter image build: build an image from a Dockerfile, through the daemon."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from porter_cli.command import client


def _pairs(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """`K=V` each; with --build-arg, `K` alone takes the value from the environment."""
    result = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not key or (not sep and param.name != "build_args"):
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", ctx, param)
        if sep:
            result[key] = value
        elif key in os.environ:
            result[key] = os.environ[key]
    return result


@click.command("build")
@click.option("-t", "--tag", "tags", multiple=True, help="Name and optionally a tag (name:tag)")
@click.option("-f", "--file", "file", help="Name of the Dockerfile (default: PATH/Dockerfile)")
@click.option(
    "--build-arg", "build_args", multiple=True, callback=_pairs, help="Set build-time variables"
)
@click.option("--target", default="", help="Set the target build stage to build")
@click.option("--no-cache", is_flag=True, help="Do not use cache when building the image")
@click.option("--pull", is_flag=True, help="Always attempt to pull a newer version of the image")
@click.option("-q", "--quiet", is_flag=True, help="Suppress the build output and print image ID")
@click.option("--label", "labels", multiple=True, callback=_pairs, help="Set image metadata")
@click.option("--network", default="default", help="Networking mode for the RUN instructions")
@click.option("--platform", help="Set platform if server is multi-platform capable")
@click.option("--iidfile", help="Write the image ID to the file")
@click.option(
    "--progress",
    type=click.Choice(["auto", "plain", "tty"]),
    default="auto",
    help="Progress output: plain lines, or rewritten in place on a terminal (auto)",
)
@click.argument("context")
def command(
    tags: tuple[str, ...],
    file: str | None,
    build_args: dict[str, str],
    target: str,
    no_cache: bool,
    pull: bool,
    quiet: bool,
    labels: dict[str, str],
    network: str,
    platform: str | None,
    iidfile: str | None,
    progress: str,
    context: str,
) -> None:
    """Build an image from a Dockerfile.

    CONTEXT is a folder (sent minus what its .dockerignore leaves out), or - for a tar of
    one, or a Dockerfile alone, on stdin.
    """
    from porter_cli.client.stream import json_messages
    from porter_cli.progress import ProgressView

    chunks, dockerfile = _context(context, file)
    params: dict[str, Any] = {
        "t": list(tags),
        "dockerfile": dockerfile,
        "buildargs": build_args or None,
        "labels": labels or None,
        "target": target or None,
        "nocache": no_cache,
        "pull": pull,
        "q": quiet,
        "networkmode": network,
        "platform": platform,
        "rm": True,
    }
    headers = {"Content-Type": "application/x-tar", **_registry_config()}
    response = client().request("POST", "/build", params, data=chunks, headers=headers)
    terminal = progress == "tty" or (progress == "auto" and sys.stdout.isatty())
    view = ProgressView(sys.stdout, terminal)
    image_id = ""
    for message in json_messages(response.iter_chunks()):
        image_id = (message.get("aux") or {}).get("ID") or image_id
        if not quiet:
            view.show(message)
        elif "error" in message or "errorDetail" in message:
            view.show(message)  # raises: the build failed
    sys.stdout.flush()
    if quiet:
        click.echo(image_id)
    if iidfile:
        Path(iidfile).write_text(image_id)


def _registry_config() -> dict[str, str]:
    """X-Registry-Config with every login kept, for the daemon's pulls of FROM images."""
    from porter_cli.client.auth import registry_config_header
    from porter_cli.command import session

    auths = session().config.auths()
    return {"X-Registry-Config": registry_config_header(auths)} if auths else {}


def _context(context: str, file: str | None) -> tuple[Iterator[bytes], str | None]:
    """The chunks to send and the `dockerfile` parameter."""
    from porter_cli.errors import CliError
    from porter_cli.image import context_tar

    if context == "-":
        if file == "-":
            raise CliError(
                "invalid argument: can't use stdin for both build context and dockerfile"
            )
        stream = sys.stdin.buffer
        head = stream.peek(512)[:512] if hasattr(stream, "peek") else b""
        if context_tar.is_tar(head):
            return _stdin_chunks(stream), file
        name = context_tar.dockerfile_name()  # stdin holds a Dockerfile: a context of it alone
        data = stream.read()
        return context_tar.dockerfile_only(name, data), name
    root = Path(context)
    if not root.is_dir():
        raise CliError(f"unable to prepare context: path {context!r} not found")
    extra = None
    if file == "-":
        extra = (context_tar.dockerfile_name(), sys.stdin.buffer.read())
    elif file is not None:
        path = Path(file)
        if not path.is_file():
            raise CliError(f"unable to prepare context: the Dockerfile {file!r} is not a file")
        inside = os.path.relpath(path.resolve(), root.resolve())
        if inside.startswith(".."):
            extra = (context_tar.dockerfile_name(), path.read_bytes())
        else:
            file = inside.replace(os.sep, "/")
    elif not (root / "Dockerfile").is_file():
        raise CliError(f"unable to prepare context: no Dockerfile in {context}")
    dockerfile = extra[0] if extra else (file or "Dockerfile")
    kept = () if extra else (dockerfile,)
    file_path = None if extra else root / dockerfile
    rules = context_tar.ignore_rules(root, file_path)
    return context_tar.context_chunks(root, rules, kept, extra), dockerfile


def _stdin_chunks(stream: Any) -> Iterator[bytes]:
    while chunk := stream.read1(1 << 16):
        yield chunk
