"""Listings and inspect output in one place: docker's tables (tabwriter, three spaces between
columns), `--format json` (one JSON object per line), `--format TEMPLATE` and `table TEMPLATE`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import click

from porter_cli.formatter.template import StrictRow, Template

PADDING = 3
MIN_WIDTH = 10  # docker's tabwriter: a column is at least 10 wide, padding included


def tabulate(lines: Iterable[str]) -> str:
    """Align tab-separated cells as Go's tabwriter does with padding 3 (the last cell of a
    line is not padded)."""
    rows = [line.split("\t") for line in lines]
    widths: dict[int, int] = {}
    for row in rows:
        for index, cell in enumerate(row[:-1]):
            widths[index] = max(widths.get(index, 0), len(cell))
    out = []
    for row in rows:
        cells = [cell.ljust(max(MIN_WIDTH, widths[i] + PADDING)) for i, cell in enumerate(row[:-1])]
        out.append(("".join(cells) + row[-1]).rstrip() if row else "")
    return "\n".join(out)


def expand_escapes(text: str) -> str:
    return text.replace("\\t", "\t").replace("\\n", "\n")


def header_row(template: str, headers: Mapping[str, str]) -> str:
    """The header of a `table` template: each `{{.Field}}` replaced by its column title;
    `{{if}}` and `{{range}}` blocks (a marker after a name, say) have no title."""
    import re

    def title(match: re.Match[str]) -> str:
        field = match.group(1).split(".")[-1] if match.group(1) else ""
        return headers.get(field, field.upper())

    blocks = r"\{\{-?\s*(?:if|range)\b.*?\{\{-?\s*end\s*-?\}\}"
    template = re.sub(blocks, "", template, flags=re.S)
    return re.sub(r"\{\{-?\s*(?:\w+\s+)?\.([\w.]*)[^}]*\}\}", title, template)


def render_rows(
    rows: list[dict[str, Any]],
    format_: str | None,
    default: str,
    headers: Mapping[str, str],
) -> str:
    """A listing: the default table, `json`, a `table ...` template or a plain template."""
    spec = format_ if format_ else default
    if spec == "json":
        return "\n".join(json.dumps(row, separators=(",", ":")) for row in rows)
    spec = expand_escapes(spec)
    if spec.startswith("table"):
        body = spec[len("table") :].strip() or expand_escapes(default[len("table") :].strip())
        template = Template(body)
        lines = [header_row(body, headers)]
        lines += [template.render(StrictRow(row)) for row in rows]
        return tabulate("\n".join(lines).split("\n"))
    template = Template(spec)
    return "\n".join(template.render(StrictRow(row)) for row in rows)


def echo_rows(
    rows: list[dict[str, Any]],
    format_: str | None,
    default: str,
    headers: Mapping[str, str],
) -> None:
    text = render_rows(rows, format_, default, headers)
    if text:
        click.echo(text)


def render_inspect(objects: list[Any], format_: str | None) -> str:
    """inspect: an indented JSON array by default, `json` one object per line, else the
    template applied to each object."""
    if not format_:
        return json.dumps(objects, indent=4)
    if format_ == "json":
        return "\n".join(json.dumps(obj, separators=(",", ":")) for obj in objects)
    template = Template(expand_escapes(format_))
    return "\n".join(template.render(obj) for obj in objects)
