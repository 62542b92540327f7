"""Printing fsck/validate findings, shared by the two commands."""

from __future__ import annotations

import click

from porter_image.cli.options import print_json
from porter_image.errors import ProblemsFoundError
from porter_image.layout import Problem


def report(what: str, problems: list[Problem], output_format: str) -> None:
    """Print the problems (or `ok`), then raise ProblemsFoundError when there are any."""
    if output_format == "json":
        print_json(
            {
                "object": what,
                "ok": not problems,
                "problems": [{"object": p.object, "reason": p.reason} for p in problems],
            }
        )
    elif problems:
        for problem in problems:
            click.echo(str(problem))
    else:
        click.echo(f"{what}: ok")
    if problems:
        raise ProblemsFoundError(what, len(problems))
